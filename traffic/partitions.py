"""Monthly partitions of traffic_cdr and traffic_cdrtechnical (PostgreSQL only; no-ops on SQLite).

Partition names: traffic_cdr_y2026m05. Bounds are [first day of month, first day of next month)
in UTC, matching `month_start`. Creation is idempotent (CREATE TABLE IF NOT EXISTS ... PARTITION OF).
"""
from __future__ import annotations

from datetime import date, datetime, time, timezone
from typing import Iterable

from django.db import connection

from voipxs.months import add_months, month_start

PARTITIONED_TABLES = ("traffic_cdr", "traffic_cdrtechnical")


def month_bounds(month: date) -> tuple[datetime, datetime]:
    """[first moment of the month `month` falls in, first moment of the next) in UTC, as the partitions are cut."""
    first = month_start(month)
    return (datetime.combine(first, time.min, tzinfo=timezone.utc),
            datetime.combine(add_months(first, 1), time.min, tzinfo=timezone.utc))


def partition_name(table: str, month: date) -> str:
    return f"{table}_y{month.year:04d}m{month.month:02d}"


def partitioning_enabled() -> bool:
    return connection.vendor == "postgresql"


def cdr_partitions_ensure(*, months: Iterable[date]) -> list[str]:
    """Create the partitions of these months in every partitioned table. Returns the names created."""
    if not partitioning_enabled():
        return []
    wanted = sorted({month_start(m) for m in months})
    existing = set(cdr_partitions_list_names())
    created: list[str] = []
    with connection.cursor() as cursor:
        for month in wanted:
            lower, upper = month, add_months(month, 1)
            for table in PARTITIONED_TABLES:
                name = partition_name(table, month)
                if name in existing:
                    continue
                cursor.execute(
                    f"CREATE TABLE IF NOT EXISTS {name} PARTITION OF {table} "
                    f"FOR VALUES FROM ('{lower.isoformat()} 00:00:00+00') TO ('{upper.isoformat()} 00:00:00+00')"
                )
                created.append(name)
    return created


def cdr_partitions_list_names(table: str = "") -> list[str]:
    if not partitioning_enabled():
        return []
    tables = [table] if table else list(PARTITIONED_TABLES)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = ANY(%s) ORDER BY c.relname",
            [tables],
        )
        return [row[0] for row in cursor.fetchall()]


def cdr_partition_months(table: str = "traffic_cdr") -> list[date]:
    """Months that have a partition of `table`, oldest first."""
    months = []
    for name in cdr_partitions_list_names(table):
        suffix = name.rsplit("_", 1)[-1]  # y2026m05
        months.append(date(int(suffix[1:5]), int(suffix[6:8]), 1))
    return sorted(months)
