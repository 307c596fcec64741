"""Preservation orders (Sv 126ni, EPOC-PR): data are kept, nothing is handed over. The hold placed at
intake ends at the basis's term (bases.py: 90 or 60 days). Before that the legal officers are
reminded (DISCLOSURE_PRESERVATION_REMINDER_DAYS); the order can be renewed once under a new order
(126ni: a new order for at most 90 days; EPOC-PR: 30 days more), or converted into a production order
on the same scope, taken in with that order's document as a normal intake files it; at its term the hold is released and the request closed by the beat job, audited.

Why at most one renewal here: the statute caps a preservation; a further one would be a fresh order,
taken in as a new request and reviewed as such.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils.timezone import now as tz_now
from django.utils.translation import gettext, gettext_noop, ngettext

from retention.models import LegalHold
from voipxs.exceptions import ApplicationError
from voipxs.mail import mail_datetime

from ..bases import BASES, PRESERVATION_BASES, PRODUCTION_BASES
from ..models import OPEN_STATUSES, DisclosureRequest, Outcome, Status
from .checks import officers_mail, request_audit, request_locked, request_move, require_officer, require_state
from .holds import request_hold_release, request_hold_renew
from .intake import disclosure_document_add, disclosure_request_receive, document_refused_at

NOT_PRESERVATION = gettext_noop("Only a preservation order (Sv 126ni, EPOC-PR) can be renewed or converted.")
RENEWED_ONCE = gettext_noop("This preservation was renewed once already; a further one is a new order, "
                            "taken in as a new request.")
PRESERVATION_ENDED = gettext_noop("This preservation has ended.")
ORDER_REFERENCE_REQUIRED = gettext_noop("Record the reference of the new order.")
CONVERT_NEEDS_PRODUCTION_BASIS = gettext_noop("Convert into a production basis (not another preservation).")
ORDER_DOCUMENT_REQUIRED = gettext_noop("Attach the production order: the new request is handed over on it, so it "
                                       "is filed with it as its written order.")

_PRESERVATION_OPEN = tuple(OPEN_STATUSES - {Status.PRODUCING, Status.PRODUCED, Status.CHECKED, Status.DELIVERED})


def _preservation_locked(request: DisclosureRequest, moment: datetime) -> DisclosureRequest:
    req = request_locked(request=request)
    if req.legal_basis not in PRESERVATION_BASES:
        raise ApplicationError(NOT_PRESERVATION, extra={"field": "legal_basis"})
    require_state(req, *_PRESERVATION_OPEN)
    if req.preserve_until is None or req.preserve_until <= moment:
        raise ApplicationError(PRESERVATION_ENDED, extra={"field": "preserve_until"})
    return req


@transaction.atomic
def disclosure_preservation_renew(*, actor, request: DisclosureRequest, order_reference: str,
                                  now: datetime | None = None) -> DisclosureRequest:
    """Extend a running preservation once, under a new order whose reference is recorded (and audited). A deadline
    that was the term itself moves with it; one the authority set stays."""
    require_officer(actor)
    moment = now or tz_now()
    if not order_reference.strip():
        raise ApplicationError(ORDER_REFERENCE_REQUIRED, extra={"field": "order_reference"})
    req = _preservation_locked(request, moment)
    if req.renewed_at is not None:
        raise ApplicationError(RENEWED_ONCE, extra={"field": "renewed_at"})
    until = req.preserve_until + timedelta(days=BASES[req.legal_basis].renewal_days)
    request_hold_renew(req=req, actor=actor, expires_at=until, order_reference=order_reference, now=moment)
    if req.deadline == req.preserve_until:  # due at the term (intake's default): the dashboard and mails follow it
        req.deadline, req.escalated_at = until, None
    req.preserve_until, req.renewed_at, req.renewed_by = until, moment, actor
    req.renewal_reference, req.preservation_reminded_at = order_reference.strip()[:100], None
    req.save(update_fields=["preserve_until", "renewed_at", "renewed_by", "renewal_reference",
                            "preservation_reminded_at", "deadline", "escalated_at"])
    request_audit(actor=actor, action="preservation_renew", req=req, until=until.isoformat(),
                  order=req.renewal_reference)
    return req


@transaction.atomic
def disclosure_preservation_convert(*, actor, request: DisclosureRequest, legal_basis: str, reference: str,
                                    order_document: bytes | None = None, order_document_title: str = "",
                                    order_document_content_type: str = "application/octet-stream",
                                    deadline: datetime | None = None, categories: list[str] | None = None,
                                    max_hits: int | None = None, now: datetime | None = None) -> DisclosureRequest:
    """The authority followed the preservation with a production order: take it in as a new request on
    the preserved scope (its own hold, its own callback, review and two approvals), then end this one
    (outcome "converted") and release its hold: the new one already covers the data, so there is no gap.
    The production order's document is required and filed on the new request as its written order, through
    intake's own disclosure_document_add (encrypted, with its SHA-256, under the same checks), so the new request
    is never approved, produced or delivered without it; the preservation's documents stay on the preservation,
    reached from the new request through converted_from (selectors.disclosure_preservation_documents).
    `max_hits`: the production order's cap on the number of records (ETSI maxHits), checked as at intake; None:
    none. Any refusal changes nothing (one transaction). Returns the preservation request, which links to the new
    one (converted_to)."""
    require_officer(actor)
    moment = now or tz_now()
    if legal_basis not in PRODUCTION_BASES:
        raise ApplicationError(CONVERT_NEEDS_PRODUCTION_BASIS, extra={"field": "legal_basis"})
    if not order_document:
        raise ApplicationError(ORDER_DOCUMENT_REQUIRED, extra={"field": "order_document"})
    req = _preservation_locked(request, moment)
    targets = list(req.targets.all())
    new = disclosure_request_receive(
        actor=actor, authority=req.authority, reference=reference, legal_basis=legal_basis,
        categories=categories or list(req.categories), window_start=req.window_start, window_end=req.window_end,
        deadline=deadline, numbers=[t.number for t in targets if t.number], now=moment, max_hits=max_hits,
        account_ids=[t.account_id for t in targets if t.account_id], secrecy_until=req.secrecy_until)
    with document_refused_at("order_document"):  # intake's own document checks, under this form's field
        doc = disclosure_document_add(actor=actor, request=new, title=order_document_title, content=order_document,
                                      content_type=order_document_content_type, is_written_order=True, now=moment)
    new.refresh_from_db()  # as the document left it (written_order_at), for the caller reading converted_to
    request_hold_release(req=req, actor=actor, reason=LegalHold.Release.CONVERTED, now=moment)
    req.converted_to, req.outcome, req.closed_at, req.hold_released_at = new, Outcome.CONVERTED, moment, moment
    request_move(req=req, status=Status.CLOSED, fields=["converted_to", "outcome", "closed_at", "hold_released_at"])
    request_audit(actor=actor, action="preservation_convert", req=req, into=new.pk, basis=legal_basis,
                  order_document=doc.pk, preservation_documents=sorted(req.documents.values_list("pk", flat=True)))
    return req


def _remind_mail(rows: list[DisclosureRequest]) -> tuple[str, str]:
    """The legal officers' reminder of preservations ending soon, in the active language."""
    subject = ngettext("[VoIPXS] %(count)d preservation order ending soon",
                       "[VoIPXS] %(count)d preservation orders ending soon", len(rows)) % {"count": len(rows)}
    renewed = gettext("Preservation request #%(number)s (%(basis)s) ends %(end)s (already renewed once): renew "
                      "under a new order, convert into a production order, or let it end.")
    first = gettext("Preservation request #%(number)s (%(basis)s) ends %(end)s: renew under a new order, convert "
                    "into a production order, or let it end.")
    return subject, "\n".join((renewed if r.renewed_at else first)
                               % {"number": r.pk, "basis": r.legal_basis, "end": mail_datetime(r.preserve_until)}
                               for r in rows)


