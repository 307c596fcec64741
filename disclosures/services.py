"""Writes of the disclosures app: the register of authorities and the request's state machine,
one service per transition. Each transition checks the state it starts from and refuses any other,
and is audited by pk only (never a number, a name or an address).

Why two approvers who did not take the request in: a hand-over of traffic data is irreversible;
four eyes that are not the intake's own catch a forged or overbroad order (DESIGN.md, issue 6).
"""
from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta
from typing import Iterable

from django.conf import settings
from django.db import transaction
from django.utils.timezone import now as tz_now

from voipxs.privacy.audit import audit_record
from voipxs.privacy.crypto import blind_index, encrypt_bytes
from voipxs.exceptions import ApplicationError
from voipxs.privacy.phone import InvalidNumber, normalize_e164
from voipxs.privacy.purposes import Role, has_role

from .models import (
    BASIS_CATEGORIES,
    NOTICE_BY_DEFAULT_BASES,
    OPEN_STATUSES,
    PRESERVATION_BASES,
    Approval,
    Authority,
    AuthorityKind,
    DataCategory,
    DisclosureDocument,
    DisclosureRequest,
    DisclosureTarget,
    LegalBasis,
    Notice,
    Outcome,
    Package,
    Status,
)

NOT_LEGAL_OFFICER = "Only legal officers handle disclosure requests."
AUTHORITY_BAD_KIND = "Unknown kind of authority."
AUTHORITY_BAD_PHONE = "The authority's contact number is not a valid phone number."
AUTHORITY_NOT_VERIFIED = "The authority's contact channels are not verified yet."
AUTHORITY_NO_CHANNEL = "The register has no such contact channel for this authority."
REQUEST_NO_REFERENCE = "A reference is required."
REQUEST_NO_BASIS = "A legal basis is required."
REQUEST_NO_CATEGORIES = "At least one data category is required."
REQUEST_BAD_CATEGORY = "Unknown data category."
REQUEST_BASIS_REFUSES = "This legal basis does not allow these data categories."
REQUEST_NO_TARGET = "At least one number or account is required."
REQUEST_BAD_NUMBER = "A target number is not a valid phone number."
REQUEST_BAD_ACCOUNT = "A target account does not exist."
REQUEST_NO_WINDOW = "A time window (start and end) is required."
REQUEST_BAD_WINDOW = "The window must end after it starts."
REQUEST_NO_DEADLINE = "A deadline is required."
REQUEST_DUPLICATE = "This authority already sent a request with this reference."
WRONG_STATE = "This step is not possible in the request's current state."
APPROVER_IS_INTAKE = "The officer who took the request in cannot approve it."
APPROVER_TWICE = "You have already approved this request."
CHECKER_IS_PRODUCER = "The output must be checked by another officer than the one who produced it."
DELIVERY_NEEDS_APPROVALS = "Delivery needs two approvals and an output check."
NARROW_NOT_SHRINKING = "Narrowing can only shrink the scope."
NOTE_REQUIRED = "A note is required."
RECEIPT_REQUIRED = "A delivery receipt is required."
DOCUMENT_EMPTY = "The document is empty."
PRESERVATION_NOT_PRODUCED = "A preservation order keeps data; nothing is produced for it."

REQUIRED_APPROVALS = 2


def _require_officer(actor) -> None:
    if not has_role(actor, Role.LEGAL_OFFICER):
        raise ApplicationError(NOT_LEGAL_OFFICER)


def _locked(request: DisclosureRequest) -> DisclosureRequest:
    return DisclosureRequest.objects.select_for_update().select_related("authority").get(pk=request.pk)


def _require_state(req: DisclosureRequest, *states: str) -> None:
    if req.status not in states:
        raise ApplicationError(WRONG_STATE, extra={"field": "status", "status": req.status})


def _audit(actor, action: str, req: DisclosureRequest, **extra) -> None:
    audit_record(actor=actor, action=f"disclosure.{action}", target_type="disclosure_request", target_id=req.pk,
                 extra={"status": req.status, **extra})


