"""`python -m bench.ingest [--rows N]`: CDR ingest end to end against raw COPY, on PostgreSQL.

1. Creates (anew) the database `<DATABASE_URL's name>_bench` and migrates it.
2. Seeds 10,000 own numbers (1,000 accounts) and a small tariff table; writes N synthetic Asterisk
   cdr_csv rows (18 columns, quoted caller names) to a temporary file, numbers drawn from the own
   pool and from 200,000 other numbers.
3. Times `cdr_bulk_import` on that file (parse, normalise, attribute, rate, encrypt, COPY: ours) once
   per `--procs` value, into an empty traffic_cdr each time: by default prepared in the importing
   process (0), then by a pool of 1 and of 2 preparing processes (traffic/ingest/parallel.py), each
   with the CPU seconds of each stage (importing process, preparers, writer thread, PostgreSQL).
4. Exports the rows it just stored as COPY text and times a plain `COPY ... FROM STDIN` of them into
   `bench_copy`, a table of the same shape (LIKE traffic_cdr INCLUDING ALL, same monthly partitions):
   the baseline `ratio` is measured against; then of the CDRs and their technical rows, everything an
   import stores (`ratio_all`).
5. Times the preparation alone (chunks prepared by 1, then 2 processes, nothing stored): how it
   scales apart from what PostgreSQL's COPY allows on the same machine.
6. Prints the rates, the ratio of the last run to raw COPY and to the 1-process run, and peak RSS:
   `BENCH ingest procs=2 ours_rows_per_s=N copy_rows_per_s=N ratio=X copy_all_rows_per_s=N ratio_all=X
   procs1_rows_per_s=N scaling=X
   serial_rows_per_s=N main_cpu=S prepare_cpu=S writer_cpu=S postgres_cpu=S prepare_alone_1=N
   prepare_alone_2=N prepare_scaling=X peak_mb=N`.
"""
from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from bench._common import (bench_database, current_rss_mb, database_migrate, database_recreate, database_use,
                           environment_load, peak_rss_mb)

OWN_NUMBERS = 10_000
OTHER_NUMBERS = 200_000
ACCOUNTS = 1_000
MONTH_START = datetime(2026, 3, 1)
SPAN_SECONDS = 59 * 24 * 3600  # March and April


def _own_number(i: int) -> str:
    return f"0{20 + i % 60}{5_000_000 + i:07d}"  # national format, as a switch writes it


def _other_number(i: int) -> str:
    kind = i % 10
    if kind < 6:
        return f"06{10_000_000 + i:08d}"  # NL mobile
    if kind < 8:
        return f"0{30 + i % 40}{2_000_000 + i:07d}"  # NL geographic
    if kind == 8:
        return f"0044{7_700_000_000 + i}"  # UK mobile
    return f"0049{30_000_000 + i}"  # Berlin


