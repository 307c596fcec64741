"""The load generator of `bench.load`: signed-in customers requesting pages over HTTP/1.1, on loopback only.

A small asyncio client on the standard library rather than httpx or aiohttp: on a 2-core machine the
generator competes with the server for CPU, so it should cost as little as possible per request (this
one parses a status line, headers and a Content-Length body, ~0.1 ms), and it needs no package beyond
the locked requirements. Each virtual customer is one keep-alive connection (reopened whenever the
server closes it, as gunicorn's sync workers do after every answer) and sends its next request when the
previous one has been read in full: a closed loop, so concurrency is the number of customers.

Bounded: every run has a deadline and a request cap; each request has a timeout; the host is always
127.0.0.1.
"""
from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass, field

HOST = "127.0.0.1"
REQUEST_TIMEOUT_S = 30.0
CURSOR_RE = re.compile(rb'href="\?(?:[^"]*&amp;)?after=([A-Za-z0-9_\-]+)')


@dataclass(frozen=True)
class Customer:
    """A signed-in customer: the session cookie (pages) and an API token (API)."""

    session_key: str
    token: str


@dataclass
class Results:
    """What the measured window saw: one latency per answer, errors by kind, per-page latencies."""

    latencies_ms: list[float] = field(default_factory=list)
    by_page: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    started: float = 0.0
    ended: float = 0.0

    def error(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())


class Connection:
    """One keep-alive HTTP/1.1 connection to 127.0.0.1:port."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.cookies: dict[str, str] = {}  # what the server set (csrftoken), sent back as a browser would

    async def get(self, path: str, headers: str) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(HOST, self.port)
        cookies = "".join(f"; {name}={value}" for name, value in self.cookies.items())
        request = f"GET {path} HTTP/1.1\r\nHost: {HOST}\r\n{headers.format(cookies=cookies)}\r\n"
        self.writer.write(request.encode("ascii"))
        status, keep_alive, body = await self._read_response()
        if not keep_alive:
            self.close()
        return status, body

    async def _read_response(self) -> tuple[int, bool, bytes]:
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        length, keep_alive, chunked = None, True, False
        for line in lines[1:]:
            name, _, value = line.partition(":")
            name = name.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "connection":
                keep_alive = value.strip().lower() != "close"
            elif name == "transfer-encoding":
                chunked = "chunked" in value.lower()
            elif name == "set-cookie":
                cookie, _, _ = value.strip().partition(";")
                cookie_name, _, cookie_value = cookie.partition("=")
                if cookie_name != "sessionid":  # the signed-in session is the customer's own
                    self.cookies[cookie_name] = cookie_value
        if chunked:
            body = await self._read_chunked()
        elif length is not None:
            body = await self.reader.readexactly(length)
        else:
            body, keep_alive = await self.reader.read(), False
        return status, keep_alive, body

    async def _read_chunked(self) -> bytes:
        parts = []
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await self.reader.readuntil(b"\r\n")
                return b"".join(parts)
            parts.append(await self.reader.readexactly(size))
            await self.reader.readexactly(2)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


# What each page must contain to count as answered (a 200 with a login form or an empty body is an error).
PAGES = {
    "calls": ("/calls/", b"<table"),
    "calls_api": ("/api/v1/me/calls/", b'"results"'),
    "invoices": ("/calls/invoices/", b"INV-"),
    "calls_older": ("/calls/?after={cursor}", b"<table"),
}
ROUND = ("calls", "calls_api", "invoices", "calls_older")


async def customer_loop(*, port: int, customer: Customer, results: Results, measure_from: float, deadline: float,
                        budget: list[int], start_after: float = 0.0) -> None:
    """One customer: the call history, the calls API, the invoices, the history's second page, again,
    until the deadline or the shared request budget runs out. It arrives `start_after` seconds late."""
    await asyncio.sleep(start_after)
    connection = Connection(port)
    cookie = f"Cookie: sessionid={customer.session_key}{{cookies}}\r\nAccept: text/html\r\n"
    token = f"Authorization: Token {customer.token}\r\nAccept: application/json\r\n"  # no cookies: an API client
    cursor, step = None, 0
    try:
        while time.monotonic() < deadline and budget[0] > 0:
            budget[0] -= 1
            name = ROUND[step % len(ROUND)]
            step += 1
            path, marker = PAGES[name]
            if name == "calls_older":
                if cursor is None:
                    continue
                path = path.format(cursor=cursor)
            started = time.monotonic()
            try:
                status, body = await asyncio.wait_for(
                    connection.get(path, token if name == "calls_api" else cookie), REQUEST_TIMEOUT_S)
            except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError, ValueError) as exc:
                connection.close()
                if started >= measure_from:
                    results.error(f"{name}: {type(exc).__name__}")
                continue
            ended = time.monotonic()
            if name == "calls":
                found = CURSOR_RE.search(body)
                cursor = found.group(1).decode() if found else None
            if started < measure_from or ended > deadline:
                continue  # warm-up, or finished after the window closed
            if status != 200 or marker not in body:
                results.error(f"{name}: HTTP {status}")
            elapsed = (ended - started) * 1000
            results.latencies_ms.append(elapsed)
            results.by_page.setdefault(name, []).append(elapsed)
    finally:
        connection.close()


async def run_load(*, port: int, customers: list[Customer], warmup_s: float, duration_s: float,
                   max_requests: int) -> Results:
    """All customers at once for warm-up + duration seconds; only the last `duration_s` are measured."""
    results = Results()
    now = time.monotonic()
    measure_from, deadline = now + warmup_s, now + warmup_s + duration_s
    budget = [max_requests]
    results.started, results.ended = measure_from, deadline
    # Customers arrive one after another over most of the warm-up, not all in the same millisecond: each
    # keeps its connection, and gunicorn's workers share connections out as they accept them.
    spread = warmup_s * 0.8 / max(len(customers), 1)
    tasks = [customer_loop(port=port, customer=c, results=results, measure_from=measure_from, deadline=deadline,
                           budget=budget, start_after=i * spread) for i, c in enumerate(customers)]
    await asyncio.wait_for(asyncio.gather(*tasks), warmup_s + duration_s + REQUEST_TIMEOUT_S + 5)
    return results


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]
