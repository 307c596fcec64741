"""`python -m bench.purge [--rows-per-month N] [--tablespace DIR] [--cold]`: our purge vs a batched DELETE.

1. Creates (anew) the database `<DATABASE_URL's name>_bench_purge` and migrates it with the app's
   migrations (month-partitioned traffic_cdr, the retention tables and default policies).
2. Fills 12 months (2024-01 .. 2024-12) of N CDRs each (default 1,000,000) server-side with
   `INSERT ... SELECT generate_series` into a plain table per month that is then ATTACHed as the
   month's partition (indexes built in bulk). Every call is on its account's paid invoice of that
   month; a dispute window of 7 months; number fields are real AES-GCM tokens under the month key.
   One number of 2024-03 is under a legal hold (10 calls), so the copy-to-hold path runs too.
3. Copies the whole table into a plain, unpartitioned table with the same indexes.
4. Purges "as of" 2025-01-15 with our purge (`retention.purge.run.purge_expired`): the 6 oldest months
   are past retention and go by copy-held-rows + DETACH + month-key destruction, one transaction a
   month (the shred: unrecoverable from its commit), then DROP of the detached tables (the reclaim).
   Time to unrecoverable: from the call until the last month's shred has committed (the purge's
   "month:shredded" hook, called right after each commit). The reclaim is timed apart.
5. Deletes the same rows (started before 2024-07) from the plain copy in batches of 10,000
   (one transaction per batch, keyset over the primary key, as a careful batched purge would).
6. Before all that, runs steps 1, 2 and 4 at N/10 rows per month too, and prints our time per
   month at both sizes: it should stay flat when the rows per month grow tenfold.
Ends with `BENCH purge ours_s=X delete_s=X speedup=X reclaim_s=X run_s=X`: ours_s is our time to
unrecoverable, speedup = delete_s / ours_s, reclaim_s the DROPs of the detached tables (their commits
included), run_s the whole purge run.
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import time
from datetime import date, datetime, timezone
from pathlib import Path

from bench._common import bench_database, database_migrate, database_recreate, database_use, environment_load

MONTHS = 12
FIRST_MONTH = date(2024, 1, 1)
AS_OF = datetime(2025, 1, 15, 12, 0, tzinfo=timezone.utc)
PURGED_MONTHS = 6
ACCOUNTS = 100
TOKENS_PER_MONTH = 256
HELD_NUMBER = "+31205559999"
HELD_MONTH = date(2024, 3, 1)
HELD_CALLS = 10
BATCH = 10_000


def _reset_database(url: str, bench_name: str, bench_url: str, tablespace: str | None) -> None:
    """Drop and recreate the bench database, then migrate it (Django reconnects to the new one)."""
    from django.db import connections

    from traffic import keys

    connections.close_all()
    keys.month_keys_forget()  # unwrapped month keys of the previous scenario's database
    database_recreate(url=url, bench_name=bench_name, tablespace=tablespace)
    database_migrate()


def _fill(rows: int) -> None:
    from django.db import connection

    from accounts.models import User
    from retention.services import legal_hold_place
    from traffic.keys import month_cipher
    from traffic.models import Invoice, Source
    from traffic.partitions import add_months, cdr_partitions_ensure, partition_name
    from voipxs.privacy.crypto import blind_index

    User.objects.bulk_create([User(username=f"purge{i:04d}", password="!") for i in range(ACCOUNTS)])
    accounts = list(User.objects.filter(username__startswith="purge").order_by("id").values_list("id", flat=True))
    source = Source.objects.create(name="bench-purge", format="asterisk-csv")
    rnd = random.Random(4)
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = off")
        cursor.execute("SET maintenance_work_mem = '512MB'")
    for i in range(MONTHS):
        month = add_months(FIRST_MONTH, i)
        t = time.perf_counter()
        window = add_months(month, 7)
        Invoice.objects.bulk_create([
            Invoice(number=f"B{month:%Y%m}-{a}", account_id=a, period=month, due_date=add_months(month, 2),
                    dispute_window_ends=window, calls_kept_until=window, status=Invoice.Status.PAID,
                    issued_at=datetime.combine(add_months(month, 1), datetime.min.time(), tzinfo=timezone.utc),
                    paid_at=datetime.combine(add_months(month, 2), datetime.min.time(), tzinfo=timezone.utc))
            for a in accounts])
        invoices = list(Invoice.objects.filter(period=month).order_by("account_id").values_list("id", flat=True))
        cipher = month_cipher(month, create=True)
        src = [f"+3120{5_000_000 + rnd.randrange(4_000_000)}" for _ in range(TOKENS_PER_MONTH)]
        dst = [f"+316{10_000_000 + rnd.randrange(80_000_000)}" for _ in range(TOKENS_PER_MONTH)]
        lower = datetime.combine(month, datetime.min.time(), tzinfo=timezone.utc)
        upper = datetime.combine(add_months(month, 1), datetime.min.time(), tzinfo=timezone.utc)
        table = partition_name("traffic_cdr", month)
        staging = f"{table}_staging"
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE TABLE {staging} (LIKE traffic_cdr INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
            cursor.execute(
                f"""
                INSERT INTO {staging} (started_at, source_id, unique_id, fingerprint, account_id, direction,
                    disposition, answered_at, duration, billsec, src_enc, dst_enc, src_index, dst_index,
                    account_code, flags, rating, zone, price, invoice_id)
                SELECT t.ts, %(source)s, 'p{month:%Y%m}-' || g, md5(g::text)::varchar(32),
                    (%(accounts)s::bigint[])[1 + g %% {ACCOUNTS}], 'out', 'answered', t.ts, 65, 60,
                    (%(src)s::bytea[])[1 + g %% {TOKENS_PER_MONTH}], (%(dst)s::bytea[])[1 + (g / 7) %% {TOKENS_PER_MONTH}],
                    (%(src_idx)s::varchar[])[1 + g %% {TOKENS_PER_MONTH}],
                    (%(dst_idx)s::varchar[])[1 + (g / 7) %% {TOKENS_PER_MONTH}],
                    '', '', 'rated', 'NL mobile', 0.09, (%(invoices)s::bigint[])[1 + g %% {ACCOUNTS}]
                FROM generate_series(1, %(rows)s) AS g,
                     LATERAL (SELECT %(lower)s::timestamptz + ((hashint4(g + %(seed)s)::bigint & 2147483647) %% %(secs)s)
                                     * interval '1 second' AS ts) AS t
                """,
                {"source": source.pk, "accounts": accounts, "invoices": invoices, "rows": rows,
                 "src": [cipher.encrypt(n) for n in src], "dst": [cipher.encrypt(n) for n in dst],
                 "src_idx": [blind_index(n, domain="phone") for n in src],
                 "dst_idx": [blind_index(n, domain="phone") for n in dst],
                 "lower": lower, "secs": int((upper - lower).total_seconds()) - 1, "seed": i},
            )
            if month == HELD_MONTH:
                cursor.execute(
                    f"UPDATE {staging} SET src_index = %s, src_enc = %s WHERE id IN (SELECT id FROM {staging} LIMIT %s)",
                    [blind_index(HELD_NUMBER, domain="phone"), cipher.encrypt(HELD_NUMBER), HELD_CALLS])
            cursor.execute(f"ALTER TABLE {staging} RENAME TO {table}")
            cursor.execute(f"ALTER TABLE traffic_cdr ATTACH PARTITION {table} "
                           f"FOR VALUES FROM ('{lower.isoformat()}') TO ('{upper.isoformat()}')")
            cursor.execute(f"ANALYZE {table}")
        cdr_partitions_ensure(months=[month])  # the (empty) technical partition of the month
        print(f"  {month:%Y-%m}: {rows:,} rows in {time.perf_counter() - t:.1f} s", flush=True)
    legal_hold_place(reason="preservation_order", reference="bench:1", numbers=[HELD_NUMBER],
                     categories=["cdr_billed"], window_start=datetime(2024, 1, 1, tzinfo=timezone.utc),
                     starts_at=datetime(2024, 12, 1, tzinfo=timezone.utc))


COLD = {"on": False}  # --cold: the measured tables' files leave the OS page cache before each side


def _settle() -> None:
    """Start a measured side from a quiet disk: the fill and the plain copy leave gigabytes of dirty
    pages behind, and the checkpoint that writes them out would otherwise run during whichever side
    comes first (ours, a few seconds long, would pay for the copy's writes). The months a real purge
    drops are at least months old, long written out. Both sides get the same treatment.

    With --cold, the files of the application's tables and indexes (not the system catalogs) also
    leave the OS page cache, as months-old data has on a real server: then neither side finds its
    rows in memory (the batched DELETE reads them from disk, and DROP frees no cached pages)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("CHECKPOINT")
        if COLD["on"]:
            cursor.execute("SHOW data_directory")
            data_dir = Path(cursor.fetchone()[0])
            cursor.execute("SELECT pg_relation_filepath(oid) FROM pg_class WHERE relkind IN ('r', 'i') "
                           "AND relnamespace = 'public'::regnamespace AND pg_relation_filepath(oid) IS NOT NULL")
            paths = [data_dir / row[0] for row in cursor.fetchall()]
    os.sync()
    if COLD["on"]:
        evicted = sum(_evict(path) for path in paths)
        print(f"  cold start: {evicted / 2**20:,.0f} MB of table files out of the page cache", flush=True)


def _evict(base: Path) -> int:
    """Drop one relation's files (all segments and forks) from the OS page cache; returns their size."""
    size = 0
    for path in [base, *base.parent.glob(base.name + ".*"), *base.parent.glob(base.name + "_*")]:
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError as exc:
            sys.exit(f"--cold needs to read the database's files (run on its host as root or postgres): {exc}")
        try:
            size += os.fstat(fd).st_size
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)
    return size


