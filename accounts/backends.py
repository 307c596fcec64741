"""The authentication backend: Django's ModelBackend, with the signed-in user of every page read in
ONE query together with what every page asks about them next.

Each page asked three questions of the database before its view ran: the session's user (ModelBackend),
their roles and second-factor devices (accounts.middleware), and the policy change they have yet to see
(the notice on every portal page). `get_user` asks all three at once; the answers are remembered on the
user object for this request only (the next request reads afresh, so a role taken away takes effect
at once)."""
from __future__ import annotations

import contextvars
from functools import cache
from typing import Callable

from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.db.models import Exists, F, OuterRef
from django_otp import device_classes

from voipxs.privacy.purposes import roles_forget, roles_remember
from voipxs.statements import execute_prepared, parameter_inlined

from .dsr.policy import policy_notice_remember, policy_notice_subquery
from .models import User

_USER_ID = -7_300_013  # stands for the user's id while the statement is compiled


def _query(user_id: int, *, with_user: bool):
    """(the query of the user's row per role, with the devices and the notice; the user's fields first)."""
    devices = {f"device_{i}": Exists(model.objects.filter(user_id=OuterRef("pk"), confirmed=True))
               for i, model in enumerate(device_classes())}
    fields = [f.attname for f in User._meta.concrete_fields] if with_user else []
    return (User.objects.filter(pk=user_id)
            .annotate(**devices, policy_notice=policy_notice_subquery(), role_name=F("groups__name"))
            .values_list(*fields, "role_name", *devices, "policy_notice")), fields


@cache
def _statement(with_user: bool) -> tuple[str, tuple, int, list[str]]:
    """The statement, compiled by the ORM once per process (the models and the database are fixed once the apps
    are loaded), for compiling it costs ten times what running it does: (sql, its parameters, the position of the
    user's id among them, the user's field names it reads first)."""
    return _compiled(with_user)[:4]


@cache
def _compiled(with_user: bool) -> tuple[str, tuple, int, list[str], Callable[[list[tuple]], list[tuple]]]:
    """`_statement`, and how to turn its rows into Python values: PostgreSQL's driver returns every column as
    Python wants it; SQLite's rows need the ORM's converters (dates, booleans), taken from the same compile."""
    query, fields = _query(_USER_ID, with_user=with_user)
    compiler = query.query.get_compiler(connection.alias)
    sql, params = compiler.as_sql()
    if params.count(_USER_ID) != 1:  # the id must be one parameter, or the statement is not what it seems
        raise ImproperlyConfigured(f"unexpected parameters {params!r} in the signed-in user's query")
    converters = {} if connection.vendor == "postgresql" else compiler.get_converters(
        [column for column, *_rest in compiler.select[:compiler.col_count]])

    def convert(rows: list[tuple]) -> list[tuple]:
        return [tuple(row) for row in compiler.apply_converters(rows, converters)] if converters else rows

    return sql, tuple(params), params.index(_USER_ID), fields, convert


def _rows(user_id: int, *, with_user: bool) -> tuple[list[tuple], list[str]]:
    sql, params, at, fields, convert = _compiled(with_user)
    with connection.cursor() as cursor:
        arguments = [*params[:at], user_id, *params[at + 1:]]
        if connection.vendor == "postgresql":
            execute_prepared(cursor, ("user-facts", with_user), sql, arguments)
        else:
            cursor.execute(sql, arguments)
        return convert(cursor.fetchall()), fields


# --- the session's read brings its user along ------------------------------------------------------------
# A signed-in page read its session, then its user: two round trips before the view. On PostgreSQL the
# session store (accounts.sessions) reads both in one statement, joined on the session's user id, and hands
# the user's rows to `get_user` below for this request only: they are taken once, for the user id the
# session names, and each request's session store starts without any.

_session_user: contextvars.ContextVar[tuple[int, list[tuple]] | None] = contextvars.ContextVar(
    "session_user", default=None)


@cache
def session_statement(table: str) -> tuple[str, tuple]:
    """(sql, its parameters before the session key and the time): the session row of a key, unexpired,
    with its user id and that user's rows as `_statement(True)` reads them (NULLs: no user)."""
    sql, params, at, _fields = _statement(True)
    facts = parameter_inlined(sql, at, "s.user_id")
    # Reviewed: the table is the session model's and `facts` the ORM's own statement; values are parameters.
    joined = (f"SELECT s.session_data, s.user_id, u.* FROM {table} s "  # nosec B608
              f"LEFT JOIN LATERAL ({facts}) u ON true WHERE s.session_key = %s AND s.expire_date > %s")
    return joined, (*params[:at], *params[at + 1:])


def session_user_give(user_id: int | None, rows: list[tuple]) -> None:
    """What the session's read found of its user (rows without the session's two columns), or nothing."""
    _session_user.set((user_id, rows) if user_id is not None and rows and rows[0][0] is not None else None)


def _session_user_take(user_id: int) -> list[tuple] | None:
    given = _session_user.get()
    if given is None:
        return None
    _session_user.set(None)
    return given[1] if given[0] == user_id else None


def _read(user_id: int, *, with_user: bool) -> tuple[User | None, frozenset[str], bool, int | None] | None:
    """(user or None, roles, has a confirmed device, unseen policy version id), or None: no such user."""
    given = _session_user_take(user_id) if with_user else None
    rows, fields = (given, _statement(True)[3]) if given is not None else _rows(user_id, with_user=with_user)
    if not rows:
        return None
    first, n = rows[0], len(fields)
    user = User.from_db(connection.alias, fields, first[:n]) if with_user else None
    roles = frozenset(row[n] for row in rows if row[n] is not None)
    return user, roles, any(first[n + 1:-1]), first[-1]


def user_facts_remember(user: User, roles: frozenset[str], notice: int | None) -> None:
    roles_remember(user, roles)
    policy_notice_remember(user, notice)


def user_facts_forget(user) -> None:
    """After a change of the user's roles or devices in this request: the next question reads afresh."""
    if getattr(user, "_voipxs_has_device", None) is not None:
        delattr(user, "_voipxs_has_device")
    roles_forget(user)


def user_facts_read(user: User) -> tuple[frozenset[str], bool] | None:
    """(roles, has a confirmed device) of a user read elsewhere (an API token's), the roles and the
    notice remembered as above; None if the account row is gone."""
    found = _read(user.pk, with_user=False)
    if found is None:
        return None
    _none, roles, has_device, notice = found
    user_facts_remember(user, roles, notice)
    return roles, has_device


class UserBackend(ModelBackend):
    """ModelBackend (passwords, permissions, `is_active`), reading a session's user as the module says."""

    def get_user(self, user_id):
        try:
            found = _read(int(user_id), with_user=True)
        except (TypeError, ValueError):
            return None
        if found is None:
            return None
        user, roles, has_device, notice = found
        user_facts_remember(user, roles, notice)
        user._voipxs_has_device = has_device  # for the middleware's check, once (accounts.middleware)
        return user if self.user_can_authenticate(user) else None
