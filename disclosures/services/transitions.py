"""The request's state machine, one service per step. Each step checks the state it starts from and
refuses any other, and is audited by pk only (never a number, a name or an address). The API and the
pages reach these through one table, `disclosures/transitions.py`.

    RECEIVED -> AUTHORITY_VERIFIED -> UNDER_REVIEW <-> CLARIFICATION
    UNDER_REVIEW -> APPROVED (two approvals; an emergency may skip the review, never the callback)
    APPROVED -> PRODUCING -> PRODUCED (packages.py) -> CHECKED -> DELIVERED -> CLOSED
    narrowing goes back to UNDER_REVIEW; REJECTED and WITHDRAWN end a request before delivery;
    a preservation order is closed from APPROVED (it keeps data, nothing is produced)

An approval, the production and the delivery of any other request need its written order on file
(checks.require_written_order): it is what the data are handed over on. An emergency or an oral order
goes ahead of it; deadlines.py flags a delivery whose written order comes late.

Why two approvers who did not take the request in: a hand-over of traffic data is irreversible;
four eyes that are not the intake's own catch a forged or overbroad order (DESIGN.md, issue 6).
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Iterable

from django.conf import settings
from django.db import transaction
from django.utils.timezone import now as tz_now
from django.utils.translation import gettext_noop

from voipxs.exceptions import ApplicationError
from voipxs.queue import enqueue_after_commit

from ..bases import PRESERVATION_BASES
from ..models import OPEN_STATUSES, Approval, DisclosureRequest, Outcome, Package, Status
from ..output_scope import disclosure_output_scope
from ..problems import problems_joined
from ..production import package_output_problems
from ..rendering import manifest_capped, max_hits_counts
from .checks import (
    NOTE_REQUIRED,
    REQUEST_NO_TARGET,
    request_audit,
    request_locked,
    request_move,
    require_officer,
    require_state,
    require_written_order,
)
from .deadlines import written_order_breach_flag
from .holds import request_hold_place, request_hold_release, request_hold_release_due, request_hold_release_schedule
from .intake import max_hits_check, validate_scope
from .notices import delivery_notices_create
from .packages import package_delivery_digests, package_unchecked_discard

AUTHORITY_NOT_VERIFIED = gettext_noop("The authority's contact channels are not verified yet.")
AUTHORITY_NO_CHANNEL = gettext_noop("The register has no such contact channel for this authority.")
APPROVER_IS_INTAKE = gettext_noop("The officer who took the request in cannot approve it.")
APPROVER_TWICE = gettext_noop("You have already approved this request.")
CHECKER_IS_PRODUCER = gettext_noop("The output must be checked by another officer than the one who produced it.")
CHECKER_IS_INTAKE = gettext_noop("The output must be checked by another officer than the one who took the request in.")
PRODUCER_IS_APPROVER = gettext_noop("An officer who approved the request cannot also collect its data.")
OUTPUT_UNREADABLE = gettext_noop("The package cannot be handed over: %(problems)s. Produce it again.")
DELIVERY_NEEDS_APPROVALS = gettext_noop("Delivery needs two approvals and an output check.")
NARROW_NOT_SHRINKING = gettext_noop("Narrowing can only shrink the scope.")
NARROW_CAP_NOT_LOWER = gettext_noop("Narrowing can only lower the cap on the number of records (maxHits), now "
                                    "%(cap)s.")
RECEIPT_REQUIRED = gettext_noop("A delivery receipt is required.")
PRESERVATION_NOT_PRODUCED = gettext_noop("A preservation order keeps data; nothing is produced for it.")
CHANNEL_REQUIRED = gettext_noop("The authority has no certificate on file, so the package is not encrypted: it is "
                                "delivered only on a channel that is itself encrypted (handed over in person on an "
                                "encrypted medium, the authority's secure portal). Record that channel, or add the "
                                "authority's certificate in the register of authorities first.")
WITHDRAWAL_NOTE_REQUIRED = gettext_noop("Say how the authority withdrew the request: the reference of its letter or "
                                        "e-mail, or who told you so and when.")
CALLBACK_MISSING = gettext_noop("Nothing leaves the house before the authority is verified by a callback on the "
                                "register's channel, not even in an emergency.")

REQUIRED_APPROVALS = 2


# --- review --------------------------------------------------------------------------------------

@transaction.atomic
def disclosure_request_verify_authority(*, actor, request: DisclosureRequest, channel: str, note: str = "") -> DisclosureRequest:
    """The out-of-band callback: an officer called (or mailed) the body on the register's channel,
    never on one the request itself gave, and the body confirmed the request."""
    require_officer(actor)
    req = request_locked(request=request)
    require_state(req, Status.RECEIVED)
    authority = req.authority
    if authority.verified_at is None:
        raise ApplicationError(AUTHORITY_NOT_VERIFIED, extra={"field": "authority"})
    contact = {"phone": authority.contact_phone, "email": authority.contact_email}.get(channel, "")
    if not contact:
        raise ApplicationError(AUTHORITY_NO_CHANNEL, extra={"field": "channel"})
    req.verified_at, req.verified_by, req.verified_channel, req.verified_contact = tz_now(), actor, channel, contact
    req.status_note = note.strip()[:500]
    request_move(req=req, status=Status.AUTHORITY_VERIFIED,
                 fields=["verified_at", "verified_by", "verified_channel", "verified_contact", "status_note"])
    # The officer confirmed the callback knowing where the request came from (the page says so when its domain
    # was not on the authority's list): the record keeps the domain and the flag, never the address.
    request_audit(actor=actor, action="verify_authority", req=req, channel=channel, authority=authority.pk,
                  sender_domain=req.sender_domain or None, sender_listed=req.sender_domain_listed)
    return req


@transaction.atomic
def disclosure_request_start_review(*, actor, request: DisclosureRequest) -> DisclosureRequest:
    require_officer(actor)
    req = request_locked(request=request)
    require_state(req, Status.AUTHORITY_VERIFIED)
    req.review_started_at = tz_now()
    request_move(req=req, status=Status.UNDER_REVIEW, fields=["review_started_at"])
    request_audit(actor=actor, action="start_review", req=req)
    return req


@transaction.atomic
def disclosure_request_ask_clarification(*, actor, request: DisclosureRequest, note: str) -> DisclosureRequest:
    require_officer(actor)
    if not note.strip():
        raise ApplicationError(NOTE_REQUIRED, extra={"field": "note"})
    req = request_locked(request=request)
    require_state(req, Status.AUTHORITY_VERIFIED, Status.UNDER_REVIEW)
    req.status_note = note.strip()[:500]
    req.approvals.all().delete()
    request_move(req=req, status=Status.CLARIFICATION, fields=["status_note"])
    request_audit(actor=actor, action="ask_clarification", req=req)
    return req


@transaction.atomic
def disclosure_request_resume_review(*, actor, request: DisclosureRequest) -> DisclosureRequest:
    """The authority answered the clarification question."""
    require_officer(actor)
    req = request_locked(request=request)
    require_state(req, Status.CLARIFICATION)
    request_move(req=req, status=Status.UNDER_REVIEW, fields=[])
    request_audit(actor=actor, action="resume_review", req=req)
    return req


@transaction.atomic
def disclosure_request_narrow(*, actor, request: DisclosureRequest, remove_target_ids: Iterable[int] = (),
                              window_start: datetime | None = None, window_end: datetime | None = None,
                              categories: Iterable[str] | None = None,
                              max_hits: int | None = None) -> DisclosureRequest:
    """Shrink the scope (fewer targets, a shorter window, fewer categories, a lower cap on the number of records:
    `max_hits`, checked as at intake; None keeps the cap; a cap where there was none shrinks too). Anything that
    would widen it is refused, a higher cap included. Approvals given for the wider scope are dropped: the narrower
    one is approved anew."""
    require_officer(actor)
    req = request_locked(request=request)
    require_state(req, Status.UNDER_REVIEW, Status.CLARIFICATION, Status.APPROVED)
    remove = {int(t) for t in remove_target_ids}
    target_ids = set(req.targets.values_list("pk", flat=True))
    new_start = window_start or req.window_start
    new_end = window_end or req.window_end
    new_cats = sorted(set(categories)) if categories is not None else list(req.categories)
    if (not remove <= target_ids or new_start < req.window_start or new_end > req.window_end
            or not set(new_cats) <= set(req.categories)):
        raise ApplicationError(NARROW_NOT_SHRINKING, extra={"field": "scope"})
    if len(target_ids - remove) == 0:
        raise ApplicationError(REQUEST_NO_TARGET, extra={"field": "remove_target_ids"})
    new_cap = req.max_hits if max_hits is None else max_hits_check(max_hits)
    if req.max_hits is not None and new_cap > req.max_hits:
        raise ApplicationError.formatted(NARROW_CAP_NOT_LOWER, {"cap": req.max_hits}, field="max_hits")
    validate_scope(legal_basis=req.legal_basis, categories=new_cats, window_start=new_start, window_end=new_end,
                   received_at=req.received_at)
    if (not remove and new_start == req.window_start and new_end == req.window_end
            and new_cats == list(req.categories) and new_cap == req.max_hits):
        raise ApplicationError(NARROW_NOT_SHRINKING, extra={"field": "scope"})
    req.targets.filter(pk__in=remove).delete()
    req.window_start, req.window_end, req.categories, req.max_hits = new_start, new_end, new_cats, new_cap
    req.target_count = len(target_ids - remove)
    req.narrowed_at = tz_now()
    req.approvals.all().delete()
    req.approved_at = None
    request_move(req=req, status=Status.UNDER_REVIEW,
                 fields=["window_start", "window_end", "categories", "max_hits", "target_count", "narrowed_at",
                         "approved_at"])
    # The hold follows the narrower scope: release the wide one, place the narrow one.
    request_hold_release(req=req, actor=actor)
    request_hold_place(req=req, actor=actor)
    request_audit(actor=actor, action="narrow", req=req, removed_targets=len(remove), categories=new_cats,
                  max_hits=new_cap)
    return req


def approval_refusal(*, req: DisclosureRequest, officer) -> str | None:
    """Why `officer` may not approve `req`, or None. Neither approver may be the intake officer;
    nobody approves twice. The detail page shows the Approve button by the same rule."""
    if req.received_by_id == officer.pk:
        return APPROVER_IS_INTAKE
    if req.approvals.filter(officer=officer).exists():
        return APPROVER_TWICE
    return None


@transaction.atomic
def disclosure_request_approve(*, actor, request: DisclosureRequest) -> DisclosureRequest:
    """One of two approvals (see approval_refusal for who may give one).
    Emergency requests may be approved before the legal review (fast path), still by two, but never
    before the callback: a forged "emergency" is the known attack, and the callback is what stops it.
    An approver confirms having reviewed the order, so any other request needs its written order on file
    (require_written_order); an emergency or an oral order is approved on the order as given."""
    require_officer(actor)
    req = request_locked(request=request)
    if req.emergency and req.status == Status.RECEIVED:
        raise ApplicationError(CALLBACK_MISSING, extra={"field": "status", "status": req.status})
    allowed = [Status.UNDER_REVIEW]
    if req.emergency:
        allowed += [Status.AUTHORITY_VERIFIED]
    require_state(req, *allowed)
    require_written_order(req)
    refusal = approval_refusal(req=req, officer=actor)
    if refusal is not None:
        raise ApplicationError(refusal, extra={"field": "officer"})
    Approval.objects.create(request=req, officer=actor)
    count = req.approvals.count()
    if count >= REQUIRED_APPROVALS:
        req.approved_at = tz_now()
        request_move(req=req, status=Status.APPROVED, fields=["approved_at"])
    request_audit(actor=actor, action="approve", req=req, approvals=count, emergency=req.emergency)
    return req


@transaction.atomic
def disclosure_request_reject(*, actor, request: DisclosureRequest, reason: str) -> DisclosureRequest:
    require_officer(actor)
    if not reason.strip():
        raise ApplicationError(NOTE_REQUIRED, extra={"field": "reason"})
    req = request_locked(request=request)
    require_state(req, Status.RECEIVED, Status.AUTHORITY_VERIFIED, Status.UNDER_REVIEW, Status.CLARIFICATION)
    moment = tz_now()
    req.status_note, req.outcome, req.closed_at = reason.strip()[:500], Outcome.REJECTED, moment
    request_hold_release_schedule(req=req, at=moment)
    request_move(req=req, status=Status.REJECTED, fields=["status_note", "outcome", "closed_at", "hold_release_due_at"])
    request_audit(actor=actor, action="reject", req=req)
    return req


WITHDRAWAL_STATUSES = OPEN_STATUSES - {Status.DELIVERED, Status.PRODUCING}


def disclosure_request_withdraw_check(*, request: DisclosureRequest, note: str) -> datetime:
    """Whether the withdrawal may be recorded (before the officer confirms it): the request is still open and
    nothing is being produced or was delivered, and the note says how the authority withdrew it (the reference
    of its letter or e-mail, or who said so). Returns when the request's hold would be released. Writes nothing."""
    if not note.strip():
        raise ApplicationError(WITHDRAWAL_NOTE_REQUIRED, extra={"field": "note"})
    require_state(request, *WITHDRAWAL_STATUSES)
    return request_hold_release_due(req=request, at=tz_now())


