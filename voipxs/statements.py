"""Statements the ORM compiles once per process, which each request then fills in with its values.

The hottest reads (a customer's call history) build the same statement on every request with other
values, and building and compiling the querysets cost more CPU than PostgreSQL spends running them.
`statement` has the ORM build its own statement once per shape (`key`: everything that changes the
SQL text, never a value), with sentinel values standing for the request's, and from then on puts each
request's values in the sentinels' places. PostgreSQL only: there the ORM passes values as they are;
SQLite's backend turns some (datetimes) into text first.
"""
from __future__ import annotations

import itertools
import logging
import re
import weakref
from typing import Any, Callable, Hashable, Sequence

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, transaction

logger = logging.getLogger(__name__)

_compiled: dict[Hashable, tuple[str, tuple, tuple[tuple[int, ...], ...]]] = {}


def statement(key: Hashable, build: Callable[..., tuple[str, Sequence]], sentinels: Sequence,
              values: Sequence) -> tuple[str, list[Any]]:
    """(sql, params) of `build(*values)`, compiled as `build(*sentinels)` the first time `key` is asked.
    Each sentinel must be a value no request uses, and must reach the statement as a parameter."""
    entry = _compiled.get(key)
    if entry is None:
        sql, params = build(*sentinels)
        params = tuple(params)
        places = tuple(tuple(i for i, p in enumerate(params) if type(p) is type(s) and p == s) for s in sentinels)
        if not all(places) or len({i for found in places for i in found}) != sum(map(len, places)):
            raise ImproperlyConfigured(f"a value of the statement {key!r} is not one parameter of its own")
        entry = _compiled[key] = (sql, params, places)
    sql, params, places = entry
    filled = list(params)
    for value, found in zip(values, places, strict=True):
        for i in found:
            filled[i] = value
    return sql, filled


# --- server-side prepared statements ----------------------------------------------------------------------
# Planning these statements costs PostgreSQL more than running them: measured on the 10-million-call bench
# database, the call history's statement ran in 1.22 ms planned each time and 0.51 ms prepared, the signed-in
# user's in 0.38 and 0.14 ms. `execute_prepared` PREPAREs a statement once per database connection (a
# prepared statement lives as long as its session) and EXECUTEs it from then on. A statement PostgreSQL
# cannot prepare (a parameter whose type it cannot infer) is run as before, and never tried again.
# Behind a pooler in transaction mode (PgBouncer), where consecutive transactions may use other server
# sessions, set DATABASE_PREPARED_STATEMENTS=False.

_prepared: weakref.WeakKeyDictionary[Any, dict[Hashable, str]] = weakref.WeakKeyDictionary()
_unpreparable: set[Hashable] = set()
_PLACEHOLDER = re.compile(r"%([%s])")


def connection_prepare(sender: Any, connection: Any, **kwargs: Any) -> None:
    """A new PostgreSQL session runs its prepared statements with their generic plan, planned once. The
    default (`auto`) keeps planning the call history's next page for every request (its generic plan is
    estimated dearer than it runs: 1.4-2.1 ms planned each time, 0.6 ms generic, on the bench database).
    Only prepared statements follow this setting, and only `execute_prepared` prepares any."""
    if connection.vendor == "postgresql" and settings.DATABASE_PREPARED_STATEMENTS:
        with connection.cursor() as cursor:
            cursor.execute("SET plan_cache_mode = force_generic_plan")


def parameter_inlined(sql: str, at: int, expression: str) -> str:
    """The statement with its `at`-th parameter (from 0) replaced by an SQL expression (a column of an
    outer query it becomes part of); the other parameters stay as they were."""
    count = itertools.count()
    return _PLACEHOLDER.sub(lambda m: m.group(0) if m.group(1) == "%" or next(count) != at else expression, sql)


def _numbered(sql: str) -> str:
    """The statement with PostgreSQL's $1, $2 ... for the driver's %s (and %% as the % it stands for)."""
    count = itertools.count(1)
    return _PLACEHOLDER.sub(lambda m: "%" if m.group(1) == "%" else f"${next(count)}", sql)


def execute_prepared(cursor: Any, key: Hashable, sql: str, params: Sequence,
                     execute: Callable[[str, Sequence], None] | None = None) -> None:
    """`cursor.execute(sql, params)`, as a prepared statement of the cursor's connection on PostgreSQL.
    `key` names the statement's shape (the same SQL text for the same key, as `statement` keys it).
    `execute`: what sends the statement in place of `cursor.execute` (voipxs.privacy.audit.recorded_execute)."""
    execute = execute or cursor.execute
    if cursor.db.vendor != "postgresql" or key in _unpreparable or not settings.DATABASE_PREPARED_STATEMENTS:
        execute(sql, params)
        return
    cursor.db.ensure_connection()
    names = _prepared.setdefault(cursor.db.connection, {})
    name = names.get(key)
    if name is None:
        kind = re.sub(r"\W", "_", str(key[0] if isinstance(key, tuple) else key))
        name = f"voipxs_{kind}_{len(names)}"  # what it is, for pg_prepared_statements and a bench's breakdown
        try:
            with transaction.atomic(using=cursor.db.alias):  # a savepoint: a refusal leaves the request's transaction whole
                cursor.execute(f"PREPARE {name} AS {_numbered(sql)}")
        except DatabaseError as exc:
            _unpreparable.add(key)
            logger.warning("statement %r cannot be prepared (%s); it is planned on every run", key, type(exc).__name__)
            execute(sql, params)
            return
        names[key] = name
    execute(f"EXECUTE {name}({', '.join(['%s'] * len(params))})" if params else f"EXECUTE {name}", params)
