"""`python -m bench.push [--duration S] [--pushers N] [--gunicorn ARGS]`: switches pushing CDRs over HTTP.

1. Creates anew the database `<DATABASE_URL's name>_push`, migrates it, and declares one FreeSWITCH
   source with a push credential (`cdr_source add ... --push`).
2. Starts gunicorn with the production settings on 127.0.0.1 (bench.load_server): the repository's
   gunicorn.conf.py (one worker per core) with 32 threads per worker, as a push receiver is deployed
   (`GUNICORN_THREADS=32`); --gunicorn overrides it.
3. N pushers (default 64; asyncio, one keep-alive HTTP/1.1 connection each, stdlib only) POST mod_json_cdr CDRs as
   FreeSWITCH sends them (form-encoded `cdr=`, values URL-encoded, HTTP basic auth), one at a time each,
   for `--duration` seconds after a warm-up; every tenth CDR is pushed a second time (a switch retrying).
4. Checks that every CDR answered 2xx is stored exactly once (and nothing else is), then prints the
   rate, latency percentiles, errors, the CPU time per CDR of gunicorn, of PostgreSQL's backends and of
   the generator itself, the load average, and
   `BENCH push cdrs_per_s=N p99_ms=X errors=N`.

Bounded: a deadline, a timeout per request, loopback only. Run by hand (`make bench-push`), never in CI.
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import io
import json
import os
import sys
import time
from urllib.parse import quote

from bench._common import ROOT, bench_database, database_migrate, database_recreate, database_use, environment_load
from bench.load import production_environment

OUT = ROOT / "var" / "bench-push"
REQUEST_TIMEOUT_S = 10.0
START = int(time.time()) - 3600  # calls of the last hour, as a live push carries (this month's partition)


# The channel variables every CDR carries alike, quoted once: the load generator shares the 2 cores with
# gunicorn and PostgreSQL, and quoting them per CDR was most of its CPU.
_CHANNEL_VARIABLES = {f"sip_h_X-Bench-{i}": quote(f"value {i} of a channel variable the switch also writes")
                      for i in range(40)}
_MARK_KEY = "bench-channel-variables"  # where they go in the document, once it is JSON
_CHANNEL_VARIABLES_QUOTED = quote(json.dumps(_CHANNEL_VARIABLES)[1:-1], safe="")


def cdr_body(uid: str, n: int) -> bytes:
    """A mod_json_cdr CDR the size of a real one (~3 KB: FreeSWITCH writes every channel variable),
    form-encoded as mod_json_cdr POSTs it with its default `encode` setting."""
    start = START + n % 3000
    variables = {
        "uuid": uid, "call_uuid": uid, "sip_call_id": quote(f"{uid}@192.0.2.10"), "direction": "inbound",
        "caller_id_number": f"020555{n % 10000:04d}", "caller_id_name": "Bench%20Caller",
        "destination_number": f"06{n % 100000000:08d}", "accountcode": "1001", "hangup_cause": "NORMAL_CLEARING",
        "start_epoch": str(start), "start_uepoch": str(start * 1_000_000), "answer_epoch": str(start + 4),
        "answer_uepoch": str((start + 4) * 1_000_000), "end_epoch": str(start + 4 + n % 600),
        "end_uepoch": str((start + 4 + n % 600) * 1_000_000), "duration": str(4 + n % 600), "billsec": str(n % 600),
        "sip_network_ip": "192.0.2.10", "sip_user_agent": "Bench%20Phone%201.0", "channel_name": quote(f"sofia/internal/{n}@192.0.2.10"),
    }
    variables[_MARK_KEY] = ""
    document = {"core-uuid": "bench", "switchname": "fs-bench", "channel_data": {"state": "CS_REPORTING"},
                "variables": variables,
                "callflow": [{"profile_index": "1", "caller_profile": {"destination_number": variables["destination_number"]}}]}
    head, tail = json.dumps(document).split(f'"{_MARK_KEY}": ""')
    return ("cdr=" + quote(head, safe="") + _CHANNEL_VARIABLES_QUOTED + quote(tail, safe="")).encode()


class Stats:
    def __init__(self) -> None:
        self.latencies: list[float] = []  # seconds, measured window only
        self.acked: set[str] = set()
        self.sent: set[str] = set()
        self.errors: dict[str, int] = {}
        self.measured = 0

    def error(self, what: str) -> None:
        self.errors[what] = self.errors.get(what, 0) + 1


async def pusher(index: int, *, port: int, auth: str, stats: Stats, window: tuple[float, float]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    seq = 0
    try:
        while time.monotonic() < window[1]:
            seq += 1
            uid = f"bench-{index}-{seq}"
            for attempt in range(2 if seq % 10 == 0 else 1):  # every tenth CDR is pushed twice
                body = cdr_body(uid, index * 1_000_000 + seq)
                head = (f"POST /calls/push/?uuid={uid} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Basic {auth}\r\n"
                        f"Content-Type: application/x-www-form-urlencoded\r\nUser-Agent: freeswitch-json/1.0\r\n"
                        f"Content-Length: {len(body)}\r\n\r\n").encode()
                stats.sent.add(uid)
                began = time.monotonic()
                try:
                    writer.write(head + body)
                    status = await asyncio.wait_for(_response(reader), REQUEST_TIMEOUT_S)
                except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, ValueError) as exc:
                    stats.error(type(exc).__name__)
                    writer.close()
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                    continue
                took = time.monotonic() - began
                if 200 <= status < 300:
                    stats.acked.add(uid)
                else:
                    stats.error(f"HTTP {status}")
                if window[0] <= began and time.monotonic() <= window[1]:
                    stats.latencies.append(took)
                    stats.measured += attempt == 0 and 200 <= status < 300
    finally:
        writer.close()


async def _response(reader: asyncio.StreamReader) -> int:
    status_line = await reader.readline()
    status = int(status_line.split()[1])
    length = 0
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.decode("latin-1").partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    if length:
        await reader.readexactly(length)
    return status


async def load(*, port: int, auth: str, pushers: int, warmup: float, duration: float) -> tuple[Stats, float]:
    stats = Stats()
    now = time.monotonic()
    window = (now + warmup, now + warmup + duration)
    await asyncio.gather(*(pusher(i, port=port, auth=auth, stats=stats, window=window) for i in range(pushers)))
    return stats, duration


def stored_check(stats: Stats) -> tuple[int, int, int]:
    """(stored rows, unique ids stored more than once, acknowledged ids missing) for the bench source."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT unique_id, count(*) FROM traffic_cdr WHERE unique_id LIKE 'bench-%%' GROUP BY unique_id")
        counts = dict(cursor.fetchall())
    doubled = sum(1 for n in counts.values() if n > 1)
    missing = len(stats.acked - counts.keys())
    strays = len(counts.keys() - stats.sent)
    return sum(counts.values()), doubled, missing + strays