@transaction.atomic
def disclosure_request_withdraw(*, actor, request: DisclosureRequest, note: str) -> DisclosureRequest:
    """The authority withdrew its request (before anything was delivered): final, the hold released after the
    grace period (request_hold_release_schedule), and a package already built deleted at the next purge."""
    require_officer(actor)
    req = request_locked(request=request)
    disclosure_request_withdraw_check(request=req, note=note)
    moment = tz_now()
    req.status_note, req.outcome, req.closed_at = note.strip()[:500], Outcome.WITHDRAWN, moment
    request_hold_release_schedule(req=req, at=moment)
    request_move(req=req, status=Status.WITHDRAWN, fields=["status_note", "outcome", "closed_at", "hold_release_due_at"])
    # A package built and never handed over keeps nothing to prove: its files go at the next purge (jobs.py).
    Package.objects.filter(request=req, state=Package.State.SEALED).update(delete_after=moment)
    request_audit(actor=actor, action="withdraw", req=req)
    return req


# --- production, check, delivery -----------------------------------------------------------------

@transaction.atomic
def disclosure_production_start(*, actor, request: DisclosureRequest) -> DisclosureRequest:
    """Queue the package build (ids only) once the transaction commits (packages.disclosure_package_build). From
    PRODUCED it builds the package again, the unchecked one deleted (packages.package_unchecked_discard)."""
    from ..tasks import disclosure_package_build_task

    require_officer(actor)
    req = request_locked(request=request)
    require_state(req, Status.APPROVED, Status.PRODUCED)  # produced: again, the output check refused the package
    if req.legal_basis in PRESERVATION_BASES:
        raise ApplicationError(PRESERVATION_NOT_PRODUCED, extra={"field": "legal_basis"})
    if req.verified_at is None:
        raise ApplicationError(CALLBACK_MISSING, extra={"field": "status", "status": req.status})
    require_written_order(req)  # approved before the order had to be on file: no data are collected without it
    if req.approvals.filter(officer=actor).exists():  # four eyes: who approved the scope does not collect it
        raise ApplicationError(PRODUCER_IS_APPROVER, extra={"field": "officer"})
    replaced = package_unchecked_discard(req=req) if req.status == Status.PRODUCED else None
    req.production_started_by, req.production_started_at, req.production_error = actor, tz_now(), ""
    request_move(req=req, status=Status.PRODUCING,
                 fields=["production_started_by", "production_started_at", "production_error"])
    request_audit(actor=actor, action="production_start", req=req,
                  **({"replaces_package": replaced} if replaced else {}))
    # A broker outage must not fail the stored step: the request stays producing and the reaper
    # (packages.disclosure_productions_requeue) sends the build again.
    enqueue_after_commit(disclosure_package_build_task, req.pk, actor.pk)
    return req