def _move(req: DisclosureRequest, status: str, fields: list[str]) -> None:
    req.status = status
    req.save(update_fields=["status", *fields])


# --- the legal hold (retention) -------------------------------------------------------------------
# The only two places that talk to retention's services; everything else calls these.

def _hold_place(*, req: DisclosureRequest, actor) -> None:
    from retention.models import Category, LegalHold
    from retention.services import legal_hold_place

    targets = list(req.targets.all())
    categories = [Category.CDR_BILLED, Category.CDR_UNBILLED]
    if DataCategory.USER_DATA in req.categories:
        categories.append(Category.CLOSED_ACCOUNT)
    reason = (LegalHold.Reason.PRESERVATION_ORDER if req.legal_basis in PRESERVATION_BASES
              else LegalHold.Reason.DISCLOSURE_REQUEST)
    req.hold = legal_hold_place(
        reason=reason, reference=f"disclosure:{req.pk}", categories=categories, actor=actor, owner="disclosure",
        account_ids=[t.account_id for t in targets if t.account_id],
        number_indexes=[t.number_index for t in targets if t.number_index],
        window_start=req.window_start, window_end=req.window_end,
    )
    req.save(update_fields=["hold"])


def _hold_release(*, req: DisclosureRequest, actor) -> None:
    from retention.services import legal_hold_release

    if req.hold_id is not None and req.hold.released_at is None:
        legal_hold_release(hold=req.hold, actor=actor, owner="disclosure")


def _schedule_hold_release(req: DisclosureRequest, at: datetime) -> None:
    req.hold_release_due_at = at + timedelta(days=settings.DISCLOSURE_HOLD_RELEASE_DAYS)


# --- authorities ---------------------------------------------------------------------------------

def _normalise_contact_phone(raw: str) -> str:
    try:
        return normalize_e164(raw)
    except InvalidNumber:
        raise ApplicationError(AUTHORITY_BAD_PHONE, extra={"field": "contact_phone"}) from None


@transaction.atomic
def authority_create(*, actor, name: str, kind: str, contact_phone: str, contact_email: str = "") -> Authority:
    _require_officer(actor)
    if kind not in AuthorityKind.values:
        raise ApplicationError(AUTHORITY_BAD_KIND, extra={"field": "kind"})
    if not name.strip():
        raise ApplicationError("A name is required.", extra={"field": "name"})
    authority = Authority(name=name.strip()[:200], kind=kind, contact_phone=_normalise_contact_phone(contact_phone),
                          contact_email=contact_email.strip().lower())
    authority.full_clean()
    authority.save(force_insert=True)
    audit_record(actor=actor, action="disclosure.authority_create", target_type="authority", target_id=authority.pk,
                 extra={"kind": kind})
    return authority


@transaction.atomic
def authority_verify(*, actor, authority: Authority, note: str) -> Authority:
    """Record that the body's channels were checked against an official source (not the request letter)."""
    _require_officer(actor)
    if not note.strip():
        raise ApplicationError(NOTE_REQUIRED, extra={"field": "note"})
    authority = Authority.objects.select_for_update().get(pk=authority.pk)
    authority.verified_at, authority.verified_by, authority.verification_note = tz_now(), actor, note.strip()[:300]
    authority.save(update_fields=["verified_at", "verified_by", "verification_note"])
    audit_record(actor=actor, action="disclosure.authority_verify", target_type="authority", target_id=authority.pk)
    return authority


# --- intake --------------------------------------------------------------------------------------

def _target_numbers(numbers: Iterable[str]) -> list[tuple[str, str]]:
    out: dict[str, str] = {}
    for raw in numbers:
        if not str(raw).strip():
            continue
        try:
            e164 = normalize_e164(str(raw))
        except InvalidNumber:
            raise ApplicationError(REQUEST_BAD_NUMBER, extra={"field": "numbers"}) from None
        out[blind_index(e164, domain="phone")] = e164
    return sorted(((e164, idx) for idx, e164 in out.items()), key=lambda t: t[1])


