"""GDPR art. 19: the controller tells each recipient to whom personal data was disclosed of a rectification,
erasure or restriction carried out, and tells the person about those recipients if they ask.

When such a request is carried out, the recipients the kernel's registry names for the person (the disclosure
register's bodies: disclosures/recipients.py) become one RecipientNotification each, for the DPO, who records on
the request's page when and how each was told. Only recipients of disclosures made before the request was carried out
count (a later one received the data as it was then). A disclosure under a running secrecy order, or one the person
is not to be told of (UAVG art. 41), is not named by the registry, so it is listed nowhere, the DPO's page included.
One whose secrecy order has ended but whose notice the officers have not sent yet is shown on the DPO's page as
pending (recipient_notifications_pending, read live from the registry, never stored, so never in the person's
export); when its notice is sent the disclosures app calls recipient_notifications_sync and it is listed then, for
the DPO to record (disclosures/recipients.py says why). The person reads the list in their export (section
"recipient_notifications"). A request closed by an erasure (its outcome "closed_by_erasure") or by the retention
purge's anonymisation ("closed_by_anonymisation") was not carried out: it lists nobody; the erasure's own request lists
the recipients, also when replayed after a restore."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any, Iterable

from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils.timezone import localdate
from django.utils.translation import gettext_noop

from voipxs.exceptions import ApplicationError
from voipxs.privacy.audit import audit_record
from voipxs.privacy.purposes import DSR_PURPOSE, Purpose, SystemActor, require_purpose
from voipxs.privacy.registry import recipients_of

from ..models import User
from .models import DataSubjectRequest
from .recipient_models import RecipientNotification
from .selectors import require_dpo

Kind = DataSubjectRequest.Kind
# The requests art. 19 is about: what they changed must reach whoever received the data.
TOLD_TO_RECIPIENTS = frozenset({Kind.RECTIFICATION, Kind.ERASURE, Kind.RESTRICTION})
ALREADY_RECORDED = gettext_noop("This recipient was already recorded as notified.")
NOTIFIED_IN_FUTURE = gettext_noop("The day the recipient was notified cannot be in the future.")
NOTIFIED_BEFORE_REQUEST = gettext_noop("The recipient cannot have been notified before the request was carried out.")
HOW_UNKNOWN = gettext_noop("Choose how the recipient was notified.")
# Who marks again, after a restore, the recipients the DPO recorded as told after the backup was taken
# (retention/backup/notifications.py).
RECIPIENT_REPLAY_ACTOR = SystemActor("recipient_notification_replay", frozenset({DSR_PURPOSE}))


@transaction.atomic
def recipient_notifications_sync(*, user_id: int, actor: Any) -> int:
    """List, for each of the person's carried-out rectification, erasure and restriction requests, the recipients
    the registry names now that were disclosed to before it; those already listed stay as they are. Each request
    that gains recipients gets an audit entry with their number (never who they are). How many were added."""
    done = list(_carried_out().filter(user_id=user_id).order_by("pk"))
    if not done:
        return 0
    recipients = recipients_of(User.objects.get(pk=user_id))
    added = 0
    for req in done:
        new = 0
        for r in (r for r in recipients if r["disclosed_at"] <= req.completed_at):
            _, created = RecipientNotification.objects.get_or_create(request=req, recipient_key=r["key"], defaults={
                "recipient": r["recipient"][:200], "recipient_kind": r.get("recipient_kind", "")[:40],
                "disclosed_at": r["disclosed_at"]})
            new += created
        if new:
            audit_record(actor=actor, action="dsr.recipients_listed", purpose=DSR_PURPOSE, target_type="dsr",
                         target_id=req.pk, extra={"recipients": new})
        added += new
    return added


def _carried_out() -> QuerySet[DataSubjectRequest]:
    """The rectification, erasure and restriction requests carried out; not one an erasure or an anonymisation closed
    unanswered."""
    return (DataSubjectRequest.objects.filter(kind__in=TOLD_TO_RECIPIENTS, status=DataSubjectRequest.Status.COMPLETED,
                                              completed_at__isnull=False)
            .exclude(outcome__has_key="closed_by_erasure").exclude(outcome__has_key="closed_by_anonymisation"))


def recipient_notification_check(*, notification: RecipientNotification, notified_on: date | None, how: str) -> None:
    if notification.notified_on is not None:
        raise ApplicationError(ALREADY_RECORDED)
    if how not in RecipientNotification.How.values:
        raise ApplicationError(HOW_UNKNOWN, extra={"field": "how"})
    if notified_on is None or notified_on > localdate():
        raise ApplicationError(NOTIFIED_IN_FUTURE, extra={"field": "notified_on"})
    if notified_on < localdate(notification.request.completed_at):
        raise ApplicationError(NOTIFIED_BEFORE_REQUEST, extra={"field": "notified_on"})


@transaction.atomic
def recipient_notification_record(*, notification: RecipientNotification, notified_on: date | None, how: str,
                                  actor: Any) -> RecipientNotification:
    """The DPO records the day and the way a recipient was told of the request carried out. Once: a record stands."""
    require_dpo(actor)
    notification = (RecipientNotification.objects.select_for_update().select_related("request")
                    .get(pk=notification.pk))
    recipient_notification_check(notification=notification, notified_on=notified_on, how=how)
    notification.notified_on, notification.how, notification.recorded_by = notified_on, how, actor
    notification.full_clean()
    notification.save(update_fields=["notified_on", "how", "recorded_by"])
    audit_record(actor=actor, action="dsr.recipient_notified", purpose=DSR_PURPOSE, target_type="dsr",
                 target_id=notification.request_id, extra={"notification": notification.pk, "how": how})
    return notification


def recipient_notifications_told() -> QuerySet[RecipientNotification]:
    """Every recipient recorded as told, for the key backup's list (retention/backup/notifications.py): a system
    read of ids, times and choices (the person's account by id and creation time), shown to no one."""
    return (RecipientNotification.objects.filter(notified_on__isnull=False)
            .select_related("request__user", "recorded_by")
            .only("request_id", "request__received_at", "request__user_id", "request__user__date_joined",
                  "recipient_key", "notified_on", "how", "recorded_by_id", "recorded_by__date_joined")
            .order_by("notified_on", "request_id", "recipient_key"))


@transaction.atomic
def recipient_notification_replay(*, request_id: int, request_received: datetime, recipient_key: str,
                                  notified_on: date, how: str, recorded_by: int | None,
                                  recorded_by_joined: datetime | None, backup: str,
                                  account: tuple[int, datetime] | None = None) -> bool:
    """After a restore: mark the recipient `recipient_key` of request `request_id` (received at `request_received`:
    numbers may be handed out again) as the DPO recorded it after the backup was taken, by RECIPIENT_REPLAY_ACTOR.
    With `account` (the person's id and when their account was made), the request is also found under another
    number, as the same person's received at the same moment: an erasure replayed after a restore under a new
    number (its own was taken). False, changing nothing, when there is no such row or it is marked already (it
    stays as it was). The staff member is named only if their account is the one of the record (its creation time
    too); else the row names nobody and the audit entry keeps the id."""
    same = Q(request_id=request_id)
    if account is not None:
        same |= Q(request__user_id=account[0], request__user__date_joined=account[1])
    notification = (RecipientNotification.objects.select_for_update()
                    .filter(same, request__received_at=request_received, recipient_key=recipient_key,
                            notified_on__isnull=True).order_by("pk").first())
    if notification is None:
        return False
    staff = User.objects.filter(pk=recorded_by, date_joined=recorded_by_joined).first() if recorded_by else None
    notification.notified_on, notification.how, notification.recorded_by = notified_on, how, staff
    notification.save(update_fields=["notified_on", "how", "recorded_by"])
    audit_record(actor=RECIPIENT_REPLAY_ACTOR, action="dsr.recipient_notified_replayed", purpose=DSR_PURPOSE,
                 target_type="dsr", target_id=notification.request_id,
                 extra={"notification": notification.pk, "how": how, "recorded_by": recorded_by, "backup": backup})
    return True


def recipient_notification_list(*, actor: Any, req: DataSubjectRequest,
                                purpose: Purpose | str = DSR_PURPOSE) -> QuerySet[RecipientNotification]:
    """The recipients listed for `req`, for the DPO (the read is recorded)."""
    require_dpo(actor)
    require_purpose(actor=actor, purpose=purpose, action="dsr.recipients", target_type="dsr", target_id=req.pk)
    return RecipientNotification.objects.filter(request=req).order_by("disclosed_at", "pk")


def recipient_notifications_pending(*, actor: Any, req: DataSubjectRequest) -> list[dict]:
    """For the DPO's page of `req` (carried out): the recipients disclosed to before it that wait only for the
    person's notice to be sent (a secrecy order that ended), to show as pending. Not stored; the read is recorded."""
    require_dpo(actor)
    require_purpose(actor=actor, purpose=DSR_PURPOSE, action="dsr.recipients_awaiting_notice", target_type="dsr",
                    target_id=req.pk)
    if not _carried_out().filter(pk=req.pk).exists():
        return []
    # Never one listed already: a notice once sent (listed then) is never withheld again (services/notices.py).
    return [r for r in recipients_of(req.user, pending=True) if r["disclosed_at"] <= req.completed_at]


def recipient_notification_get(*, actor: Any, req: DataSubjectRequest, pk: int) -> RecipientNotification:
    return recipient_notification_list(actor=actor, req=req).get(pk=pk)


def requests_with_recipients_to_notify(*, actor: Any, request_ids: Iterable[int]) -> set[int]:
    """Of `request_ids`, those with a recipient the DPO has not yet recorded as notified (the queue marks them)."""
    require_dpo(actor)
    require_purpose(actor=actor, purpose=DSR_PURPOSE, action="dsr.recipients_pending", target_type="dsr")
    return set(_not_yet_told().filter(request_id__in=list(request_ids)).values_list("request_id", flat=True))


def _not_yet_told() -> QuerySet[RecipientNotification]:
    return RecipientNotification.objects.filter(notified_on__isnull=True)


def recipient_notifications_pending_count(*, actor: Any) -> int:
    """How many recipients are listed and not yet recorded as told, over every request (the DPO's home page)."""
    require_dpo(actor)
    require_purpose(actor=actor, purpose=DSR_PURPOSE, action="dsr.recipients_pending", target_type="dsr")
    return _not_yet_told().count()


def requests_with_recipients_pending(*, actor: Any) -> list[dict]:
    """Every request with recipients not yet recorded as told, the one carried out longest ago first, with how many:
    {"pk", "kind", "completed_at", "pending"} (the DPO's queue; its "Recently closed" list may no longer show it)."""
    require_dpo(actor)
    require_purpose(actor=actor, purpose=DSR_PURPOSE, action="dsr.recipients_pending", target_type="dsr")
    rows = (_not_yet_told().values("request_id", "request__kind", "request__completed_at")
            .annotate(pending=Count("pk")).order_by("request__completed_at", "request_id"))
    return [{"pk": r["request_id"], "kind": Kind(r["request__kind"]).label, "completed_at": r["request__completed_at"],
             "pending": r["pending"]} for r in rows]


def export_recipient_notifications(user: Any) -> Iterable[dict]:
    """The "recipient_notifications" section of the person's export (art. 19, second sentence): per request carried
    out, the recipients of their data and when and how each was told (null: not yet)."""
    rows = (RecipientNotification.objects.filter(request__user_id=user.pk).select_related("request")
            .order_by("request_id", "disclosed_at", "pk"))
    for n in rows:
        yield {"request": n.request_id, "request_kind": n.request.kind, "recipient": n.recipient,
               "recipient_kind": n.recipient_kind, "disclosed_at": n.disclosed_at.isoformat(),
               "notified_on": n.notified_on.isoformat() if n.notified_on else None, "how": n.how}
