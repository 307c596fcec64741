"""How the purge commits: deletes in batches of `chunk_size` rows, one transaction per batch (like
zulip's run_archiving_in_chunks), each batch selected afresh from the database, so a run that dies
inside a batch loses only that batch's uncommitted work and the next run simply continues.
"""
from __future__ import annotations

import logging
import time
from typing import Callable

from django.db import connection, transaction
from django.db.models import QuerySet

logger = logging.getLogger(__name__)

DEFAULT_CHUNK_SIZE = 10_000

# A test hook: fault(step) is called inside batches and between month steps; raising there simulates
# a worker dying at that point.
Fault = Callable[[str], None]


def run_in_chunks(*, select: Callable[[], QuerySet], delete: Callable[[list[int]], int], chunk_size: int,
                  label: str, fault: Fault | None = None, record: Callable[[int], None] | None = None) -> int:
    """Delete what `select()` returns, `chunk_size` rows per transaction, until a batch finds nothing.

    Each batch re-selects, so a batch lost to a crash is picked up again by this or the next run.
    `record(deleted)` runs last inside each batch's transaction: the run's receipt counts and its lease
    renewal commit with the deletes they describe, so a killed run's receipt is exactly what it deleted.
    """
    total = 0
    while True:
        started = time.monotonic()
        with transaction.atomic():
            ids = list(select().values_list("id", flat=True)[:chunk_size])
            if not ids:
                break
            deleted = delete(ids)
            if fault is not None:
                fault(f"batch:{label}")  # tests raise here: the batch's deletes roll back
            if record is not None:
                record(deleted)  # last, so the lease row is locked only for the commit
        total += deleted
        logger.info("purge %s: deleted %s rows in %.2fs", label, deleted, time.monotonic() - started)
    return total


def fast_commit() -> None:
    """Commit this transaction without waiting for the WAL flush. Safe here because every purge step is
    idempotent: a crash can only lose whole recent transactions (never part of one, never out of order),
    and the next run redoes what was lost. It saves a disk flush per month, which on small disks is
    most of a month's cost."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")