def disclosure_preservations_remind(*, now: datetime | None = None, actor=None) -> int:
    """E-mail the legal officers about preservations ending within DISCLOSURE_PRESERVATION_REMINDER_DAYS
    (once each; a renewal starts the count again): renew under a new order, convert, or let it end."""
    moment = now or tz_now()
    soon = moment + timedelta(days=settings.DISCLOSURE_PRESERVATION_REMINDER_DAYS)
    due = (DisclosureRequest.objects.filter(legal_basis__in=PRESERVATION_BASES, status__in=_PRESERVATION_OPEN,
                                            preservation_reminded_at__isnull=True, preserve_until__gt=moment,
                                            preserve_until__lte=soon).order_by("preserve_until", "pk"))
    with transaction.atomic():
        rows = list(due.select_for_update())
        if not rows or not officers_mail(lambda: _remind_mail(rows), count=len(rows), what="preservation"):
            return 0
        for r in rows:
            r.preservation_reminded_at = moment
            r.save(update_fields=["preservation_reminded_at"])
            request_audit(actor=actor, action="preservation_remind", req=r, until=r.preserve_until.isoformat())
    return len(rows)


def disclosure_preservations_expire(*, now: datetime | None = None, actor=None) -> int:
    """At its term, a preservation ends by itself: its hold is released (reason "expired", at the term)
    and the request closed with outcome "preserved", both audited. Returns how many ended."""
    moment = now or tz_now()
    due = DisclosureRequest.objects.filter(legal_basis__in=PRESERVATION_BASES, preserve_until__lte=moment,
                                           hold_released_at__isnull=True).order_by("pk")
    done = 0
    for pk in due.values_list("pk", flat=True):
        with transaction.atomic():
            req = DisclosureRequest.objects.select_for_update().get(pk=pk)
            if req.hold_released_at is not None:
                continue
            request_hold_release(req=req, actor=actor, reason=LegalHold.Release.EXPIRED, now=req.preserve_until)
            req.hold_released_at = req.preserve_until
            fields = ["hold_released_at"]
            if req.status in _PRESERVATION_OPEN:
                req.status, req.outcome, req.closed_at = Status.CLOSED, Outcome.PRESERVED, req.preserve_until
                fields += ["status", "outcome", "closed_at"]
            req.save(update_fields=fields)
            request_audit(actor=actor, action="preservation_expire", req=req, hold=req.hold_id,
                          until=req.preserve_until.isoformat())
            done += 1
    return done
