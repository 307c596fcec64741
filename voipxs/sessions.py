"""Sessions in the database (Django's `db` backend), read on every signed-in page in one statement
written here instead of compiled by the ORM each time (the compilation cost more than the read).
Everything else (saving, cycling, expiry, clearing) is Django's own."""
from __future__ import annotations

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.db import connections, router
from django.utils import timezone

from .statements import execute_prepared


class SessionStore(DatabaseSessionStore):
    def load(self) -> dict:
        """The session's data if the key exists and has not expired; otherwise {} and no key (as Django)."""
        if not self.session_key:
            self._session_key = None
            return {}
        connection = connections[router.db_for_read(self.model)]
        table = connection.ops.quote_name(self.model._meta.db_table)
        with connection.cursor() as cursor:
            # Reviewed: the table name is the model's; both values are bound parameters. Prepared on
            # PostgreSQL (voipxs/statements.py): every signed-in page reads its session.
            execute_prepared(cursor, ("session-read", table),
                             f"SELECT session_data FROM {table} WHERE session_key = %s AND expire_date > %s",  # nosec B608
                             [self.session_key, connection.ops.adapt_datetimefield_value(timezone.now())])
            row = cursor.fetchone()
        if row is None:
            self._session_key = None
            return {}
        return self.decode(row[0])