def _ours() -> tuple[dict, list[dict]]:
    from retention.models import HeldCdr
    from retention.purge.run import purge_expired

    marks: dict[str, list[float]] = {"month:shredded": [], "month:reclaimed": []}

    def probe(step: str) -> None:  # the purge's hook, called right after each shred and reclaim commits
        if step in marks:
            marks[step].append(time.perf_counter())

    _settle()
    t = time.perf_counter()
    receipt = purge_expired(now=AS_OF, fault=probe)
    elapsed = time.perf_counter() - t
    drop = next(r for r in receipt["receipts"] if r["category"] == "cdr_month_drop")
    reclaim = next(r for r in receipt["receipts"] if r["category"] == "cdr_month_reclaim")
    months = drop["details"]["months"]
    for m, r in zip(months, reclaim["details"]["months"]):
        m["reclaim_ms"] = r["ms"]
    times = {"run_s": elapsed, "unrecoverable_s": marks["month:shredded"][-1] - t,
             "reclaim_s": sum(r["ms"] for r in reclaim["details"]["months"]) / 1000}
    if [m["month"] for m in months] != [f"{2024}-{m:02d}" for m in range(1, PURGED_MONTHS + 1)]:
        sys.exit(f"expected the 6 oldest months to be dropped, got {[m['month'] for m in months]}")
    if HeldCdr.objects.count() != HELD_CALLS:
        sys.exit(f"expected {HELD_CALLS} held calls in the hold table, found {HeldCdr.objects.count()}")
    return times, months