def write_rows(path: Path, rows: int, seed: int = 7) -> None:
    """N Asterisk cdr_csv rows (18 columns) with a realistic mix: 70 % outgoing, 25 % incoming,
    5 % internal; 80 % answered."""
    rnd = random.Random(seed)
    dispositions = ["ANSWERED"] * 8 + ["NO ANSWER", "BUSY"]
    base = MONTH_START
    with open(path, "w", encoding="utf-8", newline="") as out:
        write = out.write
        for i in range(rows):
            own = _own_number(rnd.randrange(OWN_NUMBERS))
            other = _other_number(rnd.randrange(OTHER_NUMBERS))
            kind = rnd.random()
            if kind < 0.70:
                src, dst = own, other
            elif kind < 0.95:
                src, dst = other, own
            else:
                src, dst = own, _own_number(rnd.randrange(OWN_NUMBERS))
            start = base + timedelta(seconds=i * SPAN_SECONDS // rows)
            disposition = dispositions[i % 10]
            duration = rnd.randrange(5, 900)
            billsec = max(duration - rnd.randrange(1, 5), 0) if disposition == "ANSWERED" else 0
            answer = (start + timedelta(seconds=duration - billsec)).strftime("%Y-%m-%d %H:%M:%S") if billsec else ""
            end = (start + timedelta(seconds=duration)).strftime("%Y-%m-%d %H:%M:%S")
            write(
                f'"","{src}","{dst}","from-internal","""Caller {i % 997}"" <{src}>","SIP/trunk-{i:08x}",'
                f'"SIP/peer-{i:08x}","Dial","SIP/{dst}@trunk,60","{start:%Y-%m-%d %H:%M:%S}","{answer}","{end}",'
                f'{duration},{billsec},"{disposition}","DOCUMENTATION","{1772323200 + i}.{i % 1000}",""\n'
            )


def seed_world() -> "object":
    from datetime import date
    from decimal import Decimal

    from accounts.models import Contractor, PhoneNumber, User
    from traffic.models import Tariff
    from traffic.services.sources import source_create
    from voipxs.privacy.phone import normalize_e164

    contractor = Contractor.objects.create(name="Bench BV")
    users = User.objects.bulk_create([
        User(username=f"bench{i}", contractor=contractor if i % 2 else None, password="!") for i in range(ACCOUNTS)
    ])
    valid_from = datetime(2020, 1, 1).astimezone()
    PhoneNumber.objects.bulk_create([
        PhoneNumber(user=users[i % ACCOUNTS], number=normalize_e164(_own_number(i), "NL"), valid_from=valid_from)
        for i in range(OWN_NUMBERS)
    ], batch_size=2000)
    tariffs = [("31", "NL fixed", "0.02"), ("316", "NL mobile", "0.08"), ("3120", "NL Amsterdam", "0.015"),
               ("44", "UK", "0.05"), ("447", "UK mobile", "0.12"), ("49", "Germany", "0.04"),
               # Not Berlin's 4930: German fixed numbers may have 5 digits, so it would name too few (LEGAL row 3).
               ("4917", "Germany mobile", "0.09")]
    Tariff.objects.bulk_create([
        Tariff(prefix=p, zone=z, price_per_minute=Decimal(ppm), setup_fee=Decimal("0.01"), increment_first=30,
               increment_next=6, valid_from=date(2020, 1, 1)) for p, z, ppm in tariffs
    ])
    return source_create(name="bench-pbx", format="asterisk-csv", timezone="Europe/Amsterdam")


def copy_baseline(rows_file: Path) -> dict:
    """COPY the ready-made rows into tables of the same shape (indexes, partitions): the CDRs alone
    into bench_copy (the baseline of issue 3 and issue 15's targets), then the CDRs and their
    technical rows, what an import stores (bench_copy_all and bench_copy_all_technical)."""
    from django.db import connection

    from traffic.partitions import add_months, cdr_partition_months

    months = cdr_partition_months("traffic_cdr")
    timings = {}
    with connection.cursor() as cursor:
        for table in ("bench_copy", "bench_copy_all", "bench_copy_all_technical"):
            like = "traffic_cdrtechnical" if table.endswith("technical") else "traffic_cdr"
            cursor.execute(f"DROP TABLE IF EXISTS {table}")
            cursor.execute(f"CREATE TABLE {table} (LIKE {like} INCLUDING ALL) PARTITION BY RANGE (started_at)")
            # LIKE copies columns, defaults, check constraints and indexes; traffic_cdr has no foreign
            # keys (migration 0003), so the tables are the same shape.
            for month in months:
                upper = add_months(month, 1)
                cursor.execute(
                    f"CREATE TABLE {table}_y{month:%Y}m{month:%m} PARTITION OF {table} "
                    f"FOR VALUES FROM ('{month.isoformat()} 00:00:00+00') TO ('{upper.isoformat()} 00:00:00+00')"
                )
        tech_file = rows_file.with_suffix(".tech")
        with open(rows_file, "wb") as out:
            cursor.cursor.copy_expert("COPY (SELECT * FROM traffic_cdr) TO STDOUT", out)
        with open(tech_file, "wb") as out:
            cursor.cursor.copy_expert("COPY (SELECT * FROM traffic_cdrtechnical) TO STDOUT", out)
        for name, targets in (("cdr", [("bench_copy", rows_file)]),
                              ("all", [("bench_copy_all", rows_file), ("bench_copy_all_technical", tech_file)])):
            cursor.execute("CHECKPOINT")
            pg_before = postgres_cpu()
            started = time.perf_counter()
            for table, path in targets:
                with open(path, "rb") as source:
                    cursor.cursor.copy_expert(f"COPY {table} FROM STDIN", source, size=1 << 20)
            connection.commit() if not connection.get_autocommit() else None
            timings[name] = (time.perf_counter() - started, postgres_cpu() - pg_before)
        cursor.execute("SELECT count(*) FROM bench_copy")
        timings["rows"] = cursor.fetchone()[0]
    return timings


def postgres_cpu() -> float:
    """CPU seconds used so far by this machine's PostgreSQL processes (backends, WAL writer,
    checkpointer), the ones that exited included (the postmaster's reaped children): what storing
    the rows costs the server. 0 when they cannot be read (not local)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        name = text[text.index("(") + 1:text.rindex(")")]
        if name.startswith("postgres"):
            fields = text[text.rindex(")") + 2:].split()
            total += sum(int(value) for value in fields[11:15])  # utime, stime, cutime, cstime
    return total / ticks


def import_once(*, source, csv_path: Path, procs: int, rows: int, profile: str | None = None) -> dict:
    """One import of the file with `procs` preparing processes (0: prepared in this process), into
    an empty traffic_cdr; returns its rate and where the CPU went."""
    from django.conf import settings
    from django.db import connection

    from traffic.ingest import parallel
    from traffic.ingest.writers import LAST_WRITER_STATS
    from traffic.services.imports import cdr_bulk_import

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE traffic_cdrtechnical, traffic_cdr")
        cursor.execute("CHECKPOINT")
    settings.CDR_IMPORT_PROCS = procs
    pg_before = postgres_cpu()
    started = time.perf_counter()
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        cdr_import = profiler.runcall(cdr_bulk_import, source=source, path=csv_path, file_name="Master.csv")
        profiler.dump_stats(profile)
    else:
        cdr_import = cdr_bulk_import(source=source, path=csv_path, file_name="Master.csv")
    seconds = time.perf_counter() - started
    if cdr_import.status != "done" or cdr_import.imported != rows:
        raise SystemExit(f"import incomplete: status={cdr_import.status} imported={cdr_import.imported} "
                         f"rejected={cdr_import.report.get('rejected_total')} error={cdr_import.error}")
    stats = parallel.LAST_PARALLEL_STATS if procs else parallel.ParallelStats()
    result = {
        "procs": procs, "rate": cdr_import.imported / seconds, "seconds": seconds,
        "main_cpu": LAST_WRITER_STATS.get("main_cpu", 0.0), "writer_cpu": LAST_WRITER_STATS.get("writer_cpu", 0.0),
        "prepare_cpu": stats.prepare_cpu, "postgres_cpu": postgres_cpu() - pg_before, "chunks": stats.chunks,
        "copy_wall": LAST_WRITER_STATS.get("copy", 0.0), "wait_wall": LAST_WRITER_STATS.get("wait", 0.0),
    }
    label = f"{procs} preparing processes" if procs else "prepared in the importing process"
    print(f"ours, {label}: {rows:,} rows in {seconds:.2f} s = {result['rate']:,.0f} rows/s; CPU s: "
          f"importing process {result['main_cpu']:.1f}, preparers {result['prepare_cpu']:.1f}, "
          f"writer thread {result['writer_cpu']:.1f}, PostgreSQL {result['postgres_cpu']:.1f} "
          f"(COPY {result['copy_wall']:.1f} s wall, {result['chunks']} chunks, waited for the writer "
          f"{result['wait_wall']:.1f} s); peak rss {peak_rss_mb():.0f} MB", flush=True)
    return result


def prepare_only(*, source, csv_path: Path, procs: int) -> float:
    """Rows per second that `procs` preparing processes turn out with nobody storing them: how row
    preparation alone scales with processes, apart from what PostgreSQL's COPY allows."""
    from traffic.ingest.parallel import ParallelPreparer
    from traffic.ingest.prepare import RowPreparer

    pool = ParallelPreparer(preparer=RowPreparer(source=source), path=csv_path, fmt=source.format,
                            columns=source.columns, source_id=source.pk, import_id=None, procs=procs)
    started = time.perf_counter()
    rows = 0
    try:
        for result in pool.results():
            rows += len(result.rows)
    finally:
        pool.close()
    rate = rows / (time.perf_counter() - started)
    print(f"preparation alone, {procs} processes, nothing stored: {rate:,.0f} rows/s", flush=True)
    return rate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--procs", type=int, nargs="+", default=[0, 1, 2],
                        help="preparing processes per run, in order (0: in the importing process); the BENCH "
                             "line reports the last against raw COPY and against 1")
    parser.add_argument("--profile", help="write a cProfile of the last import (the importing process) to this file")
    args = parser.parse_args(argv)

    environment_load()
    url, bench_url, bench_name = bench_database(bench="ingest", suffix="_bench")
    database_recreate(url=url, bench_name=bench_name)
    database_use(bench_url=bench_url)
    os.environ["CONN_MAX_AGE"] = "0"

    import django

    django.setup()
    import logging

    logging.getLogger("traffic").setLevel(logging.WARNING)
    database_migrate()
    source = seed_world()

    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        csv_path = Path(tmp) / "Master.csv"
        print(f"writing {args.rows:,} Asterisk CSV rows ...", flush=True)
        write_rows(csv_path, args.rows)
        print(f"importing (parse, normalise, rate, encrypt, COPY) ... (rss before: {current_rss_mb():.0f} MB)", flush=True)
        runs = [import_once(source=source, csv_path=csv_path, procs=procs, rows=args.rows,
                            profile=args.profile if n == len(args.procs) - 1 else None)
                for n, procs in enumerate(args.procs)]
        alone = {procs: prepare_only(source=source, csv_path=csv_path, procs=procs) for procs in (1, 2)}
        baseline = copy_baseline(Path(tmp) / "rows.copy")
        copied = baseline["rows"]
        (copy_s, copy_pg), (all_s, all_pg) = baseline["cdr"], baseline["all"]
        raw, raw_all = copied / copy_s, copied / all_s
        print(f"raw COPY of the CDRs: {copied:,} rows in {copy_s:.2f} s = {raw:,.0f} rows/s (PostgreSQL CPU "
              f"{copy_pg:.1f} s); of the CDRs and their technical rows, as stored: {all_s:.2f} s = "
              f"{raw_all:,.0f} rows/s (PostgreSQL CPU {all_pg:.1f} s)", flush=True)
    peak_mb = peak_rss_mb()
    last = runs[-1]
    one = next((r for r in runs if r["procs"] == 1), None)
    scaling = f" procs1_rows_per_s={one['rate']:.0f} scaling={last['rate'] / one['rate']:.2f}" if one and last is not one else ""
    serial = next((r for r in runs if r["procs"] == 0), None)
    serial_part = f" serial_rows_per_s={serial['rate']:.0f}" if serial and last is not serial else ""
    # The machine is often shared: a busy one starves both sides differently, so say how busy it was.
    print("load average (1, 5, 15 min) at the end: " + ", ".join(f"{x:.2f}" for x in os.getloadavg()), flush=True)
    print(f"BENCH ingest procs={last['procs']} ours_rows_per_s={last['rate']:.0f} copy_rows_per_s={raw:.0f} "
          f"ratio={last['rate'] / raw:.2f} copy_all_rows_per_s={raw_all:.0f} ratio_all={last['rate'] / raw_all:.2f}{scaling}{serial_part} main_cpu={last['main_cpu']:.1f} "
          f"prepare_cpu={last['prepare_cpu']:.1f} writer_cpu={last['writer_cpu']:.1f} "
          f"postgres_cpu={last['postgres_cpu']:.1f} prepare_alone_1={alone[1]:.0f} prepare_alone_2={alone[2]:.0f} "
          f"prepare_scaling={alone[2] / alone[1]:.2f} peak_mb={peak_mb:.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
