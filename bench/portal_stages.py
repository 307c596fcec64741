"""Where a call-history page's time goes (bench/portal.py prints it after the BENCH figures).

Wall-clock time of each stage of the timed requests, summed per request: every SQL statement by what it
reads or writes (`connection.execute_wrapper`), the selector (`cdr_list`: access check, query, masking
lookup, decryption), the template (`render`, with the call rows' tag apart), and what is left of the
request: middleware, session, authentication, the access record's write, response handling. The
instruments wrap the view module's names for the bench process only; nothing in the product changes.
"""
from __future__ import annotations

import statistics
import time
from contextlib import contextmanager
from typing import Any, Callable, Iterator

# What each statement a page sends contains, and the name the breakdown gives it (the first that matches).
# Prepared statements (voipxs/statements.py) run as EXECUTE voipxs_<kind>_<n>. The calls' read carries the
# page's access record (voipxs.privacy.audit.recorded_execute): the record counts in "sql calls" then.
_SQL_KINDS = (
    ("SELECT *, false FROM", "sql calls"),
    ("EXECUTE voipxs_own_calls_", "sql calls"),
    ("SELECT session_data", "sql session"),
    ("EXECUTE voipxs_session_read_", "sql session (+ user)"),  # with its user (accounts.sessions)
    ('SELECT "accounts_user"', "sql user+roles"),
    ("EXECUTE voipxs_user_facts_", "sql user+roles"),
    ('(SELECT "traffic_maskednumber"', "sql masking list"),
    ("EXECUTE voipxs_masking_", "sql masking list"),
    ("SET LOCAL synchronous_commit", "sql access record"),
)


class Stages:
    def __init__(self) -> None:
        self.current: dict[str, float] = {}
        self.requests: list[dict[str, float]] = []

    def add(self, name: str, seconds: float) -> None:
        self.current[name] = self.current.get(name, 0.0) + seconds

    def _timed(self, name: str, fn: Callable) -> Callable:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.add(name, time.perf_counter() - started)
        return wrapper

    def _sql(self, execute: Callable, sql: str, params: Any, many: bool, context: dict) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            kind = next((name for needle, name in _SQL_KINDS if needle in sql), "sql other")
            self.add(kind, time.perf_counter() - started)

    @contextmanager
    def instrumented(self) -> Iterator[None]:
        """The selector, the template and the row tag timed for as long as the block runs."""
        from django.db import connection
        from django.template import library

        from traffic.views import calls

        saved = calls.cdr_list, calls.render, library.SimpleNode.render
        calls.cdr_list = self._timed("selector (cdr_list)", calls.cdr_list)
        calls.render = self._timed("template", calls.render)
        library.SimpleNode.render = self._timed("  of which call rows", library.SimpleNode.render)
        try:
            with connection.execute_wrapper(self._sql):
                yield
        finally:
            calls.cdr_list, calls.render, library.SimpleNode.render = saved

    @contextmanager
    def request(self, *, keep: bool) -> Iterator[None]:
        """One timed page: its stages are kept (after the warm-up) with the page's own time."""
        self.current = {}
        started = time.perf_counter()
        yield
        self.current["page"] = time.perf_counter() - started
        if keep:
            self.requests.append(self.current)

    def report(self) -> list[str]:
        """p50 per stage, in ms, and the rest of the page (middleware, session, response) by difference."""
        seen = {name for r in self.requests for name in r} - {"page"}
        names = [n for n in _ORDER if n in seen] + sorted(seen - set(_ORDER))
        medians = {n: statistics.median([r.get(n, 0.0) for r in self.requests]) * 1000 for n in names}
        p95s = {n: _p95([r.get(n, 0.0) for r in self.requests]) * 1000 for n in names}
        page = statistics.median([r["page"] for r in self.requests]) * 1000
        sql = statistics.median([sum(v for k, v in r.items() if k.startswith("sql")) for r in self.requests]) * 1000
        rest = statistics.median([r["page"] - r.get("template", 0.0) - r.get("selector (cdr_list)", 0.0)
                                  - sum(v for k, v in r.items() if k.startswith("sql") and k not in _IN_SELECTOR)
                                  for r in self.requests]) * 1000
        lines = [f"breakdown of a page (p50 and p95 of each stage, ms; page p50 {page:.2f}):"]
        lines += [f"  {name:<28} {medians[name]:6.2f} {p95s[name]:6.2f}{'  (in the selector)' if name in _IN_SELECTOR else ''}"
                  for name in names]
        lines += [f"  {'all SQL':<28} {sql:6.2f}",
                  f"  {'rest (middleware, response)':<28} {rest:6.2f}"]
        return lines


_ORDER = ("sql session", "sql session (+ user)", "sql user+roles", "selector (cdr_list)", "sql calls",
          "sql masking list", "template", "  of which call rows", "sql access record")
_IN_SELECTOR = {"sql calls", "sql masking list"}  # sent from inside cdr_list, so counted in its time


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