def prepare() -> tuple[str, str]:
    """Environment, database, a source with a push credential. Returns (bench_url, basic auth token)."""
    production_environment(OUT)
    environment_load(key_file=ROOT / "var" / "bench-push.keys")
    url, bench_url, bench_name = bench_database(bench="push", suffix="_push")
    database_recreate(url=url, bench_name=bench_name)
    database_use(bench_url=bench_url)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    database_migrate()
    out = io.StringIO()
    call_command("cdr_source", "add", "fs-bench", "--format", "freeswitch-json", "--timezone", "Europe/Amsterdam",
                 "--push", stdout=out)
    creds = json.loads(out.getvalue().strip().splitlines()[-1])
    connections.close_all()
    return bench_url, base64.b64encode(f"{creds['username']}:{creds['password']}".encode()).decode()


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=20.0, help="measured seconds (default 20)")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of pushing before the measured window")
    parser.add_argument("--pushers", type=int, default=64, help="concurrent pushers (default 64)")
    # A push spends most of its time waiting for the group commit, not on the CPU: 32 threads per
    # worker let each worker's committer write up to 32 pushes per transaction (the pages' 4 give
    # groups of 4 and a third of the rate; BENCHMARKS.md "Push").
    parser.add_argument("--gunicorn", default="--threads 32",
                        help="gunicorn arguments over gunicorn.conf.py (default \"--threads 32\")")
    args = parser.parse_args(argv)
    if not (1 <= args.pushers <= 256 and 0 < args.duration <= 600):
        parser.error("pushers 1-256, duration up to 600 s")
    return args


