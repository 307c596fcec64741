"""The notice to a user that data about them was handed over. Civil and dispute requests notify by
default (NOTICE_BY_DEFAULT_BASES): at delivery each user concerned gets a draft, which an officer reviews (what
the user will be told, and to whom) and sends; the user sees a notice only once it is sent. A running secrecy
order withholds the notice until it ends, and a withheld notice is sent only by an officer, never before that
day. A request that does not notify at all records why and when to review that (intake.notice_decision); an
officer records a new decision."""
from __future__ import annotations

from datetime import date, datetime

from django.db import transaction
from django.utils.timezone import localdate, now as tz_now
from django.utils.translation import gettext_noop

from accounts.dsr.recipients import recipient_notifications_sync
from voipxs.exceptions import ApplicationError
from voipxs.privacy.audit import audit_record
from voipxs.privacy.purposes import Purpose, SystemActor

from ..models import DisclosureRequest, Notice
from ..selectors import request_purpose, request_subject_ids
from .checks import WRONG_STATE, request_audit, request_locked, require_officer
from .intake import notice_decision

SECRECY_RUNNING = gettext_noop("The secrecy order is still running.")
NOTICE_DECIDED_WITHHELD = gettext_noop("The notice to the user is withheld by decision; record a new decision "
                                       "to notify first.")
NOTICES_ALREADY_SENT = gettext_noop("Notices of this request were sent already; they cannot be withheld now.")
NO_NOTICE_TO_SEND = gettext_noop("This request has no notice to send.")
# What an officer sends: a draft, or a notice withheld while a secrecy order ran.
UNSENT = (Notice.State.DRAFT, Notice.State.WITHHELD)
NOTICES_ACTOR = SystemActor("disclosure_notices", frozenset({Purpose.LEGAL_OBLIGATION}))


def delivery_notices_create(*, req: DisclosureRequest, moment: datetime) -> int:
    """At delivery (inside its transaction): one notice per user concerned, a draft for an officer to review and
    send, or withheld until the secrecy order ends. Nothing is sent here. The number of notices."""
    today = localdate(moment)  # secrecy_until is a day in Amsterdam
    secret = req.secrecy_until is not None and req.secrecy_until > today
    notices = 0
    for user_id in sorted(request_subject_ids(req)):
        Notice.objects.get_or_create(request=req, user_id=user_id, defaults={
            "state": Notice.State.WITHHELD if secret else Notice.State.DRAFT,
            "withheld_until": req.secrecy_until if secret else None})
        notices += 1
        if not secret and req.notice_user:  # the person is told of it: a recipient of a request carried out before
            recipient_notifications_sync(user_id=user_id, actor=NOTICES_ACTOR)
    return notices


def _refuse_sending(notice: Notice, today: date) -> None:
    """Why `notice` may not be sent today, raised: it is no draft nor withheld, the decision withholds it, or the
    secrecy order still runs."""
    if notice.state not in UNSENT:
        raise ApplicationError(WRONG_STATE, extra={"field": "state"})
    if not notice.request.notice_user:
        raise ApplicationError(NOTICE_DECIDED_WITHHELD, extra={"field": "notice_user"})
    until = notice.request.secrecy_until
    if until is not None and until > today:
        raise ApplicationError(SECRECY_RUNNING, extra={"field": "secrecy_until"})


def notices_to_send(*, actor, request: DisclosureRequest) -> list[Notice]:
    """The notices of `request` that sending would send (drafts, and withheld ones once the secrecy order ended),
    for the officer's confirmation; refused as sending them would be, or when there is none."""
    require_officer(actor)
    notices = list(Notice.objects.filter(request=request, state__in=UNSENT).select_related("request__authority")
                   .order_by("pk"))
    if not notices:
        raise ApplicationError(NO_NOTICE_TO_SEND, extra={"field": "notices"})
    for notice in notices:
        _refuse_sending(notice, localdate(tz_now()))
    return notices


@transaction.atomic
def disclosure_notice_send(*, actor, notice: Notice) -> Notice:
    """Send a draft notice, or a withheld one once the secrecy order has ended (never before): from now on the
    user sees it."""
    require_officer(actor)
    notice = Notice.objects.select_for_update().select_related("request").get(pk=notice.pk)
    _refuse_sending(notice, localdate(tz_now()))
    was = notice.state
    notice.state, notice.sent_at = Notice.State.SENT, tz_now()
    notice.save(update_fields=["state", "sent_at"])
    audit_record(actor=actor, action="disclosure.notice_send", purpose=request_purpose(notice.request),
                 target_type="user", target_id=notice.user_id,
                 extra={"request": notice.request_id, "notice": notice.pk, "was": was})
    # Told now (a secrecy order that ended): the DPO must tell this recipient of the person's requests carried out.
    recipient_notifications_sync(user_id=notice.user_id, actor=actor)
    return notice


@transaction.atomic
def disclosure_request_notices_send(*, actor, request: DisclosureRequest) -> list[Notice]:
    """Send every notice of a request still to send: its drafts, after the officer reviewed them, or its withheld
    notices once the secrecy order has ended. All or none."""
    require_officer(actor)
    return [disclosure_notice_send(actor=actor, notice=n) for n in notices_to_send(actor=actor, request=request)]


@transaction.atomic
def disclosure_notice_decision_set(*, actor, request: DisclosureRequest, notify: bool, reason: str = "",
                                   review_on: date | None = None) -> DisclosureRequest:
    """Record a new decision on the notice to the user, after a review (validated as at intake). Withheld, it
    needs a reason and gets a review date, reminded again on that day; notices already sent cannot be withheld
    (drafts can: they are not sent while it holds). Switched to notify on a request already delivered, the notices
    are created as delivery creates them (drafts, or withheld while a secrecy order runs).
    The audit holds the decision and the reason's length, never the reason (an officer's free text)."""
    require_officer(actor)
    req = request_locked(request=request)
    reason, review_on = notice_decision(legal_basis=req.legal_basis, notify=notify, reason=reason,
                                        review_on=review_on, today=localdate(tz_now()))
    if not notify and req.notices.filter(state=Notice.State.SENT).exists():
        raise ApplicationError(NOTICES_ALREADY_SENT, extra={"field": "notice_user"})
    req.notice_user, req.notice_withheld_reason, req.notice_review_on = notify, reason, review_on
    req.notice_review_reminded_at = None
    req.save(update_fields=["notice_user", "notice_withheld_reason", "notice_review_on", "notice_review_reminded_at"])
    notices = 0
    if notify and req.delivered_at is not None:
        notices = delivery_notices_create(req=req, moment=tz_now())
    request_audit(actor=actor, action="notice_decision", req=req, notify=notify, reason_length=len(reason),
                  notice_review_on=review_on.isoformat() if review_on else None, notices=notices)
    return req
