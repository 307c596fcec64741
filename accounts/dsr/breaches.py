"""The breach register (GDPR art. 33/34; Tw art. 11.3a and Reg. (EU) 611/2013 for telecom).

A telecom-service breach must reach the authority within 24 hours of detection, any other within
72 hours. Notifications are staged (initial, follow-up, final) per recipient; a telecom breach's
initial notification to the authority is followed by the full one within 3 days (Reg. (EU) 611/2013
art. 2(3)). An incident can only be closed once it records whether and when the authority and the
users were told, or why not, and owes the authority nothing more.

The register is an accountability record (GDPR art. 33(5)): a notification recorded in error is withdrawn with a
reason, never deleted or changed. It stays in the register, marked, and the audit log records the withdrawal;
the incident's clocks are counted again from the records that stand.
"""
from __future__ import annotations

from copy import copy
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.timezone import now
from django.utils.translation import gettext_noop

from voipxs.exceptions import ApplicationError
from voipxs.privacy.audit import audit_record
from voipxs.privacy.purposes import BREACH_PURPOSE

from .deadlines import ReminderStage
from .models import BreachIncident, BreachNotification

TITLE_REQUIRED = gettext_noop("Give the incident a title.")
SCOPE_REQUIRED = gettext_noop("Describe the scope (what data, how many people) without personal data.")
DETECTED_IN_FUTURE = gettext_noop("The detection time cannot be in the future.")
INCIDENT_CLOSED = gettext_noop("This incident is closed.")
ACM_ONLY_TELECOM = gettext_noop("The ACM is notified of telecom-service breaches only.")
SENT_AT_REQUIRED = gettext_noop("Give the date and time the notification was sent.")
SENT_IN_FUTURE = gettext_noop("The notification cannot have been sent in the future.")
SENT_BEFORE_DETECTION = gettext_noop("The notification cannot have been sent before the breach was detected.")
REFERENCE_REQUIRED = gettext_noop("Give the reference the authority gave this notification (the case number in its "
                                  "confirmation); without it the register cannot prove the authority was told.")
ALREADY_WITHDRAWN = gettext_noop("This record is already withdrawn.")
WITHDRAWAL_REASON_REQUIRED = gettext_noop("Say why the record is withdrawn: the register keeps the reason.")
# Regulators answer a notification with their own case number; users get no reference.
REFERENCE_RECIPIENTS = frozenset({BreachNotification.Recipient.AUTHORITY, BreachNotification.Recipient.ACM})


@transaction.atomic
def breach_incident_create(*, title: str, detected_at: datetime, scope: str, telecom_service: bool,
                           affected_count: int = 0, actor: Any) -> BreachIncident:
    if not title.strip():
        raise ApplicationError(TITLE_REQUIRED, extra={"field": "title"})
    if not scope.strip():
        raise ApplicationError(SCOPE_REQUIRED, extra={"field": "scope"})
    if detected_at > now():
        raise ApplicationError(DETECTED_IN_FUTURE, extra={"field": "detected_at"})
    incident = BreachIncident.objects.create(title=title.strip()[:200], detected_at=detected_at, scope=scope.strip(),
                                             telecom_service=telecom_service, affected_count=affected_count)
    audit_record(actor=actor, action="breach.create", purpose=BREACH_PURPOSE, target_type="breach",
                 target_id=incident.pk, extra={"telecom": telecom_service, "clock_hours": incident.clock_hours})
    return incident


def breach_notification_check(*, incident: BreachIncident, recipient: str, stage: str,
                              sent_at: datetime | None = None, reference: str = "") -> None:
    """Whether the notification may be recorded so (before the DPO confirms it; the service checks again)."""
    if incident.status == BreachIncident.Status.CLOSED:
        raise ApplicationError(INCIDENT_CLOSED)
    if recipient not in BreachNotification.Recipient.values:
        raise ApplicationError(gettext_noop("Choose a recipient."), extra={"field": "recipient"})
    if stage not in BreachNotification.Stage.values:
        raise ApplicationError(gettext_noop("Choose a stage."), extra={"field": "stage"})
    if recipient == BreachNotification.Recipient.ACM and not incident.telecom_service:
        raise ApplicationError(ACM_ONLY_TELECOM, extra={"field": "recipient"})
    _check_notification(incident, recipient=recipient, sent_at=sent_at, reference=reference)