def main(argv: list[str] | None = None) -> None:
    args = arguments(argv)
    bench_url, auth = prepare()
    from bench.load_server import Gunicorn, cpu_seconds, free_port

    env = dict(os.environ, DATABASE_URL=bench_url)
    server = Gunicorn(port=free_port(), env=env, args=args.gunicorn.split(), log_dir=OUT)
    try:
        server.wait_ready()
        print(f"gunicorn on 127.0.0.1:{server.port}, {len(server.workers())} workers ({args.gunicorn or 'gunicorn.conf.py'}); "
              f"{args.pushers} pushers, {args.warmup:.0f} s warm-up, {args.duration:.0f} s measured", flush=True)
        cpu_before, pg_before, own_before = cpu_seconds(server.pids()), postgres_cpu(), time.process_time()
        stats, duration = asyncio.run(load(port=server.port, auth=auth, pushers=args.pushers, warmup=args.warmup,
                                           duration=args.duration))
        cpu = cpu_seconds(server.pids()) - cpu_before
        pg_cpu, own_cpu = postgres_cpu() - pg_before, time.process_time() - own_before
    finally:
        server.stop()
    rows, doubled, missing = stored_check(stats)
    report(stats, duration=duration, cpu=cpu, rows=rows, doubled=doubled, missing=missing)
    acked = max(1, len(stats.acked))
    print(f"CPU per CDR: gunicorn {cpu / acked * 1000:.2f} ms + postgres backends {pg_cpu / acked * 1000:.2f} ms "
          f"= {(cpu + pg_cpu) / acked * 1000:.2f} ms; load generator {own_cpu / acked * 1000:.2f} ms (not counted)")


def postgres_cpu() -> float:
    """CPU seconds of the PostgreSQL backends serving the bench database (gunicorn's connections, which
    live as long as the run: CONN_MAX_AGE), this process's own connection left out. A backend that
    started during the run counts from its start. The WAL writer and checkpointer are not counted."""
    from django.db import connection

    from bench.load_server import cpu_seconds

    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
        pids = [row[0] for row in cursor.fetchall()]
    return cpu_seconds(pids)


def report(stats: Stats, *, duration: float, cpu: float, rows: int, doubled: int, missing: int) -> None:
    latencies = sorted(stats.latencies) or [0.0]
    p = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000  # noqa: E731
    rate = stats.measured / duration
    errors = sum(stats.errors.values()) + doubled + missing
    print(f"pushed {len(stats.sent)} distinct CDRs ({len(stats.acked)} acknowledged), stored {rows} rows; "
          f"stored twice: {doubled}; acknowledged but missing or stored unsent: {missing}")
    print(f"measured: {stats.measured} new CDRs in {duration:.0f} s = {rate:.0f}/s; requests {len(stats.latencies)} "
          f"(retries included); latency p50 {p(0.50):.1f} ms, p95 {p(0.95):.1f} ms, p99 {p(0.99):.1f} ms, "
          f"max {latencies[-1] * 1000:.1f} ms; errors {dict(stats.errors) or 0}")
    print(f"gunicorn CPU {cpu:.1f} s ({cpu / max(1, len(stats.acked)) * 1000:.2f} ms per CDR); "
          f"load average {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print(f"BENCH push cdrs_per_s={rate:.0f} p99_ms={p(0.99):.1f} errors={errors}")
    if doubled or missing:
        sys.exit("a pushed CDR was stored twice, or an acknowledged one is missing")


if __name__ == "__main__":
    main()