def validate_scope(*, legal_basis: str, categories: Iterable[str], window_start, window_end) -> list[str]:
    if not legal_basis:
        raise ApplicationError(REQUEST_NO_BASIS, extra={"field": "legal_basis"})
    if legal_basis not in LegalBasis.values:
        raise ApplicationError(REQUEST_NO_BASIS, extra={"field": "legal_basis"})
    cats = sorted(set(categories))
    if not cats:
        raise ApplicationError(REQUEST_NO_CATEGORIES, extra={"field": "categories"})
    if any(c not in DataCategory.values for c in cats):
        raise ApplicationError(REQUEST_BAD_CATEGORY, extra={"field": "categories"})
    if not set(cats) <= BASIS_CATEGORIES[legal_basis]:
        raise ApplicationError(REQUEST_BASIS_REFUSES, extra={"field": "categories"})
    if window_start is None or window_end is None:
        raise ApplicationError(REQUEST_NO_WINDOW, extra={"field": "window_start" if window_start is None else "window_end"})
    if window_end <= window_start:
        raise ApplicationError(REQUEST_BAD_WINDOW, extra={"field": "window_end"})
    return cats


@transaction.atomic
def disclosure_request_receive(
    *,
    actor,
    authority: Authority,
    reference: str,
    legal_basis: str,
    categories: Iterable[str],
    window_start: datetime | None,
    window_end: datetime | None,
    deadline: datetime | None,
    numbers: Iterable[str] = (),
    account_ids: Iterable[int] = (),
    emergency: bool = False,
    secrecy_until: date | None = None,
    notice_user: bool | None = None,
) -> DisclosureRequest:
    """Take a request in (state RECEIVED) and place a legal hold on its scope at once, so that nothing
    it asks for is purged while it is reviewed."""
    from accounts.models import User

    _require_officer(actor)
    if not reference.strip():
        raise ApplicationError(REQUEST_NO_REFERENCE, extra={"field": "reference"})
    cats = validate_scope(legal_basis=legal_basis, categories=categories, window_start=window_start, window_end=window_end)
    if deadline is None:
        raise ApplicationError(REQUEST_NO_DEADLINE, extra={"field": "deadline"})
    nums = _target_numbers(numbers)
    accounts = sorted({int(a) for a in account_ids})
    if len(accounts) != User.objects.filter(pk__in=accounts).count():
        raise ApplicationError(REQUEST_BAD_ACCOUNT, extra={"field": "account_ids"})
    if not nums and not accounts:
        raise ApplicationError(REQUEST_NO_TARGET, extra={"field": "numbers"})
    if DisclosureRequest.objects.filter(authority=authority, reference=reference.strip()).exists():
        raise ApplicationError(REQUEST_DUPLICATE, extra={"field": "reference"})
    req = DisclosureRequest.objects.create(
        reference=reference.strip()[:100], authority=authority, legal_basis=legal_basis, categories=cats,
        window_start=window_start, window_end=window_end, target_count=len(nums) + len(accounts),
        deadline=deadline, emergency=emergency, secrecy_until=secrecy_until,
        notice_user=(legal_basis in NOTICE_BY_DEFAULT_BASES) if notice_user is None else notice_user,
        received_by=actor,
    )
    DisclosureTarget.objects.bulk_create(
        [DisclosureTarget(request=req, kind=DisclosureTarget.Kind.NUMBER, number=e164, number_index=idx) for e164, idx in nums]
        + [DisclosureTarget(request=req, kind=DisclosureTarget.Kind.ACCOUNT, account_id=a) for a in accounts])
    _hold_place(req=req, actor=actor)
    _audit(actor, "receive", req, basis=legal_basis, categories=cats, numbers=len(nums), accounts=len(accounts),
           emergency=emergency, hold=req.hold_id)
    return req


