"""What the DPO and the administrators must see without Celery beat running: a CIOT sync that has stopped, periodic
jobs that have stopped, mail owed to people and still not delivered. Shown on their home page and counted by
/healthz. Counts and times only: no personal data is read.

The kernel keeps beat's heartbeat (a time in the cache) and the page's shape; the apps whose records say what is
late register how to read them (accounts/ops_status.py, from AccountsConfig.ready), so the kernel imports no app."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

from django.conf import settings
from django.core.cache import cache
from django.utils.timezone import now

# voipxs.tasks.beat_heartbeat (beat, every minute) writes the time here; older than BEAT_LATE_AFTER: beat stopped.
BEAT_HEARTBEAT_KEY = "voipxs:beat-heartbeat"
BEAT_LATE_AFTER = timedelta(minutes=10)

# The registered readers: the last successful CIOT sync when it is too old (or None), and counts of mail owed.
_stale_sync_readers: list[Callable[[datetime], datetime | None]] = []
_mail_owed_counters: list[Callable[[datetime], int]] = []


def ops_checks_register(*, stale_sync: Callable[[datetime], datetime | None] | None = None,
                        mail_owed: Callable[[datetime], int] | None = None) -> None:
    """An app adds what its records say is late: `stale_sync(moment)`, `mail_owed(cutoff)` (mail due before it)."""
    if stale_sync is not None and stale_sync not in _stale_sync_readers:
        _stale_sync_readers.append(stale_sync)
    if mail_owed is not None and mail_owed not in _mail_owed_counters:
        _mail_owed_counters.append(mail_owed)


@dataclass(frozen=True)
class OpsStatus:
    ciot_stale_since: datetime | None  # the last successful CIOT sync, when older than CIOT_STALE_AFTER
    beat_checked: bool  # False where there is no beat (no REDIS_URL: tasks run in-process)
    beat_last_ran: datetime | None  # the last heartbeat; None: none on record
    beat_late: bool
    mail_owed: int  # mails owed to people for longer than MAIL_OWED_ALERT_MINUTES
    mail_owed_minutes: int

    @property
    def alarming(self) -> bool:
        return bool(self.ciot_stale_since or self.beat_late or self.mail_owed)


def beat_heartbeat_record(*, at: datetime | None = None) -> None:
    cache.set(BEAT_HEARTBEAT_KEY, (at or now()).isoformat(), timeout=None)


def beat_last_ran() -> datetime | None:
    value = cache.get(BEAT_HEARTBEAT_KEY)
    return datetime.fromisoformat(value) if value else None


def mail_owed_count(*, at: datetime | None = None, minutes: int | None = None) -> int:
    """Mails the apps owe a person and have not delivered `minutes` after they were due (the records their reapers
    resend from, so a mail the server keeps refusing is counted until it goes)."""
    cutoff = (at or now()) - timedelta(minutes=settings.MAIL_OWED_ALERT_MINUTES if minutes is None else minutes)
    return sum(count(cutoff) for count in _mail_owed_counters)


def ops_status(*, at: datetime | None = None) -> OpsStatus:
    moment = at or now()
    checked = bool(settings.REDIS_URL) and not settings.CELERY_TASK_ALWAYS_EAGER
    last = beat_last_ran() if checked else None
    stale = [since for since in (read(moment) for read in _stale_sync_readers) if since is not None]
    return OpsStatus(ciot_stale_since=min(stale, default=None), beat_checked=checked, beat_last_ran=last,
                     beat_late=checked and (last is None or moment - last > BEAT_LATE_AFTER),
                     mail_owed=mail_owed_count(at=moment), mail_owed_minutes=settings.MAIL_OWED_ALERT_MINUTES)
