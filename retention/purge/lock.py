"""The purge's lease: two purges never run at once, and a killed purge holds it only minutes.

A single PurgeLock row, taken with one conditional UPDATE (atomic on PostgreSQL and SQLite alike) when
it is free or its last renewal is older than PURGE_LEASE_SECONDS. The holder renews it in the same
transaction as every batch it commits and every step it begins (run.py, chunks.py), so a live purge
keeps it however long it runs, and a purge whose worker died (kill -9, OOM, deploy) loses it minutes
after its last committed batch; the next purge, or the reaper, then takes over (runs.py). A renewal
that finds another holder raises PurgeLeaseLost: that batch rolls back, so a stalled worker that wakes
up after a takeover neither deletes nor counts anything more. Dry runs only read and take no lease.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils.timezone import now as tz_now

from ..models import PurgeLock

ANOTHER_PURGE_RUNNING = "Another purge is running; this run did nothing."
LEASE_EXPIRES = "Its lease expires at {expires} (UTC) unless it commits another batch before then."
LEASE_LOST = "This purge's lease ran out and another run took over; this run stops."


class PurgeBusy(Exception):
    """Another purge holds a lease that has not run out; `expires_at` says when it will, unless renewed."""

    def __init__(self, *, expires_at: datetime | None) -> None:
        self.expires_at = expires_at
        message = ANOTHER_PURGE_RUNNING
        if expires_at is not None:
            message += " " + LEASE_EXPIRES.format(expires=f"{expires_at:%Y-%m-%d %H:%M:%S}")
        super().__init__(message)


class PurgeLeaseLost(Exception):
    """The lease ran out and another run took it: this run must stop (its current batch rolls back)."""


def purge_lease() -> timedelta:
    return timedelta(seconds=int(getattr(settings, "PURGE_LEASE_SECONDS", 300)))


def lease_take(*, holder: str, at: datetime | None = None) -> bool:
    """Take the lease if it is free or ran out. Call inside a transaction that also records what the
    taker does about the previous holder's run: the UPDATE locks the row until that commits."""
    moment = at or tz_now()
    free = Q(holder="") | Q(renewed_at__isnull=True) | Q(renewed_at__lt=moment - purge_lease())
    # The UPDATE comes first: on SQLite a transaction that reads before it writes can fail to upgrade.
    taken = PurgeLock.objects.filter(free, pk=1).update(holder=holder, renewed_at=moment)
    if not taken and not PurgeLock.objects.filter(pk=1).exists():  # the very first purge
        PurgeLock.objects.get_or_create(pk=1)
        taken = PurgeLock.objects.filter(free, pk=1).update(holder=holder, renewed_at=moment)
    return taken == 1


def lease_expires_at() -> datetime | None:
    """When the current lease runs out unless renewed; None when nobody holds it."""
    lock = PurgeLock.objects.filter(pk=1).exclude(holder="").exclude(renewed_at__isnull=True).first()
    return lock.renewed_at + purge_lease() if lock else None


def lease_renew(*, holder: str) -> None:
    """Renew inside the transaction of the work it vouches for; raises PurgeLeaseLost if another run
    took over (the caller's transaction then rolls back)."""
    if not PurgeLock.objects.filter(pk=1, holder=holder).update(renewed_at=tz_now()):
        raise PurgeLeaseLost(LEASE_LOST)


def lease_release(*, holder: str) -> None:
    PurgeLock.objects.filter(pk=1, holder=holder).update(holder="", renewed_at=None)