@transaction.atomic
def disclosure_document_add(*, actor, request: DisclosureRequest, title: str, content: bytes,
                            content_type: str = "application/octet-stream", is_written_order: bool = False) -> DisclosureDocument:
    """Store a received document encrypted, with its SHA-256. A written order ends an emergency flag."""
    _require_officer(actor)
    if not content:
        raise ApplicationError(DOCUMENT_EMPTY, extra={"field": "content"})
    req = _locked(request)
    doc = DisclosureDocument(request=req, title=(title.strip() or "document")[:200], content_type=content_type[:100],
                             size=len(content), sha256=hashlib.sha256(content).hexdigest(), content_enc=b"",
                             is_written_order=is_written_order, uploaded_by=actor)
    doc.save(force_insert=True)
    doc.content_enc = encrypt_bytes(content, aad=f"disclosure-document:{doc.pk}".encode())
    doc.save(update_fields=["content_enc"])
    if is_written_order and req.written_order_at is None:
        req.written_order_at = tz_now()
        req.save(update_fields=["written_order_at"])
    _audit(actor, "document_add", req, document=doc.pk, sha256=doc.sha256, written_order=is_written_order)
    return doc


# --- review --------------------------------------------------------------------------------------

@transaction.atomic
def disclosure_request_verify_authority(*, actor, request: DisclosureRequest, channel: str, note: str = "") -> DisclosureRequest:
    """The out-of-band callback: an officer called (or mailed) the body on the register's channel,
    never on one the request itself gave, and the body confirmed the request."""
    _require_officer(actor)
    req = _locked(request)
    _require_state(req, Status.RECEIVED)
    authority = req.authority
    if authority.verified_at is None:
        raise ApplicationError(AUTHORITY_NOT_VERIFIED, extra={"field": "authority"})
    contact = {"phone": authority.contact_phone, "email": authority.contact_email}.get(channel, "")
    if not contact:
        raise ApplicationError(AUTHORITY_NO_CHANNEL, extra={"field": "channel"})
    req.verified_at, req.verified_by, req.verified_channel, req.verified_contact = tz_now(), actor, channel, contact
    req.status_note = note.strip()[:500]
    _move(req, Status.AUTHORITY_VERIFIED, ["verified_at", "verified_by", "verified_channel", "verified_contact", "status_note"])
    _audit(actor, "verify_authority", req, channel=channel, authority=authority.pk)
    return req


@transaction.atomic
def disclosure_request_start_review(*, actor, request: DisclosureRequest) -> DisclosureRequest:
    _require_officer(actor)
    req = _locked(request)
    _require_state(req, Status.AUTHORITY_VERIFIED)
    req.review_started_at = tz_now()
    _move(req, Status.UNDER_REVIEW, ["review_started_at"])
    _audit(actor, "start_review", req)
    return req


@transaction.atomic
def disclosure_request_ask_clarification(*, actor, request: DisclosureRequest, note: str) -> DisclosureRequest:
    _require_officer(actor)
    if not note.strip():
        raise ApplicationError(NOTE_REQUIRED, extra={"field": "note"})
    req = _locked(request)
    _require_state(req, Status.AUTHORITY_VERIFIED, Status.UNDER_REVIEW)
    req.status_note = note.strip()[:500]
    req.approvals.all().delete()
    _move(req, Status.CLARIFICATION, ["status_note"])
    _audit(actor, "ask_clarification", req)
    return req


@transaction.atomic
def disclosure_request_resume_review(*, actor, request: DisclosureRequest) -> DisclosureRequest:
    """The authority answered the clarification question."""
    _require_officer(actor)
    req = _locked(request)
    _require_state(req, Status.CLARIFICATION)
    _move(req, Status.UNDER_REVIEW, [])
    _audit(actor, "resume_review", req)
    return req


