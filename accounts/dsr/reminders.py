"""Deadline reminders to the DPO: data-subject requests (GDPR art. 12(3)), breach notification clocks
(Tw 11.3a: 24 hours for telecom-service breaches; GDPR art. 33: 72 hours otherwise), and restrictions
(GDPR art. 18) not lifted whose last day is near (Restriction.DUE_SOON_DAYS) or has passed (daily).

Each item is reminded at most once per stage ("due soon", then "overdue"): the stage sent is stored on the
item, under a row lock, in the same transaction that sends the mail. Two overlapping runs therefore send
once (the second waits for the lock and finds the stage recorded), and a mail that fails rolls the stage
back so the next hourly run tries again. The mail names ids, kinds and due times only, never the person.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.timezone import localdate, localtime, make_aware
from django.utils.timezone import now as tz_now

from voipxs.privacy.audit import audit_record
from voipxs.privacy.purposes import Role

from ..models import User
from ..services.roles import staff_role_mail
from .models import BreachIncident, DataSubjectRequest, ReminderStage, Restriction, reminder_stage_at

logger = logging.getLogger(__name__)


def _when(moment: datetime) -> str:
    return f"{date_format(localtime(moment), 'DATETIME_FORMAT')} {localtime(moment):%Z}"


def _remind(*, rows: QuerySet, deadline: Callable[[Any], datetime], warning: timedelta, moment: datetime,
            line: Callable[[Any, str], str], subject: str, target_type: str, actor: Any) -> int:
    """Mail the DPOs one message listing each row whose stage moved on; record the stage and an audit entry."""
    with transaction.atomic():
        due = []
        for row in rows.select_for_update().order_by("pk"):
            stage = reminder_stage_at(deadline(row), moment, warning)
            if stage != ReminderStage.NONE and stage != row.reminder_stage:
                due.append((row, stage))
        if not due:
            return 0
        body = "\n".join(line(row, stage) for row, stage in due)
        sent_to = staff_role_mail(role=Role.DPO, subject=subject.format(count=len(due)), message=body)
        if not sent_to:
            # Nothing is recorded, so the reminders go out once a DPO has an address.
            logger.warning("no active DPO with an e-mail address: %d %s reminder(s) not sent", len(due), target_type)
            return 0
        for row, stage in due:
            row.reminder_stage = stage
            row.save(update_fields=["reminder_stage"])
            audit_record(actor=actor, action=f"{target_type}.reminder", target_type=target_type, target_id=row.pk,
                         extra={"stage": stage, "recipients": sent_to})
    return len(due)


def _dsr_line(req: DataSubjectRequest, stage: str) -> str:
    url = reverse("accounts_dsr:dpo-request", args=[req.pk])
    if stage == ReminderStage.OVERDUE:
        return f"Request #{req.pk} ({req.kind}) was due {_when(req.deadline)} - OVERDUE: {url}"
    return f"Request #{req.pk} ({req.kind}) is due {_when(req.deadline)}: {url}"


def dsr_deadlines_remind(*, now: datetime | None = None, days: int | None = None, actor: Any = None) -> int:
    """E-mail the DPOs about open requests due within `days` days (DSR_REMINDER_DAYS) and about overdue ones."""
    moment = now or tz_now()
    warning = timedelta(days=settings.DSR_REMINDER_DAYS if days is None else days)
    rows = (DataSubjectRequest.objects.filter(status__in=DataSubjectRequest.OPEN_STATUSES, deadline__lte=moment + warning)
            .exclude(reminder_stage=ReminderStage.OVERDUE))
    return _remind(rows=rows, deadline=lambda req: req.deadline, warning=warning, moment=moment, line=_dsr_line,
                   subject="[VoIPXS] {count} data-subject request(s) near or past their deadline",
                   target_type="dsr", actor=actor)


def _breach_line(inc: BreachIncident, stage: str) -> str:
    url = reverse("accounts_dsr:dpo-breach", args=[inc.pk])
    if inc.authority_notified_at is not None:  # told initially: the full notification is what is owed
        late = " - OVERDUE" if stage == ReminderStage.OVERDUE else ""
        return (f"Breach #{inc.pk}: the full notification to the authority (Reg. (EU) 611/2013 art. 2(3)) is due "
                f"{_when(inc.authority_full_due_at)}{late}: {url}")
    if stage == ReminderStage.OVERDUE:
        return (f"Breach #{inc.pk}: the {inc.clock_hours}-hour clock to notify the authority ended "
                f"{_when(inc.authority_deadline)} - OVERDUE, no notification recorded "
                f"(a late notification gives the reasons for the delay): {url}")
    return (f"Breach #{inc.pk}: the {inc.clock_hours}-hour clock to notify the authority ends "
            f"{_when(inc.authority_deadline)}, no notification recorded yet: {url}")


def breach_clocks_remind(*, now: datetime | None = None, hours: int | None = None, actor: Any = None) -> int:
    """E-mail the DPOs about open breaches whose authority clock ends within `hours` hours (BREACH_REMINDER_HOURS)
    or has ended: the first notification's, or after an initial one the full notification's."""
    moment = now or tz_now()
    warning = timedelta(hours=settings.BREACH_REMINDER_HOURS if hours is None else hours)
    # The clock ends at detected_at + 24 h (telecom) or + 72 h: within the warning when detected before
    # moment + warning - clock.
    near = (Q(telecom_service=True, detected_at__lte=moment + warning - timedelta(hours=BreachIncident.TELECOM_CLOCK_HOURS))
            | Q(telecom_service=False, detected_at__lte=moment + warning - timedelta(hours=BreachIncident.GDPR_CLOCK_HOURS)))
    near = (Q(near, authority_notified_at__isnull=True)
            | Q(authority_notified_at__isnull=False, authority_full_due_at__lte=moment + warning))
    rows = (BreachIncident.objects.filter(near, status=BreachIncident.Status.OPEN)
            .exclude(reminder_stage=ReminderStage.OVERDUE))
    return _remind(rows=rows, deadline=lambda inc: inc.clock_deadline, warning=warning, moment=moment,
                   line=_breach_line, subject="[VoIPXS] {count} breach(es): authority notification clock ending or ended",
                   target_type="breach", actor=actor)


def _day_after(day: date) -> datetime:
    """A restriction's end: the start of the day after its last day, in the site's time zone."""
    return make_aware(datetime.combine(day + timedelta(days=1), time.min))


def _restriction_line(restriction: Restriction, stage: str) -> str:
    url = reverse("accounts_dsr:dpo-restrictions") + f"#restriction-{restriction.pk}"
    told = (f"person told {restriction.lift_notice_sent_at.date().isoformat()}" if restriction.lift_notice_sent_at
            else "person not told yet")
    state = "not lifted" if stage == ReminderStage.OVERDUE else "ends soon"
    return (f"Restriction #{restriction.pk} (account #{restriction.user_id}): last day "
            f"{restriction.ends_on.isoformat()}, {state} ({told}): {url}")


def restriction_ends_remind(*, now: datetime | None = None, actor: Any = None) -> int:
    """E-mail the DPOs about active restrictions (GDPR art. 18) whose last day is within DUE_SOON_DAYS days
    ("due soon": time to tell the person, art. 18(3), or to move the end date), and again once it has passed:
    once per stage and end date (moving the end date clears the stage). Erased accounts are left out: their
    restriction is the law's and is never lifted here."""
    moment = now or tz_now()
    days = Restriction.DUE_SOON_DAYS
    not_erased = User.objects.filter(anonymised_at__isnull=True).values("pk")
    rows = (Restriction.objects.filter(lifted_at__isnull=True, ends_on__lte=localdate(moment) + timedelta(days=days),
                                       user_id__in=not_erased)
            .exclude(reminder_stage=ReminderStage.OVERDUE))
    # The deadline is the start of the day after the last day, so a last day within `days` days of today is
    # within `days` + 1 days of now (the daily run is at 07:30, clear of midnight and of a DST shift's hour).
    return _remind(rows=rows, deadline=lambda r: _day_after(r.ends_on), warning=timedelta(days=days + 1),
                   moment=moment, line=_restriction_line,
                   subject="[VoIPXS] {count} restriction(s) ending soon or past their end date, not lifted",
                   target_type="restriction", actor=actor)