@transaction.atomic
def breach_notification_record(*, incident: BreachIncident, recipient: str, stage: str, sent_at: datetime | None = None,
                               reference: str = "", note: str = "", actor: Any) -> BreachNotification:
    inc = BreachIncident.objects.select_for_update().get(pk=incident.pk)
    breach_notification_check(incident=inc, recipient=recipient, stage=stage, sent_at=sent_at, reference=reference)
    note_obj = BreachNotification.objects.create(incident=inc, recipient=recipient, stage=stage, sent_at=sent_at,
                                                 reference=reference.strip()[:120], note=note)
    if recipient == BreachNotification.Recipient.AUTHORITY:
        _authority_told(inc, stage=stage, sent_at=sent_at)
    if recipient == BreachNotification.Recipient.USERS and inc.users_notified_at is None:
        inc.users_notified_at = sent_at
        inc.save(update_fields=["users_notified_at"])
    audit_record(actor=actor, action="breach.notify", purpose=BREACH_PURPOSE, target_type="breach", target_id=inc.pk,
                 extra={"recipient": recipient, "stage": stage, "late": sent_at > inc.authority_deadline})
    return note_obj


def _authority_told(inc: BreachIncident, *, stage: str, sent_at: datetime) -> None:
    """The authority's clocks after a notification: the first one stops the 24/72-hour clock; an initial one
    of a telecom breach starts the 3 days to the full one (Reg. (EU) 611/2013 art. 2(3)), which a follow-up or
    final one ends. Each new clock gets its own reminders."""
    fields = []
    if inc.authority_notified_at is None:
        inc.authority_notified_at = sent_at
        fields.append("authority_notified_at")
        if stage == BreachNotification.Stage.INITIAL and inc.telecom_service:
            inc.authority_full_due_at = sent_at + timedelta(days=BreachIncident.FULL_NOTIFICATION_DAYS)
            inc.reminder_stage = ReminderStage.NONE
            fields += ["authority_full_due_at", "reminder_stage"]
    elif stage != BreachNotification.Stage.INITIAL and inc.authority_full_due_at is not None:
        inc.authority_full_due_at = None
        fields.append("authority_full_due_at")
    if fields:
        inc.save(update_fields=fields)


def _check_notification(inc: BreachIncident, *, recipient: str, sent_at: datetime | None, reference: str) -> None:
    """A notification records that someone was told: when, and (for a regulator) under which reference."""
    if sent_at is None:
        raise ApplicationError(SENT_AT_REQUIRED, extra={"field": "sent_at"})
    if sent_at > now():
        raise ApplicationError(SENT_IN_FUTURE, extra={"field": "sent_at"})
    if sent_at < inc.detected_at:
        raise ApplicationError(SENT_BEFORE_DETECTION, extra={"field": "sent_at"})
    if recipient in REFERENCE_RECIPIENTS and not reference.strip():
        raise ApplicationError(REFERENCE_REQUIRED, extra={"field": "reference"})


def breach_incident_close_check(*, incident: BreachIncident, authority_not_notified_reason: str = "",
                                users_not_notified_reason: str = "") -> BreachIncident:
    """Whether the incident may be closed so (before the DPO confirms it): still open, and for a party not notified
    the reason why (the model's rules). Returns a copy of the incident as it would be closed, unsaved."""
    inc = copy(incident)
    if inc.status == BreachIncident.Status.CLOSED:
        raise ApplicationError(INCIDENT_CLOSED)
    inc.authority_not_notified_reason = authority_not_notified_reason.strip() if not inc.authority_notified_at else ""
    inc.users_not_notified_reason = users_not_notified_reason.strip() if not inc.users_notified_at else ""
    inc.status, inc.closed_at = BreachIncident.Status.CLOSED, now()
    try:
        inc.full_clean()
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        raise ApplicationError(messages[0], extra={"field": field}) from None
    return inc


