"""Statements the ORM compiles once per process, which each request then fills in with its values.

The hottest reads (a customer's call history) build the same statement on every request with other
values, and building and compiling the querysets cost more CPU than PostgreSQL spends running them.
`statement` has the ORM build its own statement once per shape (`key`: everything that changes the
SQL text, never a value), with sentinel values standing for the request's, and from then on puts each
request's values in the sentinels' places. PostgreSQL only: there the ORM passes values as they are;
SQLite's backend turns some (datetimes) into text first.
"""
from __future__ import annotations

from typing import Any, Callable, Hashable, Sequence

from django.core.exceptions import ImproperlyConfigured

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
