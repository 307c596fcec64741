"""The notice to a user that data about them was handed over. Civil and dispute requests notify by
default (NOTICE_BY_DEFAULT_BASES); a running secrecy order withholds the notice until it ends, and a
withheld notice is sent only by an officer, never before that day."""
from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils.timezone import now as tz_now

from accounts.models import PhoneNumber
from voipxs.exceptions import ApplicationError
from voipxs.privacy.audit import audit_record

from ..models import DisclosureRequest, Notice
from .checks import WRONG_STATE, require_officer

SECRECY_RUNNING = "The secrecy order is still running."


def _notice_users(req: DisclosureRequest) -> set[int]:
    """The subscribers concerned: target accounts, and whoever held a target number in the window."""
    users = {t.account_id for t in req.targets.all() if t.account_id}
    indexes = [t.number_index for t in req.targets.all() if t.number_index]
    if indexes:
        users |= set(PhoneNumber.objects.filter(number_index__in=indexes, valid_from__lt=req.window_end)
                     .filter(Q(valid_to__isnull=True) | Q(valid_to__gt=req.window_start))
                     .values_list("user_id", flat=True))
    return users


def delivery_notices_create(*, req: DisclosureRequest, moment: datetime) -> int:
    """At delivery (inside its transaction): one notice per user concerned, sent now or withheld until
    the secrecy order ends. The number of notices."""
    today = moment.date()
    secret = req.secrecy_until is not None and req.secrecy_until > today
    notices = 0
    for user_id in sorted(_notice_users(req)):
        Notice.objects.get_or_create(request=req, user_id=user_id, defaults={
            "state": Notice.State.WITHHELD if secret else Notice.State.SENT,
            "withheld_until": req.secrecy_until if secret else None,
            "sent_at": None if secret else moment})
        notices += 1
    return notices


@transaction.atomic
def disclosure_notice_send(*, actor, notice: Notice) -> Notice:
    """Send a withheld notice once the secrecy order has ended (never before)."""
    require_officer(actor)
    notice = Notice.objects.select_for_update().select_related("request").get(pk=notice.pk)
    if notice.state != Notice.State.WITHHELD:
        raise ApplicationError(WRONG_STATE, extra={"field": "state"})
    until = notice.request.secrecy_until
    if until is not None and until > tz_now().date():
        raise ApplicationError(SECRECY_RUNNING, extra={"field": "secrecy_until"})
    notice.state, notice.sent_at = Notice.State.SENT, tz_now()
    notice.save(update_fields=["state", "sent_at"])
    audit_record(actor=actor, action="disclosure.notice_send", target_type="user", target_id=notice.user_id,
                 extra={"request": notice.request_id, "notice": notice.pk})
    return notice


@transaction.atomic
def disclosure_request_notices_send(*, actor, request: DisclosureRequest) -> list[Notice]:
    """Send every withheld notice of a request (the officers' "secrecy order ended" step)."""
    require_officer(actor)
    return [disclosure_notice_send(actor=actor, notice=n) for n in request.notices.filter(state=Notice.State.WITHHELD)]