@transaction.atomic
def breach_incident_close(*, incident: BreachIncident, authority_not_notified_reason: str = "",
                          users_not_notified_reason: str = "", actor: Any) -> BreachIncident:
    inc = breach_incident_close_check(
        incident=BreachIncident.objects.select_for_update().get(pk=incident.pk),
        authority_not_notified_reason=authority_not_notified_reason,
        users_not_notified_reason=users_not_notified_reason)
    inc.save(update_fields=["status", "closed_at", "authority_not_notified_reason", "users_not_notified_reason"])
    audit_record(actor=actor, action="breach.close", purpose=BREACH_PURPOSE, target_type="breach", target_id=inc.pk)
    return inc



def breach_notification_withdraw_check(*, notification: BreachNotification, reason: str) -> BreachIncident:
    """Whether the record may be withdrawn so (before the DPO confirms it): the incident still open (a closed one
    was closed on these records), the record standing, a reason given. Returns a copy of the incident with its
    clocks as the withdrawal would leave them, unsaved."""
    inc = copy(notification.incident)
    if inc.status == BreachIncident.Status.CLOSED:
        raise ApplicationError(INCIDENT_CLOSED)
    if notification.withdrawn_at is not None:
        raise ApplicationError(ALREADY_WITHDRAWN, extra={"field": "notification"})
    if not reason.strip():
        raise ApplicationError(WITHDRAWAL_REASON_REQUIRED, extra={"field": "reason"})
    standing = [n for n in inc.notifications.all() if n.withdrawn_at is None and n.pk != notification.pk]
    _count_clocks(inc, standing)
    return inc


@transaction.atomic
def breach_notification_withdraw(*, notification: BreachNotification, reason: str, actor: Any) -> BreachNotification:
    BreachIncident.objects.select_for_update().get(pk=notification.incident_id)  # one step on an incident at a time
    record = BreachNotification.objects.select_related("incident").get(pk=notification.pk)
    inc = breach_notification_withdraw_check(notification=record, reason=reason)
    record.withdrawn_at, record.withdrawal_reason = now(), reason.strip()
    record.save(update_fields=["withdrawn_at", "withdrawal_reason"])
    inc.save(update_fields=["authority_notified_at", "authority_full_due_at", "users_notified_at", "reminder_stage"])
    # The reason is the DPO's free text: it stays in the register, not in the audit log.
    audit_record(actor=actor, action="breach.notify.withdraw", purpose=BREACH_PURPOSE, target_type="breach",
                 target_id=inc.pk, extra={"notification": record.pk, "recipient": record.recipient,
                                          "stage": record.stage})
    return record


def _count_clocks(inc: BreachIncident, standing: list[BreachNotification]) -> None:
    """The incident's clocks from the records that stand, as recording them in the order sent would set them."""
    authority = sorted((n for n in standing if n.recipient == BreachNotification.Recipient.AUTHORITY),
                       key=lambda n: n.sent_at)
    users = sorted((n.sent_at for n in standing if n.recipient == BreachNotification.Recipient.USERS))
    before = (inc.authority_notified_at, inc.authority_full_due_at)
    inc.authority_notified_at = authority[0].sent_at if authority else None
    inc.authority_full_due_at = None
    if authority and authority[0].stage == BreachNotification.Stage.INITIAL and inc.telecom_service and all(
            n.stage == BreachNotification.Stage.INITIAL for n in authority):
        inc.authority_full_due_at = authority[0].sent_at + timedelta(days=BreachIncident.FULL_NOTIFICATION_DAYS)
    inc.users_notified_at = users[0] if users else None
    if (inc.authority_notified_at, inc.authority_full_due_at) != before:  # a clock that runs again is reminded again
        inc.reminder_stage = ReminderStage.NONE
