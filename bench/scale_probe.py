"""`python -m bench.scale_probe --db URL`: the per-row figures SCALING.md extrapolates from.

Run it against a database the project's own code has filled (for example `<name>_bench` after
`python -m bench.ingest --rows 200000`): it reads, it never changes application data, except with
`--invoice-update`, which bills one month the way `invoice_run` does (and so belongs to a bench
database only). It prints, for the largest traffic_cdr month partition:

1. bytes per row: heap, TOAST and each index (pg_relation_size, pg_indexes_size), the average stored
   row and each column (pg_column_size), and the same for traffic_cdrtechnical;
2. the bare call-history page (keyset on (account, started_at), LIMIT 51, first and second page, and the
   first page bounded to the last 31 days, which lets the planner prune old partitions) and a
   disclosure lookup (one blind index over one month, both sides): planning and execution in ms,
   median and p95 over `--runs` random keys, with the partitions there are, then again with
   `--extra-partitions` empty month partitions added (dropped again at the end);
3. with `--invoice-update`: the UPDATE of invoice_id on the month's rated calls, its time and what it
   does to the partition's size (every CDR written a second time, not HOT: invoice_id is indexed).

Plain psycopg2, no Django: the figures are PostgreSQL's, not the ORM's.
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import time

import psycopg2

PAGE = ("SELECT id, started_at, answered_at, direction, disposition, duration, billsec, src_enc, dst_enc, "
        "caller_name_enc, zone, price, account_id, invoice_id FROM traffic_cdr "
        "WHERE account_id = %s AND restricted_at IS NULL {after} ORDER BY started_at DESC, id DESC LIMIT 51")
AFTER = "AND (started_at < %s OR (started_at = %s AND id < %s))"
DISCLOSURE = ("SELECT id, started_at, src_enc, dst_enc FROM traffic_cdr WHERE src_index = %s "
              "AND started_at >= %s AND started_at < %s UNION ALL "
              "SELECT id, started_at, src_enc, dst_enc FROM traffic_cdr WHERE dst_index = %s "
              "AND started_at >= %s AND started_at < %s")


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def largest_partition(cur, parent: str) -> tuple[str, int]:
    cur.execute("SELECT c.relname, c.reltuples::bigint FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = %s ORDER BY c.reltuples DESC LIMIT 1",
                [parent])
    name, _ = cur.fetchone()
    cur.execute(f'SELECT count(*) FROM "{name}"')  # nosec B608: a partition name from the catalog
    return name, cur.fetchone()[0]


def sizes(cur, table: str, rows: int) -> None:
    cur.execute("SELECT pg_relation_size(c.oid), coalesce(pg_total_relation_size(NULLIF(c.reltoastrelid, 0)), 0), "
                "pg_indexes_size(c.oid), pg_total_relation_size(c.oid) FROM pg_class c WHERE relname = %s", [table])
    heap, toast, idx, total = cur.fetchone()
    print(f"\n{table}: {rows:,} rows")
    print(f"  heap   {heap / 2**20:8.1f} MiB  {heap / rows:7.1f} B/row")
    print(f"  toast  {toast / 2**20:8.1f} MiB  {toast / rows:7.1f} B/row")
    print(f"  idx    {idx / 2**20:8.1f} MiB  {idx / rows:7.1f} B/row")
    print(f"  total  {total / 2**20:8.1f} MiB  {total / rows:7.1f} B/row")
    cur.execute("SELECT i.relname, pg_relation_size(i.oid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
                "JOIN pg_class t ON t.oid = x.indrelid WHERE t.relname = %s ORDER BY 2 DESC", [table])
    for name, size in cur.fetchall():
        print(f"    index {name[len(table) + 1:]:42s} {size / rows:7.1f} B/row")
    cur.execute("SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped "
                "ORDER BY attnum", [table])
    columns = [row[0] for row in cur.fetchall()]
    parts = ", ".join(f'avg(pg_column_size("{c}")), count("{c}")' for c in columns)
    cur.execute(f'SELECT avg(pg_column_size(t.*)), {parts} FROM "{table}" t')  # nosec B608: catalog names
    values = cur.fetchone()
    print(f"  average row (pg_column_size(t.*)): {values[0]:.1f} B")
    for i, column in enumerate(columns):
        avg, filled = values[1 + 2 * i], values[2 + 2 * i]
        print(f"    column {column:18s} {float(avg or 0):6.1f} B when set, set in {100 * filled / rows:5.1f} % of rows")


def _timed(cur, sql: str, params: list) -> tuple[float, float, list]:
    """(planning ms, execution ms) as EXPLAIN ANALYZE reports them, and the rows of a plain run."""
    cur.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params)
    plan = cur.fetchone()[0][0]
    cur.execute(sql, params)
    return plan["Planning Time"], plan["Execution Time"], cur.fetchall()


def latencies(cur, *, runs: int, seed: int) -> dict[str, tuple[float, float, float, float]]:
    """{query: (plan p50, plan p95, exec p50, exec p95)} in ms."""
    rnd = random.Random(seed)
    cur.execute("SELECT DISTINCT account_id FROM traffic_cdr WHERE account_id IS NOT NULL LIMIT 5000")
    accounts = [r[0] for r in cur.fetchall()]
    cur.execute("SELECT src_index, date_trunc('month', started_at) FROM traffic_cdr TABLESAMPLE SYSTEM (1) LIMIT 5000")
    numbers = cur.fetchall()
    cur.execute("SELECT max(started_at) - interval '31 days' FROM traffic_cdr")
    recent = cur.fetchone()[0]
    found: dict[str, list[tuple[float, float]]] = {"page 1": [], "page 1, last 31 days": [], "page 2": [],
                                                   "disclosure (1 number, 1 month)": []}
    for _ in range(runs):
        account = rnd.choice(accounts)
        plan, run, rows = _timed(cur, PAGE.format(after=""), [account])
        found["page 1"].append((plan, run))
        plan, run, _ = _timed(cur, PAGE.format(after="AND started_at >= %s"), [account, recent])
        found["page 1, last 31 days"].append((plan, run))
        if len(rows) == 51:
            at, cdr_id = rows[49][1], rows[49][0]
            plan, run, _ = _timed(cur, PAGE.format(after=AFTER), [account, at, at, cdr_id])
            found["page 2"].append((plan, run))
        index, month = rnd.choice(numbers)
        cur.execute("SELECT %s::timestamptz + interval '1 month'", [month])
        end = cur.fetchone()[0]
        plan, run, _ = _timed(cur, DISCLOSURE, [index, month, end, index, month, end])
        found["disclosure (1 number, 1 month)"].append((plan, run))
    out = {}
    for name, pairs in found.items():
        if pairs:
            plans, runs_ = [p for p, _ in pairs], [r for _, r in pairs]
            out[name] = (statistics.median(plans), _p95(plans), statistics.median(runs_), _p95(runs_))
    return out


def print_latencies(title: str, figures: dict) -> None:
    print(f"\n{title}")
    for name, (pp50, pp95, ep50, ep95) in figures.items():
        print(f"  {name:32s} planning p50 {pp50:6.3f} p95 {pp95:6.3f} ms | execution p50 {ep50:6.3f} p95 {ep95:6.3f} ms")


def add_empty_months(cur, n: int) -> list[str]:
    """n empty month partitions of traffic_cdr, in the months before the oldest one there is."""
    cur.execute("SELECT date_trunc('month', min(started_at) AT TIME ZONE 'UTC') FROM traffic_cdr")
    oldest = cur.fetchone()[0]
    names = []
    for k in range(1, n + 1):
        cur.execute("SELECT (%s::timestamp - make_interval(months => %s))::date, "
                    "(%s::timestamp - make_interval(months => %s))::date", [oldest, k + 1, oldest, k])
        lower, upper = cur.fetchone()
        name = f"scale_probe_empty_y{lower:%Y}m{lower:%m}"
        cur.execute(f"CREATE TABLE {name} PARTITION OF traffic_cdr FOR VALUES FROM "
                    f"('{lower} 00:00:00+00') TO ('{upper} 00:00:00+00')")
        names.append(name)
    cur.execute("ANALYZE traffic_cdr")
    return names


def invoice_update(cur, table: str, rows: int) -> None:
    """Bill the month's rated calls as invoice_run does (UPDATE ... SET invoice_id), and measure."""
    cur.execute("SELECT pg_relation_size(%s), pg_indexes_size(%s)", [table, table])
    heap0, idx0 = cur.fetchone()
    cur.execute("CHECKPOINT")
    cur.execute("SELECT pg_current_wal_lsn()")
    lsn0 = cur.fetchone()[0]
    started = time.perf_counter()
    cur.execute(f'UPDATE "{table}" SET invoice_id = %s + (account_id %% 1000) '  # nosec B608: catalog name
                "WHERE rating = 'rated' AND invoice_id IS NULL", [1_000_000])
    updated = cur.rowcount
    seconds = time.perf_counter() - started
    cur.execute("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), %s), pg_relation_size(%s), pg_indexes_size(%s)",
                [lsn0, table, table])
    wal, heap1, idx1 = cur.fetchone()
    cur.execute("SELECT n_tup_hot_upd, n_tup_upd FROM pg_stat_user_tables WHERE relname = %s", [table])
    hot, upd = cur.fetchone()
    print(f"\ninvoice UPDATE of {table}: {updated:,} of {rows:,} rows in {seconds:.2f} s "
          f"({1e6 * seconds / max(updated, 1):.1f} µs/row); HOT {hot} of {upd}")
    print(f"  heap {heap0 / rows:.0f} -> {heap1 / rows:.0f} B/row; indexes {idx0 / rows:.0f} -> {idx1 / rows:.0f} B/row; "
          f"WAL {wal / max(updated, 1):.0f} B per updated row")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=os.environ.get("DATABASE_URL", ""), help="a filled bench database")
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--extra-partitions", type=int, default=0)
    parser.add_argument("--invoice-update", action="store_true", help="changes the data: bench databases only")
    args = parser.parse_args(argv)
    conn = psycopg2.connect(args.db)
    conn.autocommit = True
    print("load average (1, 5, 15 min) at the start: " + ", ".join(f"{x:.2f}" for x in os.getloadavg()))
    with conn.cursor() as cur:
        cur.execute("SHOW server_version")
        print(f"PostgreSQL {cur.fetchone()[0]}")
        cur.execute("ANALYZE traffic_cdr")
        cur.execute("ANALYZE traffic_cdrtechnical")
        table, rows = largest_partition(cur, "traffic_cdr")
        sizes(cur, table, rows)
        tech, tech_rows = largest_partition(cur, "traffic_cdrtechnical")
        sizes(cur, tech, tech_rows)
        cur.execute("SELECT count(*) FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent "
                    "WHERE p.relname = 'traffic_cdr'")
        parts = cur.fetchone()[0]
        print_latencies(f"bare SQL, {parts} partitions of traffic_cdr, {args.runs} runs", latencies(cur, runs=args.runs, seed=1))
        if args.extra_partitions:
            names = add_empty_months(cur, args.extra_partitions)
            try:
                print_latencies(f"bare SQL, {parts + len(names)} partitions ({len(names)} of them empty), "
                                f"{args.runs} runs", latencies(cur, runs=args.runs, seed=1))
            finally:
                for name in names:
                    cur.execute(f"DROP TABLE {name}")
        if args.invoice_update:
            invoice_update(cur, table, rows)
    print("load average (1, 5, 15 min) at the end: " + ", ".join(f"{x:.2f}" for x in os.getloadavg()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
