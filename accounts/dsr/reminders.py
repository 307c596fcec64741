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
from django.utils.timezone import localdate, make_aware
from django.utils.timezone import now as tz_now
from django.utils.translation import gettext, ngettext, pgettext

from voipxs.mail import mail_date, mail_datetime
from voipxs.privacy.audit import audit_record
from voipxs.privacy.purposes import BREACH_PURPOSE, DSR_PURPOSE, Role

from ..models import User
from ..services.roles import staff_role_mail
from .deadlines import ReminderStage, reminder_stage_at
from .models import BreachIncident, DataSubjectRequest, Restriction

logger = logging.getLogger(__name__)

# Each reminder is recorded under the purpose of the duty whose deadline it is (LEGAL.md row 21).
REMINDER_PURPOSES = {"dsr": DSR_PURPOSE, "breach": BREACH_PURPOSE, "restriction": DSR_PURPOSE}


def _remind(*, rows: QuerySet, deadline: Callable[[Any], datetime], warning: timedelta, moment: datetime,
            line: Callable[[Any, str], str], subject: Callable[[int], str], target_type: str, actor: Any) -> int:
    """Mail the DPOs one message listing each row whose stage moved on (per language: `subject(count)` and
    `line(row, stage)` render in each DPO's); record the stage and an audit entry."""
    with transaction.atomic():
        due = []
        for row in rows.select_for_update().order_by("pk"):
            stage = reminder_stage_at(deadline(row), moment, warning)
            if stage != ReminderStage.NONE and stage != row.reminder_stage:
                due.append((row, stage))
        if not due:
            return 0
        sent_to = staff_role_mail(role=Role.DPO, compose=lambda: (
            subject(len(due)), "\n".join(line(row, stage) for row, stage in due)))
        if not sent_to:
            # Nothing is recorded, so the reminders go out once a DPO has an address.
            logger.warning("no active DPO with an e-mail address: %d %s reminder(s) not sent", len(due), target_type)
            return 0
        for row, stage in due:
            row.reminder_stage = stage
            row.save(update_fields=["reminder_stage"])
            audit_record(actor=actor, action=f"{target_type}.reminder", purpose=REMINDER_PURPOSES[target_type],
                         target_type=target_type, target_id=row.pk, extra={"stage": stage, "recipients": sent_to})
    return len(due)


def _dsr_line(req: DataSubjectRequest, stage: str) -> str:
    url = reverse("accounts_dsr:dpo-request", args=[req.pk])
    values = {"number": req.pk, "kind": req.kind, "due": mail_datetime(req.deadline), "url": url}
    if stage == ReminderStage.OVERDUE:
        return gettext("Request #%(number)s (%(kind)s) was due %(due)s - OVERDUE: %(url)s") % values
    return gettext("Request #%(number)s (%(kind)s) is due %(due)s: %(url)s") % values


def _dsr_subject(count: int) -> str:
    return ngettext("[VoIPXS] %(count)d data-subject request near or past its deadline",
                    "[VoIPXS] %(count)d data-subject requests near or past their deadline", count) % {"count": count}


def dsr_deadlines_remind(*, now: datetime | None = None, days: int | None = None, actor: Any = None) -> int:
    """E-mail the DPOs about open requests due within `days` days (DSR_REMINDER_DAYS) and about overdue ones."""
    moment = now or tz_now()
    warning = timedelta(days=settings.DSR_REMINDER_DAYS if days is None else days)
    rows = (DataSubjectRequest.objects.filter(status__in=DataSubjectRequest.OPEN_STATUSES, deadline__lte=moment + warning)
            .exclude(reminder_stage=ReminderStage.OVERDUE))
    return _remind(rows=rows, deadline=lambda req: req.deadline, warning=warning, moment=moment, line=_dsr_line,
                   subject=_dsr_subject,
                   target_type="dsr", actor=actor)


def _breach_line(inc: BreachIncident, stage: str) -> str:
    url = reverse("accounts_dsr:dpo-breach", args=[inc.pk])
    values = {"number": inc.pk, "hours": inc.clock_hours, "url": url}
    if inc.authority_notified_at is not None:  # told initially: the full notification is what is owed
        values["due"] = mail_datetime(inc.authority_full_due_at)
        if stage == ReminderStage.OVERDUE:
            return gettext("Breach #%(number)s: the full notification to the authority (Reg. (EU) 611/2013 art. "
                           "2(3)) was due %(due)s - OVERDUE: %(url)s") % values
        return gettext("Breach #%(number)s: the full notification to the authority (Reg. (EU) 611/2013 art. 2(3)) "
                       "is due %(due)s: %(url)s") % values
    values["due"] = mail_datetime(inc.authority_deadline)
    if stage == ReminderStage.OVERDUE:
        return gettext("Breach #%(number)s: the %(hours)s-hour clock to notify the authority ended %(due)s - "
                       "OVERDUE, no notification recorded (a late notification gives the reasons for the delay): "
                       "%(url)s") % values
    return gettext("Breach #%(number)s: the %(hours)s-hour clock to notify the authority ends %(due)s, no "
                   "notification recorded yet: %(url)s") % values


def _breach_subject(count: int) -> str:
    return ngettext("[VoIPXS] %(count)d breach: authority notification clock ending or ended",
                    "[VoIPXS] %(count)d breaches: authority notification clock ending or ended", count) % {
        "count": count}


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
                   line=_breach_line, subject=_breach_subject,
                   target_type="breach", actor=actor)


def _day_after(day: date) -> datetime:
    """A restriction's end: the start of the day after its last day, in the site's time zone."""
    return make_aware(datetime.combine(day + timedelta(days=1), time.min))


def _restriction_line(restriction: Restriction, stage: str) -> str:
    url = reverse("accounts_dsr:dpo-restrictions") + f"#restriction-{restriction.pk}"
    if restriction.lift_notice_sent_at:
        told = pgettext("restriction reminder", "person told %(day)s") % {
            "day": mail_date(localdate(restriction.lift_notice_sent_at))}
    else:
        told = pgettext("restriction reminder", "person not told yet")
    state = (pgettext("restriction reminder", "not lifted") if stage == ReminderStage.OVERDUE
             else pgettext("restriction reminder", "ends soon"))
    return gettext("Restriction #%(number)s (account #%(account)s): last day %(day)s, %(state)s (%(told)s): "
                   "%(url)s") % {"number": restriction.pk, "account": restriction.user_id,
                                 "day": mail_date(restriction.ends_on), "state": state, "told": told, "url": url}


def _restriction_subject(count: int) -> str:
    return ngettext("[VoIPXS] %(count)d restriction ending soon or past its end date, not lifted",
                    "[VoIPXS] %(count)d restrictions ending soon or past their end date, not lifted", count) % {
        "count": count}


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
                   subject=_restriction_subject,
                   target_type="restriction", actor=actor)
