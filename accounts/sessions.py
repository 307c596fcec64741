"""Sessions in the database (`SESSION_ENGINE`): Django's `db` backend over `accounts.models.UserSession`,
which keeps the signed-in user's id beside the session's signed data.

Every signed-in page reads its session first and its user next. On PostgreSQL both come in one prepared
statement (`accounts.backends.session_statement`: the session row joined on its user id with the user's
roles, devices and policy notice), and the user's part is handed to the authentication backend for this
request. Elsewhere (SQLite) the session is read alone and the backend reads the user itself. Everything
else (saving, cycling, expiry, clearing) is Django's own.
"""
from __future__ import annotations

from typing import Any

from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.db import connections, router
from django.utils import timezone

from voipxs.statements import execute_prepared

from .backends import session_statement, session_user_give


class SessionStore(DatabaseSessionStore):
    def __init__(self, session_key: str | None = None) -> None:
        super().__init__(session_key)
        session_user_give(None, [])  # a request's session store starts without an earlier request's user

    def _validate_session_key(self, key: str | None) -> bool:
        """Django's check (eight characters or more) and no NUL byte: a cookie carrying one (a forged or garbled
        one) is no session, as if none was sent, rather than a query PostgreSQL refuses (a 500)."""
        return bool(super()._validate_session_key(key)) and "\x00" not in key

    @classmethod
    def get_model_class(cls) -> Any:
        from .models import UserSession

        return UserSession

    def create_model_instance(self, data: dict) -> Any:
        """The row to save: Django's, with the id of the user the data names as signed in (None if none)."""
        session = super().create_model_instance(data)
        user_id = str(data.get(SESSION_KEY, ""))
        session.user_id = int(user_id) if user_id.isdigit() else None
        return session

    def load(self) -> dict:
        """The session's data if the key exists and has not expired; otherwise {} and no key (as Django)."""
        if not self.session_key:
            self._session_key = None
            return {}
        connection = connections[router.db_for_read(self.model)]
        table = connection.ops.quote_name(self.model._meta.db_table)
        stamp = connection.ops.adapt_datetimefield_value(timezone.now())
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                sql, params = session_statement(table)
                execute_prepared(cursor, ("session-read", table), sql, [*params, self.session_key, stamp])
            else:
                # Reviewed: the table name is the model's; both values are bound parameters.
                sql = f"SELECT session_data FROM {table} WHERE session_key = %s AND expire_date > %s"  # nosec B608
                cursor.execute(sql, [self.session_key, stamp])
            rows = cursor.fetchall()
        if not rows:
            self._session_key = None
            return {}
        if len(rows[0]) > 1:
            session_user_give(rows[0][1], [row[2:] for row in rows])
        return self.decode(rows[0][0])