@transaction.atomic
def disclosure_output_check(*, actor, request: DisclosureRequest) -> DisclosureRequest:
    """A second officer looked at the output (counts, scope) before it leaves the house, and the service
    opened every file of the package (production.package_output_problems): a package that does not
    decrypt, match its manifest or parse, or with a record outside the approved scope or beyond the authority's
    cap in any file that carries records (output_scope.py), is refused, never approved. The audit entry keeps
    counts only."""
    require_officer(actor)
    req = request_locked(request=request)
    require_state(req, Status.PRODUCED)
    if req.production_started_by_id == actor.pk:
        raise ApplicationError(CHECKER_IS_PRODUCER, extra={"field": "officer"})
    if req.received_by_id == actor.pk:  # the output's approval, like the scope's, is never the intake's own
        raise ApplicationError(CHECKER_IS_INTAKE, extra={"field": "officer"})
    package = Package.objects.filter(request=req).first()
    problems = (package_output_problems(package, rule=disclosure_output_scope(actor=actor, request=req))
                if package is not None else ["no package was stored"])
    if problems:
        # English in the message (logs), in the page's language where it is shown (problems.py).
        raise ApplicationError.formatted(OUTPUT_UNREADABLE, {"problems": problems_joined(problems)}, field="package")
    req.checked_at, req.checked_by = tz_now(), actor
    request_move(req=req, status=Status.CHECKED, fields=["checked_at", "checked_by"])
    request_audit(actor=actor, action="output_check", req=req, records=package.record_count,
                  subscribers=package.manifest.get("subscriber_count"),
                  **max_hits_counts(package.manifest, package.record_count), max_hits=req.max_hits)
    return req