def _plain_copy() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_plain_cdr")
        cursor.execute("CREATE TABLE bench_plain_cdr (LIKE traffic_cdr INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
        cursor.execute("INSERT INTO bench_plain_cdr SELECT * FROM traffic_cdr")
        # The same indexes as traffic_cdr (primary key, call history, numbers, invoice, dedupe key).
        cursor.execute("ALTER TABLE bench_plain_cdr ADD PRIMARY KEY (id, started_at)")
        cursor.execute("CREATE INDEX ON bench_plain_cdr (account_id, started_at DESC, id DESC)")
        cursor.execute("CREATE INDEX ON bench_plain_cdr (contractor_id, started_at DESC, id DESC)")
        cursor.execute("CREATE INDEX ON bench_plain_cdr (src_index, started_at)")
        cursor.execute("CREATE INDEX ON bench_plain_cdr (dst_index, started_at)")
        cursor.execute("CREATE INDEX ON bench_plain_cdr (invoice_id)")
        cursor.execute("CREATE UNIQUE INDEX ON bench_plain_cdr (source_id, unique_id, started_at)")
        cursor.execute("ANALYZE bench_plain_cdr")
        cursor.execute("SELECT count(*) FROM bench_plain_cdr")
        return cursor.fetchone()[0]


def _batched_delete(cutoff: datetime) -> tuple[float, int]:
    """The same rows out of the plain copy, 10,000 per transaction, keyset over the primary key."""
    from django.db import connection, transaction

    deleted, last_id = 0, 0
    _settle()
    t = time.perf_counter()
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "DELETE FROM bench_plain_cdr WHERE (id, started_at) IN (SELECT id, started_at FROM bench_plain_cdr "
                "WHERE id > %s AND started_at < %s ORDER BY id LIMIT %s) RETURNING id", [last_id, cutoff, BATCH])
            ids = [row[0] for row in cursor.fetchall()]
        if not ids:
            break
        deleted += len(ids)
        last_id = max(ids)
    return time.perf_counter() - t, deleted