@transaction.atomic
def disclosure_request_narrow(*, actor, request: DisclosureRequest, remove_target_ids: Iterable[int] = (),
                              window_start: datetime | None = None, window_end: datetime | None = None,
                              categories: Iterable[str] | None = None) -> DisclosureRequest:
    """Shrink the scope (fewer targets, a shorter window, fewer categories). Anything that would widen
    it is refused. Approvals given for the wider scope are dropped: the narrower one is approved anew."""
    _require_officer(actor)
    req = _locked(request)
    _require_state(req, Status.UNDER_REVIEW, Status.CLARIFICATION, Status.APPROVED)
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
    validate_scope(legal_basis=req.legal_basis, categories=new_cats, window_start=new_start, window_end=new_end)
    if not remove and new_start == req.window_start and new_end == req.window_end and new_cats == list(req.categories):
        raise ApplicationError(NARROW_NOT_SHRINKING, extra={"field": "scope"})
    req.targets.filter(pk__in=remove).delete()
    req.window_start, req.window_end, req.categories = new_start, new_end, new_cats
    req.target_count = len(target_ids - remove)
    req.narrowed_at = tz_now()
    req.approvals.all().delete()
    req.approved_at = None
    _move(req, Status.UNDER_REVIEW, ["window_start", "window_end", "categories", "target_count", "narrowed_at", "approved_at"])
    # The hold follows the narrower scope: release the wide one, place the narrow one.
    _hold_release(req=req, actor=actor)
    _hold_place(req=req, actor=actor)
    _audit(actor, "narrow", req, removed_targets=len(remove), categories=new_cats)
    return req


@transaction.atomic
def disclosure_request_approve(*, actor, request: DisclosureRequest) -> DisclosureRequest:
    """One of two approvals. Neither approver may be the intake officer; nobody approves twice.
    Emergency requests may be approved before the callback and review (fast path), still by two."""
    _require_officer(actor)
    req = _locked(request)
    allowed = [Status.UNDER_REVIEW]
    if req.emergency:
        allowed += [Status.RECEIVED, Status.AUTHORITY_VERIFIED]
    _require_state(req, *allowed)
    if req.received_by_id == actor.pk:
        raise ApplicationError(APPROVER_IS_INTAKE, extra={"field": "officer"})
    if req.approvals.filter(officer=actor).exists():
        raise ApplicationError(APPROVER_TWICE, extra={"field": "officer"})
    Approval.objects.create(request=req, officer=actor)
    count = req.approvals.count()
    if count >= REQUIRED_APPROVALS:
        req.approved_at = tz_now()
        _move(req, Status.APPROVED, ["approved_at"])
    _audit(actor, "approve", req, approvals=count, emergency=req.emergency)
    return req


@transaction.atomic
def disclosure_request_reject(*, actor, request: DisclosureRequest, reason: str) -> DisclosureRequest:
    _require_officer(actor)
    if not reason.strip():
        raise ApplicationError(NOTE_REQUIRED, extra={"field": "reason"})
    req = _locked(request)
    _require_state(req, Status.RECEIVED, Status.AUTHORITY_VERIFIED, Status.UNDER_REVIEW, Status.CLARIFICATION)
    moment = tz_now()
    req.status_note, req.outcome, req.closed_at = reason.strip()[:500], Outcome.REJECTED, moment
    _schedule_hold_release(req, moment)
    _move(req, Status.REJECTED, ["status_note", "outcome", "closed_at", "hold_release_due_at"])
    _audit(actor, "reject", req)
    return req


@transaction.atomic
def disclosure_request_withdraw(*, actor, request: DisclosureRequest, note: str = "") -> DisclosureRequest:
    """The authority withdrew its request (before anything was delivered)."""
    _require_officer(actor)
    req = _locked(request)
    _require_state(req, *(OPEN_STATUSES - {Status.DELIVERED, Status.PRODUCING}))
    moment = tz_now()
    req.status_note, req.outcome, req.closed_at = note.strip()[:500], Outcome.WITHDRAWN, moment
    _schedule_hold_release(req, moment)
    _move(req, Status.WITHDRAWN, ["status_note", "outcome", "closed_at", "hold_release_due_at"])
    _audit(actor, "withdraw", req)
    return req


# --- production, check, delivery -----------------------------------------------------------------

