"""What the DPO and the administrators must see without Celery beat running: a CIOT sync that has stopped, periodic
jobs that have stopped, mail owed to people and still not delivered. Shown on their home page and counted by
/healthz. Counts and times only: no personal data is read."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.utils.timezone import now

from .ciot.services import ciot_sync_stale_since
from .dsr.models import DataSubjectRequest, PolicyVersion, Restriction
from .models import User

# voipxs.tasks.beat_heartbeat (beat, every minute) writes the time here; older than BEAT_LATE_AFTER: beat stopped.
BEAT_HEARTBEAT_KEY = "voipxs:beat-heartbeat"
BEAT_LATE_AFTER = timedelta(minutes=10)


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
    """Mails a task owes a person (support's change of itemised bills, a restriction's lift or continuation, a
    request's extension, a policy change's remaining batches) and has not delivered `minutes` after they were due:
    the records the reapers resend from, so a mail the server keeps refusing is counted until it goes."""
    cutoff = (at or now()) - timedelta(minutes=settings.MAIL_OWED_ALERT_MINUTES if minutes is None else minutes)
    return (User.objects.filter(itemisation_notice_due_at__lt=cutoff).count()
            + DataSubjectRequest.objects.filter(extension_notice_due_at__lt=cutoff).count()
            + Restriction.objects.filter(lift_notice_asked_at__lt=cutoff, lift_notice_sent_at__isnull=True,
                                         lifted_at__isnull=True).count()
            + Restriction.objects.filter(continuation_notice_due_at__lt=cutoff, lifted_at__isnull=True).count()
            + PolicyVersion.objects.filter(email_due_at__lt=cutoff, emailed_at__isnull=True).count())


def ops_status(*, at: datetime | None = None) -> OpsStatus:
    moment = at or now()
    checked = bool(settings.REDIS_URL) and not settings.CELERY_TASK_ALWAYS_EAGER
    last = beat_last_ran() if checked else None
    return OpsStatus(ciot_stale_since=ciot_sync_stale_since(at=moment), beat_checked=checked, beat_last_ran=last,
                     beat_late=checked and (last is None or moment - last > BEAT_LATE_AFTER),
                     mail_owed=mail_owed_count(at=moment), mail_owed_minutes=settings.MAIL_OWED_ALERT_MINUTES)