@transaction.atomic
def disclosure_request_deliver(*, actor, request: DisclosureRequest, receipt: str,
                               secure_channel: str = "") -> DisclosureRequest:
    """Mark the package handed over, with the authority's receipt. Refused without two approvals and
    an output check, whatever the state says, and without the written order the data are handed over on
    (an emergency or an oral order excepted: flagged for the breach register when its order comes late).
    The package goes encrypted to the authority's certificate (packages.package_delivery_file); an authority
    without one gets it only on a channel that is itself encrypted, which `secure_channel` records (refused
    without: CHANNEL_REQUIRED). The record keeps the SHA-256 of the file handed over and of the certificate
    (packages.package_delivery_digests: the stored envelope's, not copied out again).
    Starts the package's retention and the user notices."""
    require_officer(actor)
    if not receipt.strip():
        raise ApplicationError(RECEIPT_REQUIRED, extra={"field": "receipt"})
    req = request_locked(request=request)
    if req.verified_at is None:
        raise ApplicationError(CALLBACK_MISSING, extra={"field": "status", "status": req.status})
    approvers = set(req.approvals.values_list("officer_id", flat=True))
    if (len(approvers) < REQUIRED_APPROVALS or req.received_by_id in approvers or req.checked_by_id is None
            or req.status != Status.CHECKED):
        raise ApplicationError(DELIVERY_NEEDS_APPROVALS, extra={"field": "status", "status": req.status})
    require_written_order(req)
    if not req.authority.certificate and not secure_channel.strip():
        raise ApplicationError(CHANNEL_REQUIRED, extra={"field": "secure_channel"})
    moment = tz_now()
    package = Package.objects.get(request=req)
    sha256, encrypted_to = package_delivery_digests(req=req, package=package)  # names the file, copies nothing
    package.delete_after = moment + timedelta(days=settings.DISCLOSURE_PACKAGE_RETENTION_DAYS)
    package.save(update_fields=["delete_after"])
    req.delivered_at, req.delivery_receipt = moment, receipt.strip()[:300]
    req.delivery_sha256, req.delivery_encrypted_to = sha256, encrypted_to
    req.delivery_channel = secure_channel.strip()[:200]
    has_data = bool(package.record_count or package.manifest.get("subscriber_count"))
    req.outcome = Outcome.FULL if has_data else Outcome.NO_DATA
    if req.narrowed_at is not None and has_data:  # we handed over less than was asked: partial, capped or not
        req.outcome = Outcome.PARTIAL
    elif manifest_capped(package.manifest):  # the authority's maxHits left call records or subscribers out
        req.outcome = Outcome.CAPPED
    request_move(req=req, status=Status.DELIVERED, fields=["delivered_at", "delivery_receipt", "outcome",
                                                           "delivery_sha256", "delivery_encrypted_to",
                                                           "delivery_channel"])
    notices = delivery_notices_create(req=req, moment=moment) if req.notice_user else 0
    # The channel is the officer's own words: the record says only that one was given.
    request_audit(actor=actor, action="deliver", req=req, package=package.pk, notices=notices,
                  sha256=sha256, encrypted_to=encrypted_to or None,
                  secure_channel=bool(req.delivery_channel))
    written_order_breach_flag(req=req, moment=moment, actor=actor)
    return req


@transaction.atomic
def disclosure_request_close(*, actor, request: DisclosureRequest) -> DisclosureRequest:
    """Close a delivered request (or a preservation order that has run its course). The hold stays
    for DISCLOSURE_HOLD_RELEASE_DAYS more, for follow-up questions of the authority."""
    require_officer(actor)
    req = request_locked(request=request)
    if req.legal_basis in PRESERVATION_BASES:
        require_state(req, Status.DELIVERED, Status.APPROVED)
        if req.status == Status.APPROVED:
            req.outcome = Outcome.PRESERVED
    else:
        require_state(req, Status.DELIVERED)
    moment = tz_now()
    req.closed_at = moment
    request_hold_release_schedule(req=req, at=moment, keep_to_term=True)
    request_move(req=req, status=Status.CLOSED, fields=["closed_at", "hold_release_due_at", "outcome"])
    request_audit(actor=actor, action="close", req=req)
    return req
