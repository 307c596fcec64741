"""The purge's lease: two purges never run at once.

A single PurgeLock row taken with one conditional UPDATE (atomic on PostgreSQL and SQLite alike) and
renewed between steps and batches; a dead worker's lease simply runs out, and the next run takes over.
"""
from __future__ import annotations

from datetime import timedelta

from django.db.models import Q
from django.utils.timezone import now as tz_now

from ..models import PurgeLock

LOCK_LEASE = timedelta(minutes=40)
ANOTHER_PURGE_RUNNING = "Another purge is running; this run did nothing."


class PurgeBusy(Exception):
    """Another purge holds the lock."""


def lock_acquire(*, holder: str) -> bool:
    PurgeLock.objects.get_or_create(pk=1)
    moment = tz_now()
    taken = (PurgeLock.objects.filter(pk=1).filter(Q(held_until__isnull=True) | Q(held_until__lt=moment))
             .update(holder=holder, held_until=moment + LOCK_LEASE))
    return taken == 1


def lock_renew(*, holder: str) -> None:
    PurgeLock.objects.filter(pk=1, holder=holder).update(held_until=tz_now() + LOCK_LEASE)


def lock_release(*, holder: str) -> None:
    PurgeLock.objects.filter(pk=1, holder=holder).update(holder="", held_until=None)