def _scenario(rows: int, *, url: str, bench_name: str, bench_url: str, with_plain: bool,
              tablespace: str | None) -> dict:
    print(f"scenario: {rows:,} CDRs per month x {MONTHS} months", flush=True)
    _reset_database(url, bench_name, bench_url, tablespace)
    t = time.perf_counter()
    _fill(rows)
    print(f"filled in {time.perf_counter() - t:.0f} s", flush=True)
    result: dict = {"rows": rows}
    if with_plain:
        t = time.perf_counter()
        copied = _plain_copy()
        print(f"plain copy of {copied:,} rows in {time.perf_counter() - t:.0f} s", flush=True)
    times, months = _ours()
    result.update(times)
    result["ours_s"] = times["unrecoverable_s"]
    result["shred_ms"] = [m["ms"] for m in months]
    result["reclaim_ms"] = [m["reclaim_ms"] for m in months]
    removed = sum(m["rows"] for m in months)
    print(f"ours: {removed:,} rows of {PURGED_MONTHS} months unrecoverable after {times['unrecoverable_s']:.3f} s, "
          f"files back after {times['reclaim_s']:.3f} s more of reclaim; whole run {times['run_s']:.3f} s", flush=True)
    print(f"  per month, lock + copy held rows + detach + key destruction (ms): "
          f"{', '.join(str(m) for m in result['shred_ms'])}; "
          f"DROP, files back to the file system (ms): {', '.join(str(m) for m in result['reclaim_ms'])}", flush=True)
    if with_plain:
        cutoff = datetime(2024, 1 + PURGED_MONTHS, 1, tzinfo=timezone.utc)
        delete_s, deleted = _batched_delete(cutoff)
        result["delete_s"] = delete_s
        print(f"batched DELETE: {deleted:,} rows in {delete_s:.1f} s", flush=True)
    return result


def _data_directory() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW data_directory")
        return cursor.fetchone()[0]


def _disk_note(path: str) -> None:
    """Say where the tables lived and whether that file system discards (TRIMs) freed blocks at
    once: then deleting a file costs time in proportion to its size, and so does DROP TABLE,
    whatever the database does."""
    try:
        mounts = [line.split() for line in Path("/proc/mounts").read_text().splitlines()]
    except OSError:
        return
    best = max((m for m in mounts if len(m) > 3 and (path == m[1] or path.startswith(m[1].rstrip("/") + "/"))),
               key=lambda m: len(m[1]), default=None)
    if best is None:
        return
    options = best[3].split(",")
    online = "discard" in options
    print(f"disk: tables in {path}, on {best[1]} ({best[2]}, {'online discard' if online else 'no online discard'})"
          + ("; file deletion (and so DROP TABLE) costs time per MB here" if online else ""))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows-per-month", type=int, default=1_000_000)
    parser.add_argument("--tablespace", metavar="DIR",
                        help="keep the bench tables in a tablespace at DIR (a directory on the database server "
                             "owned by its OS user), e.g. on a disk mounted without online discard")
    parser.add_argument("--cold", action="store_true",
                        help="before each side, evict the tables' files from the OS page cache (needs the "
                             "database's host and read access to its files)")
    args = parser.parse_args(argv)
    COLD["on"] = args.cold
    environment_load()
    os.environ["DJANGO_DEBUG"] = "False"
    os.environ["SECURE_SSL_REDIRECT"] = "False"
    os.environ["REDIS_URL"] = ""  # the purge needs no broker
    url, bench_url, bench_name = bench_database(bench="purge", suffix="_bench_purge")
    database_recreate(url=url, bench_name=bench_name, tablespace=args.tablespace)
    database_use(bench_url=bench_url)

    import django

    django.setup()
    import logging

    logging.disable(logging.WARNING)
    small = _scenario(max(args.rows_per_month // 10, 1000), url=url, bench_name=bench_name, bench_url=bench_url,
                      with_plain=False, tablespace=args.tablespace)
    big = _scenario(args.rows_per_month, url=url, bench_name=bench_name, bench_url=bench_url, with_plain=True,
                    tablespace=args.tablespace)
    for label, key in (("per month, shred (lock+copy+detach+key)", "shred_ms"),
                       ("per month, reclaim (DROP, file deletion)", "reclaim_ms")):
        small_pm, big_pm = sum(small[key]) / PURGED_MONTHS, sum(big[key]) / PURGED_MONTHS
        print(f"{label}: {small_pm:.1f} ms at {small['rows']:,} rows/month, {big_pm:.1f} ms at {big['rows']:,} "
              f"rows/month (x{big_pm / small_pm if small_pm else 0:.2f} for x10 rows)")
    _disk_note(args.tablespace or _data_directory())
    print(f"time to unrecoverable: ours {small['ours_s']:.3f} s at {small['rows']:,} rows/month, "
          f"{big['ours_s']:.3f} s at {big['rows']:,} rows/month")
    speedup = big["delete_s"] / big["ours_s"]
    print(f"BENCH purge ours_s={big['ours_s']:.3f} delete_s={big['delete_s']:.2f} speedup={speedup:.1f} "
          f"reclaim_s={big['reclaim_s']:.3f} run_s={big['run_s']:.3f}")


if __name__ == "__main__":
    main()
