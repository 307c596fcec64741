"""`python -m bench.load --profile`: where a page's CPU goes, before tuning anything.

Each page of the load's round (call history, calls API, invoices, the history's second page) runs
through Django's WSGI handler in this process (every middleware, the session and token look-ups, the
audit write and its commit, the view, the template, the response) as the signed-in customers of the
load; first timed (CPU time of this process per request, and wall time), then under cProfile. The
profile is written to var/bench-load/pages.prof and its top entries printed.
"""
from __future__ import annotations

import cProfile
import io
import pstats
import re
import time
from pathlib import Path

from bench.load_http import PAGES, ROUND, Customer, percentile

CURSOR_RE = re.compile(rb'after=([A-Za-z0-9_\-]+)')


def _environ(path: str, customer: Customer, name: str) -> dict:
    from django.test.client import RequestFactory

    path, _, query = path.partition("?")
    extra = {"HTTP_HOST": "127.0.0.1", "SERVER_NAME": "127.0.0.1", "REMOTE_ADDR": "127.0.0.1", "QUERY_STRING": query}
    if name == "calls_api":
        extra.update(HTTP_AUTHORIZATION=f"Token {customer.token}", HTTP_ACCEPT="application/json")
    else:
        extra.update(HTTP_COOKIE=f"sessionid={customer.session_key}", HTTP_ACCEPT="text/html")
    return RequestFactory()._base_environ(PATH_INFO=path, REQUEST_METHOD="GET", **extra)


def _backend_cpu() -> float:
    """CPU seconds of the PostgreSQL server process behind this process's connection."""
    from django.db import connection

    from bench.load_server import cpu_seconds

    connection.ensure_connection()
    return cpu_seconds([connection.connection.info.backend_pid])


def _round(handler, customers: list[Customer], cursors: dict, times: dict) -> None:
    def start_response(status, headers):
        start_response.status = int(status.split()[0])

    for i, customer in enumerate(customers):
        for name in ROUND:
            path, marker = PAGES[name]
            if name == "calls_older":
                path = path.format(cursor=cursors.get(i, ""))
            pg, cpu, wall = _backend_cpu(), time.process_time(), time.perf_counter()
            body = b"".join(handler(_environ(path, customer, name), start_response))
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            times.setdefault(name, []).append((cpu * 1000, wall * 1000, (_backend_cpu() - pg) * 1000))
            if start_response.status != 200 or marker not in body:
                raise SystemExit(f"{name} answered {start_response.status}")
            if name == "calls" and (found := CURSOR_RE.search(body)):
                cursors[i] = found.group(1).decode()


def profile_pages(*, customers: list[Customer], rounds: int, out: Path, profile: bool = True) -> None:
    from django.core.handlers.wsgi import WSGIHandler

    handler = WSGIHandler()
    cursors: dict = {}
    _round(handler, customers, cursors, {})  # warm: templates, month keys, connections
    times: dict = {}
    for _ in range(rounds):
        _round(handler, customers, cursors, times)
    print(f"in-process, {rounds} rounds of {len(customers)} customers, per request: CPU of this process, "
          f"of its PostgreSQL server process (clock ticks: a mean over many requests), wall time")
    every = [t for values in times.values() for t in values]
    for name, values in sorted(times.items()) + [("all", every)]:
        cpu, wall, pg = [v[0] for v in values], [v[1] for v in values], [v[2] for v in values]
        print(f"  {name:<12} cpu p50={percentile(cpu, 0.5):6.2f} ms mean={sum(cpu) / len(cpu):6.2f} ms   "
              f"postgres mean={sum(pg) / len(pg):5.2f} ms   wall p50={percentile(wall, 0.5):6.2f} ms")
    if not profile:
        return
    profiler = cProfile.Profile(time.process_time)  # CPU time: waits for the database and the machine do not count
    profiler.enable()
    for _ in range(rounds):
        _round(handler, customers, cursors, {})
    profiler.disable()
    out.parent.mkdir(parents=True, exist_ok=True)
    profiler.dump_stats(out)
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text).strip_dirs()
    stats.sort_stats("cumulative").print_stats(45)
    stats.sort_stats("tottime").print_stats(30)
    print(text.getvalue())
    print(f"profile written to {out} (python -m pstats {out})")
