"""`python -m bench.load --soak`: the load for 10 minutes while a Celery worker imports CDR files and runs
the purge, with the resident memory of gunicorn and of the worker sampled every 10 s.

Meanwhile, as production would have them: a CDR file of `IMPORT_ROWS` calls of the bench's customers
(their own numbers, the last 30 days) uploaded through the upload service (so the worker runs the real
import task), two at the start (one for each of the worker's two pool processes) and then one every
`IMPORT_EVERY_S` seconds; the daily purge task sent at 30 s and again every `PURGE_EVERY_S` (the first
removes the settled months, as the 03:00 run would); the audit sealer every 10 s (beat's schedule).

Memory is "flat" when the peak of the last minute is at most `FLAT_TOLERANCE` above the peak of the
first minute, for the web workers and for the Celery worker alike. Peaks, not means: an import raises
a pool process's resident set to its working size and Python keeps that memory for the next import, so
the first minute's mean would still hold the samples from before the first import; by the end of the
first minute every pool process has run an import, and a leak shows as peaks that keep climbing.
"""
from __future__ import annotations

import io
import os
import random
import signal
import statistics
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from bench._common import ROOT
from bench.load_server import children, rss_mb

IMPORT_ROWS = 100_000
IMPORT_EVERY_S = 90
PURGE_FIRST_S, PURGE_EVERY_S = 30, 300
SAMPLE_EVERY_S = 10
FLAT_TOLERANCE = 0.10  # last minute at most 10 % above the first


class Worker:
    """`celery -A voipxs worker` on the bench database, stopped for sure at the end."""

    def __init__(self, *, env: dict[str, str], log_dir: Path) -> None:
        self.log = open(log_dir / "celery.log", "wb")  # noqa: SIM115 - closed in stop()
        command = [str(Path(sys.executable).with_name("celery")), "-A", "voipxs", "worker", "--loglevel=WARNING",
                   "--concurrency", "2", "--hostname", f"bench-load-{os.getpid()}@%h"]
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                        start_new_session=True)

    def pids(self) -> list[int]:
        return [self.process.pid, *children(self.process.pid)]

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()


def cdr_file(*, rows: int, seed: int) -> bytes:
    """Asterisk cdr_csv rows between the bench's customers' own numbers and others, the last 30 days."""
    from bench.load_world import own_number

    rnd = random.Random(seed)
    accounts = 2000
    end = datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(hours=1)
    out = io.StringIO()
    for i in range(rows):
        own = own_number(rnd.randrange(accounts * 5))
        other = f"06{10_000_000 + rnd.randrange(80_000_000):08d}"
        src, dst = (own, other) if rnd.random() < 0.7 else (other, own)
        start = end - timedelta(seconds=rnd.randrange(30 * 86400))
        billsec = rnd.randrange(0, 600)
        answer = (start + timedelta(seconds=5)).strftime("%Y-%m-%d %H:%M:%S") if billsec else ""
        stop = (start + timedelta(seconds=5 + billsec)).strftime("%Y-%m-%d %H:%M:%S")
        out.write(f'"","{src}","{dst}","from-internal","""Caller {i % 997}"" <{src}>","SIP/t-{i:08x}","SIP/p-{i:08x}",'
                  f'"Dial","SIP/{dst}@trunk,60","{start:%Y-%m-%d %H:%M:%S}","{answer}","{stop}",{billsec + 5},{billsec},'
                  f'"{"ANSWERED" if billsec else "NO ANSWER"}","DOCUMENTATION","soak{seed}-{i}",""\n')
    return out.getvalue().encode()