@transaction.atomic
def disclosure_production_start(*, actor, request: DisclosureRequest) -> DisclosureRequest:
    """Queue the package build (ids only) once the transaction commits."""
    from .tasks import disclosure_package_build_task

    _require_officer(actor)
    req = _locked(request)
    _require_state(req, Status.APPROVED)
    if req.legal_basis in PRESERVATION_BASES:
        raise ApplicationError(PRESERVATION_NOT_PRODUCED, extra={"field": "legal_basis"})
    req.production_started_by, req.production_error = actor, ""
    _move(req, Status.PRODUCING, ["production_started_by", "production_error"])
    _audit(actor, "production_start", req)
    transaction.on_commit(lambda: disclosure_package_build_task.delay(req.pk, actor.pk))
    return req


@transaction.atomic
def disclosure_package_build(*, request_id: int, actor) -> Package:
    """Build and seal the package (production.py); the request moves to PRODUCED. A row outside the
    approved scope raises ScopeViolation and nothing is stored."""
    from .production import build_package

    req = DisclosureRequest.objects.select_for_update().select_related("authority").get(pk=request_id)
    _require_state(req, Status.PRODUCING)
    package = build_package(request=req, actor=actor)
    req.produced_at = tz_now()
    _move(req, Status.PRODUCED, ["produced_at"])
    _audit(actor, "produce", req, package=package.pk, records=package.record_count)
    return package


@transaction.atomic
def disclosure_production_failed(*, request_id: int, actor, error: str) -> DisclosureRequest:
    """Back to APPROVED with the reason (a class name, never data), so the officers can look and retry."""
    req = DisclosureRequest.objects.select_for_update().get(pk=request_id)
    _require_state(req, Status.PRODUCING)
    req.production_error = error[:300]
    _move(req, Status.APPROVED, ["production_error"])
    _audit(actor, "production_failed", req, error=error[:100])
    return req


@transaction.atomic
def disclosure_output_check(*, actor, request: DisclosureRequest) -> DisclosureRequest:
    """A second officer looked at the output (counts, scope) before it leaves the house."""
    _require_officer(actor)
    req = _locked(request)
    _require_state(req, Status.PRODUCED)
    if req.production_started_by_id == actor.pk:
        raise ApplicationError(CHECKER_IS_PRODUCER, extra={"field": "officer"})
    req.checked_at, req.checked_by = tz_now(), actor
    _move(req, Status.CHECKED, ["checked_at", "checked_by"])
    _audit(actor, "output_check", req)
    return req


@transaction.atomic
def disclosure_package_download(*, actor, request: DisclosureRequest) -> tuple[str, bytes]:
    """The ZIP of the sealed package, logged per download. Only after the output check."""
    from .models import PackageDownload
    from .production import package_zip

    _require_officer(actor)
    req = _locked(request)
    _require_state(req, Status.CHECKED, Status.DELIVERED)
    package = Package.objects.get(request=req)
    if package.state != Package.State.SEALED:
        raise ApplicationError(WRONG_STATE, extra={"field": "package"})
    data = package_zip(package)
    digest = hashlib.sha256(data).hexdigest()
    PackageDownload.objects.create(package=package, downloaded_by=actor, zip_sha256=digest)
    _audit(actor, "package_download", req, package=package.pk, sha256=digest)
    return f"disclosure-{req.pk}.zip", data


def _notice_users(req: DisclosureRequest) -> set[int]:
    """The subscribers concerned: target accounts, and whoever held a target number in the window."""
    from django.db.models import Q

    from accounts.models import PhoneNumber

    users = {t.account_id for t in req.targets.all() if t.account_id}
    indexes = [t.number_index for t in req.targets.all() if t.number_index]
    if indexes:
        users |= set(PhoneNumber.objects.filter(number_index__in=indexes, valid_from__lt=req.window_end)
                     .filter(Q(valid_to__isnull=True) | Q(valid_to__gt=req.window_start))
                     .values_list("user_id", flat=True))
    return users


