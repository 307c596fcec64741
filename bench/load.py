"""`python -m bench.load [--duration S] [--customers N] [--reuse] [--soak]`: signed-in customers under load.

1. Creates (anew, unless --reuse) the database `<DATABASE_URL's name>_load`, migrates it and seeds
   customers with a year of calls and their invoices (`bench.load_world`).
2. Starts gunicorn with the production settings (DJANGO_DEBUG=False, the real keys from .env or a
   generated set, ALLOWED_HOSTS=127.0.0.1, SECURE_SSL_REDIRECT=False because the bench talks plain
   HTTP on loopback, whitenoise with collected static files, REDIS_URL for cache and broker) on
   127.0.0.1, with the repository's gunicorn.conf.py.
3. Signs in N customers (a session cookie and an API token each) and lets all of them request, one
   request at a time each and for `--duration` seconds after a warm-up: the call history, the calls
   API, the invoices and the history's second page, in turn (`bench.load_http`).
4. Prints throughput, latency percentiles, errors, the CPU time gunicorn's processes and the
   database's server processes spent per request, and the load average, then
   `BENCH load rps=N p95_ms=X errors=N ...`.

`--soak` runs the same load for 10 minutes with CDR imports and a purge in a Celery worker meanwhile,
sampling the resident memory of gunicorn and the worker every 10 s (`bench.load_soak`).

Bounded: a deadline, a request cap (`--max-requests`), a timeout per request, loopback only. Run by
hand, never in CI.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import threading
import time
from pathlib import Path

from bench._common import ROOT, bench_database, database_migrate, database_recreate, database_use, environment_load

OUT = ROOT / "var" / "bench-load"


def production_environment(out: Path = OUT) -> None:
    """The variables a production web worker gets, before settings are read (files under `out`)."""
    os.environ["DJANGO_DEBUG"] = "False"
    os.environ["ALLOWED_HOSTS"] = "127.0.0.1"
    os.environ["SECURE_SSL_REDIRECT"] = "False"  # plain HTTP on loopback; production sits behind TLS
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.load_settings"
    os.environ["BENCH_STATIC_ROOT"] = str(out / "static")
    os.environ["PRIVATE_FILES_DIR"] = str(out / "private")
    os.environ.setdefault("PYTHONUNBUFFERED", "1")


class Sampler(threading.Thread):
    """Every second while the load runs: the CPU time of the PostgreSQL server processes serving the web
    workers' connections to the bench database (they come and go: CONN_MAX_AGE closes a connection after
    its age; during a soak the Celery worker's count too), and every 5 s
    the 1-minute load average (the machine is shared)."""

    def __init__(self, *, bench_url: str, bench_name: str) -> None:
        super().__init__(daemon=True)
        self.bench_url, self.bench_name = bench_url, bench_name
        self.loads: list[float] = []
        self.pg_first: dict[int, float] = {}
        self.pg_last: dict[int, float] = {}
        self.measuring = threading.Event()
        self.stopped = threading.Event()

    def run(self) -> None:
        import psycopg2

        from bench.load_server import cpu_seconds

        conn = psycopg2.connect(self.bench_url.replace("postgresql://", "postgres://", 1))
        conn.autocommit = True
        tick = 0
        try:
            while not self.stopped.wait(1):
                if not self.measuring.is_set():
                    continue
                with conn.cursor() as cursor:
                    # The web workers' connections; not autovacuum (it tidies up after the seeding too).
                    cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid() "
                                   "AND backend_type = 'client backend'", [self.bench_name])
                    pids = [row[0] for row in cursor.fetchall()]
                for pid in pids:
                    used = cpu_seconds([pid])
                    # A backend seen at the first sample counts from there; a later one from its start.
                    self.pg_first.setdefault(pid, used if tick == 0 else 0.0)
                    self.pg_last[pid] = used
                tick += 1
                if tick % 5 == 0:
                    self.loads.append(os.getloadavg()[0])
        finally:
            conn.close()

    def pg_cpu(self) -> float:
        return sum(self.pg_last[pid] - self.pg_first[pid] for pid in self.pg_last)


def measure(*, server, customers, args, bench_url: str, bench_name: str) -> dict:
    """Run the load against `server`; the figures of the measured window."""
    from bench.load_http import percentile, run_load
    from bench.load_server import cpu_seconds, machine_busy_seconds

    sampler = Sampler(bench_url=bench_url, bench_name=bench_name)
    sampler.start()
    load_start = os.getloadavg()[0]
    measured: dict = {}

    def at_window_start() -> None:  # the warm-up has opened the connections the workers keep
        time.sleep(args.warmup)
        measured["pids"] = server.pids()
        measured["cpu0"], measured["self0"] = cpu_seconds(measured["pids"]), time.process_time()
        measured["each0"] = {pid: cpu_seconds([pid]) for pid in measured["pids"]}
        measured["busy0"] = machine_busy_seconds()
        sampler.measuring.set()

    marker = threading.Thread(target=at_window_start, daemon=True)
    marker.start()
    results = asyncio.run(run_load(port=server.port, customers=customers, warmup_s=args.warmup,
                                   duration_s=args.duration, max_requests=args.max_requests))
    marker.join()
    cpu = cpu_seconds(measured["pids"]) - measured["cpu0"]
    per_worker = [cpu_seconds([pid]) - measured["each0"][pid] for pid in measured["pids"][1:]]
    client_cpu = time.process_time() - measured["self0"]
    busy = machine_busy_seconds() - measured["busy0"]
    sampler.stopped.set()
    sampler.join()
    n = len(results.latencies_ms)
    loads = sampler.loads or [load_start]
    return {
        "requests": n, "rps": n / args.duration, "errors": results.error_count, "error_kinds": results.errors,
        "p50": percentile(results.latencies_ms, 0.5), "p95": percentile(results.latencies_ms, 0.95),
        "p99": percentile(results.latencies_ms, 0.99), "max": max(results.latencies_ms, default=float("nan")),
        "by_page": {k: (len(v), percentile(v, 0.5), percentile(v, 0.95)) for k, v in sorted(results.by_page.items())},
        "cpu_ms": 1000 * cpu / max(n, 1), "pg_cpu_ms": 1000 * sampler.pg_cpu() / max(n, 1),
        "client_cpu_ms": 1000 * client_cpu / max(n, 1), "rps_per_cpu_s": n / cpu if cpu else float("nan"),
        "workers_cpu_share": cpu / args.duration, "pg_backends": len(sampler.pg_last),
        "per_worker_cores": [c / args.duration for c in per_worker],
        # Cores the rest of the machine kept busy meanwhile (other jobs): what this run competed with.
        "others_cores": max(0.0, busy - cpu - sampler.pg_cpu() - client_cpu) / args.duration,
        "load_mean": statistics.mean(loads), "load_max": max(loads), "load_start": load_start,
    }


def report(figures: dict, *, customers: int, label: str = "load") -> None:
    print(f"{figures['requests']:,} requests in the measured window by {customers} customers; "
          f"errors: {figures['errors']} {figures['error_kinds'] or ''}")
    for page, (count, p50, p95) in figures["by_page"].items():
        print(f"  {page:<12} n={count:<6} p50={p50:7.1f} ms  p95={p95:7.1f} ms")
    print(f"latency p50={figures['p50']:.1f} ms  p95={figures['p95']:.1f} ms  p99={figures['p99']:.1f} ms  "
          f"max={figures['max']:.1f} ms")
    print(f"CPU per request: gunicorn {figures['cpu_ms']:.2f} ms, PostgreSQL {figures['pg_cpu_ms']:.2f} ms "
          f"({figures['pg_backends']} backends), load generator {figures['client_cpu_ms']:.2f} ms; gunicorn used "
          f"{figures['workers_cpu_share']:.2f} cores (per worker: "
          f"{', '.join(f'{c:.2f}' for c in figures['per_worker_cores'])}); "
          f"{figures['rps_per_cpu_s']:.0f} requests per gunicorn CPU-second")
    print(f"load average (1 min) during the run: mean {figures['load_mean']:.2f}, max {figures['load_max']:.2f} "
          f"on {os.cpu_count()} cores (at the start {figures['load_start']:.2f}; it counts this bench's own "
          f"processes too); other processes kept {figures['others_cores']:.2f} cores busy")
    print(f"BENCH {label} rps={figures['rps']:.1f} p95_ms={figures['p95']:.0f} errors={figures['errors']} "
          f"p50_ms={figures['p50']:.0f} cpu_ms_per_req={figures['cpu_ms']:.2f} "
          f"pg_cpu_ms_per_req={figures['pg_cpu_ms']:.2f} rps_per_cpu_s={figures['rps_per_cpu_s']:.0f} "
          f"load={figures['load_mean']:.2f} others_cores={figures['others_cores']:.2f}", flush=True)


def prepare(args) -> tuple[str, str, list]:
    """Environment, database, seed, static files, signed-in customers. Returns (bench_url, bench_name,
    customers)."""
    production_environment()
    environment_load(key_file=ROOT / "var" / "bench-load.keys", keep_keys=args.reuse)
    url, bench_url, bench_name = bench_database(bench="load", suffix="_load")
    if not os.environ.get("REDIS_URL"):
        print("REDIS_URL is not set: the cache is per process and tasks run in the web worker "
              "(production has Redis; set REDIS_URL=redis://127.0.0.1:6379/N)", file=sys.stderr)
    if not args.reuse:
        database_recreate(url=url, bench_name=bench_name)
    database_use(bench_url=bench_url)

    import django

    django.setup()
    from django.core.management import call_command

    from bench.load_world import customers_sign_in, world_seed

    database_migrate()
    if not args.reuse:
        world_seed(accounts=args.accounts, rows=args.rows)
    call_command("collectstatic", interactive=False, verbosity=0)
    customers = customers_sign_in(count=args.customers)
    from django.db import connections

    connections.close_all()
    return bench_url, bench_name, customers


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=60.0, help="measured seconds (default 60; --soak 600)")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds of load before the measured window")
    parser.add_argument("--customers", type=int, default=32, help="concurrent signed-in customers (default 32)")
    parser.add_argument("--accounts", type=int, default=2000, help="customers in the database (default 2,000)")
    parser.add_argument("--rows", type=int, default=1_200_000, help="calls over 12 months (default 1,200,000)")
    parser.add_argument("--max-requests", type=int, default=200_000, help="stop after this many requests")
    parser.add_argument("--reuse", action="store_true", help="keep the seeded database of an earlier run")
    parser.add_argument("--soak", action="store_true", help="10 minutes with imports and a purge; memory samples")
    parser.add_argument("--profile", type=int, metavar="ROUNDS", default=0,
                        help="no server: profile ROUNDS rounds of the pages in-process (bench.load_profile)")
    parser.add_argument("--gunicorn", default="", help="extra gunicorn arguments, e.g. \"--workers 3\"")
    args = parser.parse_args(argv)
    if args.soak and "--duration" not in " ".join(argv or sys.argv):
        args.duration = 600.0
    if not (1 <= args.customers <= 256 and 0 < args.duration <= 3600):
        parser.error("customers 1-256, duration up to 3600 s")
    return args


def main(argv: list[str] | None = None) -> None:
    args = arguments(argv)
    bench_url, bench_name, customers = prepare(args)
    if args.profile:
        from bench.load_profile import profile_pages

        profile_pages(customers=customers, rounds=args.profile, out=OUT / "pages.prof")
        return
    from bench.load_server import Gunicorn, free_port

    env = dict(os.environ, DATABASE_URL=bench_url)
    server = Gunicorn(port=free_port(), env=env, args=args.gunicorn.split(), log_dir=OUT)
    try:
        server.wait_ready()
        print(f"gunicorn on 127.0.0.1:{server.port}, {len(server.workers())} workers "
              f"({args.gunicorn or 'gunicorn.conf.py'}); {args.customers} customers, {args.warmup:.0f} s warm-up, "
              f"{args.duration:.0f} s measured", flush=True)
        if args.soak:
            from bench.load_soak import soak

            soak(server=server, env=env, args=args, measure=lambda: measure(
                server=server, customers=customers, args=args, bench_url=bench_url, bench_name=bench_name), report=report)
        else:
            report(measure(server=server, customers=customers, args=args, bench_url=bench_url, bench_name=bench_name),
                   customers=args.customers)
    finally:
        server.stop()


if __name__ == "__main__":
    main()