class Background(threading.Thread):
    """Imports, purges, the sealer and the memory samples, on a clock, until stopped."""

    def __init__(self, *, server, worker: Worker, duration_s: float, files: list[Path]) -> None:
        super().__init__(daemon=True)
        self.server, self.worker, self.duration_s, self.files = server, worker, duration_s, files
        self.samples: list[tuple[float, float, float, float]] = []  # (t, gunicorn MB, max worker MB, celery MB)
        self.imports: list[int] = []
        self.purges = 0
        self.failures: list[str] = []
        self.stopped = threading.Event()

    def run(self) -> None:
        from django.db import connections

        started = time.monotonic()
        next_import, next_purge, next_seal, next_sample = 5.0, float(PURGE_FIRST_S), 10.0, 0.0
        try:
            self._import(0)  # the first of the two opening imports; the second follows at 5 s
            while not self.stopped.wait(1):
                t = time.monotonic() - started
                if t >= next_sample:
                    self._sample(t)
                    next_sample += SAMPLE_EVERY_S
                if t >= next_import and t < self.duration_s - 60 and len(self.imports) < len(self.files):
                    self._import(len(self.imports))
                    next_import += IMPORT_EVERY_S
                if t >= next_purge:
                    self._send("retention.tasks.purge_expired_task")
                    self.purges += 1
                    next_purge += PURGE_EVERY_S
                if t >= next_seal:
                    self._send("voipxs.tasks.audit_seal")
                    next_seal += 10
        except Exception as exc:  # noqa: BLE001 - reported with the results, the load goes on
            self.failures.append(f"{type(exc).__name__}: {exc}")
        finally:
            connections.close_all()

    def _sample(self, t: float) -> None:
        workers = [rss_mb(pid) for pid in self.server.workers()]
        celery = sum(rss_mb(pid) for pid in self.worker.pids())
        self.samples.append((t, rss_mb(self.server.process.pid) + sum(workers), max(workers, default=0), celery))

    def _import(self, n: int) -> None:
        from traffic.models import Source
        from traffic.services.imports import cdr_import_upload

        source, _ = Source.objects.get_or_create(name=f"soak-pbx-{n}", defaults={
            "format": "asterisk-csv", "timezone": "Europe/Amsterdam", "carrier": "soak trunk"})
        with open(self.files[n], "rb") as upload:
            self.imports.append(cdr_import_upload(source=source, upload=upload, file_name=f"soak-{n}.csv").pk)

    @staticmethod
    def _send(task: str) -> None:
        from voipxs.celery import app

        app.send_task(task)


def _window_mb(samples: list, *, column: int, since: float, until: float) -> tuple[float, float]:
    """(mean, peak) of one column over samples taken in [since, until)."""
    values = [s[column] for s in samples if since <= s[0] < until] or [float("nan")]
    return statistics.mean(values), max(values)


def memory_report(samples: list, *, duration_s: float) -> bool:
    """Print the samples and whether memory stayed flat (first minute against the last)."""
    print("memory (MB): t_s  gunicorn_total  largest_web_worker  celery_total")
    for t, total, largest, celery in samples:
        print(f"  {t:5.0f}  {total:8.1f}  {largest:8.1f}  {celery:8.1f}")
    flat = True
    for column, name in ((1, "gunicorn"), (3, "celery")):
        first_mean, first_peak = _window_mb(samples, column=column, since=0, until=60)
        last_mean, last_peak = _window_mb(samples, column=column, since=duration_s - 60, until=duration_s + 30)
        ok = last_peak <= first_peak * (1 + FLAT_TOLERANCE)
        flat &= ok
        print(f"{name}: peak {first_peak:.0f} MB in the first minute, {last_peak:.0f} MB in the last "
              f"({100 * (last_peak / first_peak - 1):+.1f} %); means {first_mean:.0f} and {last_mean:.0f} MB; "
              f"highest sample {max(s[column] for s in samples):.0f} MB: {'flat' if ok else 'GROWING'}")
    return flat


def work_report(background: Background) -> tuple[int, int]:
    """What the worker got done: imports by state, purge runs by state."""
    from retention.models import PurgeRun
    from traffic.models import CdrImport

    imports = list(CdrImport.objects.filter(pk__in=background.imports).values_list("status", "imported"))
    done = [n for status, n in imports if status == CdrImport.Status.DONE]
    print(f"imports: {len(done)} of {len(imports)} done ({sum(done):,} calls stored), states "
          f"{sorted(status for status, _ in imports)}")
    runs = list(PurgeRun.objects.filter(dry_run=False).values_list("status", flat=True))
    print(f"purge runs (not dry): {len(runs)}, states {sorted(runs)}; background failures: {background.failures or 'none'}")
    return len(done), len(runs)


def soak(*, server, env: dict[str, str], args, measure, report) -> None:
    from bench.load import OUT

    # The files are written before the load starts: making them in the load generator's process while it
    # measures would hold its interpreter and add to the latencies it records.
    files = []
    for n in range(2 + int(args.duration // IMPORT_EVERY_S)):
        files.append(OUT / f"soak-{n}.csv")
        files[-1].write_bytes(cdr_file(rows=IMPORT_ROWS, seed=1000 + n))
    worker = Worker(env=env, log_dir=OUT)
    background = Background(server=server, worker=worker, duration_s=args.duration + args.warmup, files=files)
    try:
        time.sleep(5)  # the worker connects to the broker
        background.start()
        figures = measure()
        background.stopped.set()
        background.join(timeout=30)
        report(figures, customers=args.customers, label="soak-load")
        flat = memory_report(background.samples, duration_s=args.duration + args.warmup)
        done, purges = work_report(background)
        print(f"BENCH soak minutes={args.duration / 60:.0f} rps={figures['rps']:.1f} p95_ms={figures['p95']:.0f} "
              f"errors={figures['errors']} imports_done={done} purges={purges} memory_flat={'yes' if flat else 'no'}",
              flush=True)
    finally:
        background.stopped.set()
        worker.stop()
        for path in files:
            path.unlink(missing_ok=True)