@transaction.atomic
def disclosure_request_deliver(*, actor, request: DisclosureRequest, receipt: str) -> DisclosureRequest:
    """Mark the package handed over, with the authority's receipt. Refused without two approvals and
    an output check, whatever the state says. Starts the package's retention and the user notices."""
    _require_officer(actor)
    if not receipt.strip():
        raise ApplicationError(RECEIPT_REQUIRED, extra={"field": "receipt"})
    req = _locked(request)
    approvers = set(req.approvals.values_list("officer_id", flat=True))
    if (len(approvers) < REQUIRED_APPROVALS or req.received_by_id in approvers or req.checked_by_id is None
            or req.status != Status.CHECKED):
        raise ApplicationError(DELIVERY_NEEDS_APPROVALS, extra={"field": "status", "status": req.status})
    moment = tz_now()
    package = Package.objects.get(request=req)
    package.delete_after = moment + timedelta(days=settings.DISCLOSURE_PACKAGE_RETENTION_DAYS)
    package.save(update_fields=["delete_after"])
    req.delivered_at, req.delivery_receipt = moment, receipt.strip()[:300]
    has_data = bool(package.record_count or package.manifest.get("subscriber_count"))
    req.outcome = Outcome.FULL if has_data else Outcome.NO_DATA
    if req.narrowed_at is not None and has_data:
        req.outcome = Outcome.PARTIAL
    _move(req, Status.DELIVERED, ["delivered_at", "delivery_receipt", "outcome"])
    notices = 0
    if req.notice_user:
        today = moment.date()
        secret = req.secrecy_until is not None and req.secrecy_until > today
        for user_id in sorted(_notice_users(req)):
            Notice.objects.get_or_create(request=req, user_id=user_id, defaults={
                "state": Notice.State.WITHHELD if secret else Notice.State.SENT,
                "withheld_until": req.secrecy_until if secret else None,
                "sent_at": None if secret else moment})
            notices += 1
    _audit(actor, "deliver", req, package=package.pk, notices=notices)
    return req


@transaction.atomic
def disclosure_request_close(*, actor, request: DisclosureRequest) -> DisclosureRequest:
    """Close a delivered request (or a preservation order that has run its course). The hold stays
    for DISCLOSURE_HOLD_RELEASE_DAYS more, for follow-up questions of the authority."""
    _require_officer(actor)
    req = _locked(request)
    if req.legal_basis in PRESERVATION_BASES:
        _require_state(req, Status.DELIVERED, Status.APPROVED)
        if req.status == Status.APPROVED:
            req.outcome = Outcome.PRESERVED
    else:
        _require_state(req, Status.DELIVERED)
    moment = tz_now()
    req.closed_at = moment
    _schedule_hold_release(req, moment)
    _move(req, Status.CLOSED, ["closed_at", "hold_release_due_at", "outcome"])
    _audit(actor, "close", req)
    return req


# --- notices -------------------------------------------------------------------------------------

@transaction.atomic
def disclosure_notice_send(*, actor, notice: Notice) -> Notice:
    """Send a withheld notice once the secrecy order has ended (never before)."""
    _require_officer(actor)
    notice = Notice.objects.select_for_update().select_related("request").get(pk=notice.pk)
    if notice.state != Notice.State.WITHHELD:
        raise ApplicationError(WRONG_STATE, extra={"field": "state"})
    until = notice.request.secrecy_until
    if until is not None and until > tz_now().date():
        raise ApplicationError("The secrecy order is still running.", extra={"field": "secrecy_until"})
    notice.state, notice.sent_at = Notice.State.SENT, tz_now()
    notice.save(update_fields=["state", "sent_at"])
    audit_record(actor=actor, action="disclosure.notice_send", target_type="user", target_id=notice.user_id,
                 extra={"request": notice.request_id, "notice": notice.pk})
    return notice


# --- scheduled jobs (beat) -----------------------------------------------------------------------

def _officers_mail(*, subject: str, message: str) -> int:
    from accounts.services import staff_role_mail

    return staff_role_mail(role=Role.LEGAL_OFFICER, subject=subject, message=message)


def disclosure_holds_release_due(*, now: datetime | None = None, actor=None) -> int:
    """Release the holds of requests closed (or rejected, withdrawn) longer ago than the grace period."""
    moment = now or tz_now()
    done = 0
    due = DisclosureRequest.objects.filter(hold_release_due_at__lte=moment, hold_released_at__isnull=True)
    for pk in due.values_list("pk", flat=True):
        with transaction.atomic():
            req = DisclosureRequest.objects.select_for_update().get(pk=pk)
            if req.hold_released_at is not None:
                continue
            _hold_release(req=req, actor=actor)
            req.hold_released_at = moment
            req.save(update_fields=["hold_released_at"])
            _audit(actor, "hold_release", req, hold=req.hold_id)
            done += 1
    return done


def disclosure_deadlines_escalate(*, now: datetime | None = None, hours: int | None = None, actor=None) -> int:
    """E-mail the legal officers about open requests due within `hours` (once per request)."""
    moment = now or tz_now()
    hours = settings.DISCLOSURE_ESCALATION_HOURS if hours is None else hours
    due = DisclosureRequest.objects.filter(status__in=OPEN_STATUSES - {Status.DELIVERED}, escalated_at__isnull=True,
                                           deadline__lte=moment + timedelta(hours=hours)).order_by("deadline")
    ids = list(due.values_list("pk", flat=True))
    if not ids:
        return 0
    body = "\n".join(f"Disclosure request #{pk} is due within {hours} hours." for pk in ids)
    _officers_mail(subject=f"[VoIPXS] {len(ids)} disclosure request(s) near their deadline", message=body)
    with transaction.atomic():
        for req in DisclosureRequest.objects.select_for_update().filter(pk__in=ids):
            req.escalated_at = moment
            req.save(update_fields=["escalated_at"])
            _audit(actor, "escalate", req, hours=hours)
    return len(ids)


def disclosure_secrecy_reminders(*, now: datetime | None = None, actor=None) -> int:
    """Remind the legal officers of withheld notices whose secrecy order has ended (once each)."""
    moment = now or tz_now()
    due = Notice.objects.filter(state=Notice.State.WITHHELD, reminded_at__isnull=True,
                                withheld_until__lte=moment.date())
    ids = list(due.values_list("pk", "request_id"))
    if not ids:
        return 0
    body = "\n".join(f"Request #{req}: the secrecy order has ended; notice #{pk} can now be sent." for pk, req in ids)
    _officers_mail(subject="[VoIPXS] Secrecy orders ended: notices to send", message=body)
    with transaction.atomic():
        Notice.objects.filter(pk__in=[pk for pk, _ in ids]).update(reminded_at=moment)
        for pk, req_id in ids:
            audit_record(actor=actor, action="disclosure.secrecy_reminder", target_type="disclosure_request",
                         target_id=req_id, extra={"notice": pk})
    return len(ids)


def disclosure_packages_purge(*, now: datetime | None = None, dry_run: bool = False) -> dict:
    """Retention of delivered packages: their files go DISCLOSURE_PACKAGE_RETENTION_DAYS after delivery;
    the request record and the manifest (hashes, counts; no data) stay as accountability."""
    moment = now or tz_now()
    due = Package.objects.filter(state=Package.State.SEALED, delete_after__lte=moment)
    if dry_run:
        return {"deleted": due.count()}
    deleted = 0
    for pk in due.values_list("pk", flat=True):
        with transaction.atomic():
            package = Package.objects.select_for_update().get(pk=pk)
            if package.state != Package.State.SEALED:
                continue
            package.files.all().delete()
            package.state, package.deleted_at = Package.State.DELETED, moment
            package.save(update_fields=["state", "deleted_at"])
            audit_record(actor=None, action="disclosure.package_purge", target_type="disclosure_request",
                         target_id=package.request_id, extra={"package": package.pk})
            deleted += 1
    return {"deleted": deleted}
