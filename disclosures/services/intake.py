"""Taking a request in: its scope is checked against what its legal basis allows, its target numbers
are stored encrypted with a blind index, and a legal hold is placed on the scope at once. Documents
that come with it (the order, the request letter) are stored encrypted with their SHA-256. A request
received by e-mail keeps the domain it came from, flagged when the authority does not list it."""
from __future__ import annotations

import hashlib
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from email.utils import parseaddr
from typing import Iterable, Iterator

from django.conf import settings
from django.db import transaction
from django.utils.timezone import localdate, now as tz_now
from django.utils.translation import gettext_noop

from accounts.models import User
from voipxs.exceptions import ApplicationError, lowered_lazy
from voipxs.privacy.crypto import blind_index, encrypt_bytes
from voipxs.privacy.filetypes import CMS, CMS_PEM, JPEG, PDF, PNG, TIFF, XML, FileType, file_type_detect
from voipxs.privacy.phone import InvalidNumber, normalize_e164

from ..bases import BASES, CONTENT, NOTICE_BY_DEFAULT_BASES, scope_excess
from ..models import (
    Authority,
    AuthorityKind,
    DataCategory,
    DisclosureDocument,
    DisclosureRequest,
    DisclosureTarget,
    DISPUTE_AUTHORITY_KINDS,
    LegalBasis,
)
from ..rotation import document_aad
from .authorities import email_domain_clean, email_domain_listed
from .checks import REQUEST_NO_TARGET, request_audit, request_locked, require_officer
from .holds import request_hold_place

REQUEST_NO_REFERENCE = gettext_noop("A reference is required.")
REQUEST_NO_BASIS = gettext_noop("A legal basis is required.")
REQUEST_NO_CATEGORIES = gettext_noop("At least one data category is required.")
REQUEST_BAD_CATEGORY = gettext_noop("Unknown data category.")
REQUEST_CONTENT_NONE = gettext_noop("VoIPXS keeps no content of communications (what is said in a call), so there is "
                                    "no data to give for it: answer the authority “no data” for the content.")
REQUEST_BASIS_REFUSES = gettext_noop("This legal basis does not allow these data categories.")
REQUEST_TOO_FAR_AHEAD = gettext_noop("This legal basis allows future data for at most %(months)s months after the order.")
REQUEST_BAD_NUMBER = gettext_noop("A target number is not a valid phone number.")
REQUEST_BAD_ACCOUNT = gettext_noop("A target account does not exist.")
REQUEST_NO_WINDOW = gettext_noop("A time window (start and end) is required.")
REQUEST_BAD_WINDOW = gettext_noop("The window must end after it starts.")
REQUEST_NO_DEADLINE = gettext_noop("A deadline is required.")
REQUEST_DEADLINE_PAST = gettext_noop("The deadline is in the past; enter the date the authority set (today or later).")
REQUEST_BASIS_CRIMINAL = gettext_noop("A %(kind)s cannot use the basis “%(basis)s”: that is a criminal-procedure "
                                      "power. A dispute body asks under a dispute-body ruling or a court order.")
REQUEST_BASIS_DISPUTE = gettext_noop("A %(kind)s cannot use the basis “%(basis)s”: only a dispute commission or a "
                                     "mediator issues one.")
# ETSI TS 102 657 maxHits: the authority's cap on the number of records. Above this no cap means anything (a package
# holds hundreds of thousands of calls at most); a bigger number is a typing error, or no cap at all.
MAX_HITS_LIMIT = 10_000_000
REQUEST_BAD_MAX_HITS = gettext_noop("The cap on the number of records (maxHits) is a whole number from 1 to "
                                    "%(millions)s million; leave it empty when the authority set no cap.")
REQUEST_DUPLICATE = gettext_noop("This authority already sent a request with this reference.")
REQUEST_AUTHORITY_INACTIVE = gettext_noop("This authority is no longer active in the register; check who is asking.")
DOCUMENT_EMPTY = gettext_noop("The document is empty.")
# The API's own cap (20,000,000 characters of base64 are 15,000,000 bytes), for the page's uploads too.
DOCUMENT_MAX_BYTES = 15_000_000
DOCUMENT_TOO_LARGE = gettext_noop("The document is larger than %(megabytes)s MB, the most a document may be.")
# What authorities send: the order or letter as a PDF or a scan, signed or encrypted (CMS: .p7m, .p7s), or an
# XML request (ETSI TS 102 657). Read from the file's bytes (voipxs.privacy.filetypes), whatever its name or claimed
# type. Not e-mails (.eml): one carries any attachment and HTML; the order attached to it is filed instead.
DOCUMENT_TYPES = (PDF, PNG, JPEG, TIFF, CMS, CMS_PEM, XML)
DOCUMENT_WRONG_TYPE = gettext_noop("The document is not of a kind taken in: send a PDF, a scan as PNG, JPEG or TIFF, "
                                   "a signed or encrypted file (CMS/PKCS#7: .p7m or .p7s, DER or PEM) or an XML file.")
REQUEST_BAD_SENDER = gettext_noop("“Received from” is not an e-mail address; leave it empty for a request by phone, "
                                  "on paper or in person.")
# The notice to the user (LEGAL.md section 5, row 18). A withheld one needs a reason and a review date. Where the
# law gives the reason, it is the default, stored in English as written here and shown in the page's language.
NOTICE_REASON_SV = gettext_noop("Criminal-procedure order: the Public Prosecution Service informs the person "
                                "concerned (Sv 126bb).")
NOTICE_REASON_EU = gettext_noop("European order: the issuing authority informs the person concerned "
                                "(Reg. (EU) 2023/1543 art. 13).")
NOTICE_REASON_REQUIRED = gettext_noop("Give the reason why the user is not notified.")
NOTICE_REASON_TOO_LONG = gettext_noop("The reason may be at most 300 characters long.")
NOTICE_REVIEW_PAST = gettext_noop("The review date is in the past; choose today or a later day.")
NOTICE_NOT_WITHHELD = gettext_noop("The user is notified: a reason and a review date belong to a withheld notice only.")

_SV_BASES = frozenset({LegalBasis.SV_126N, LegalBasis.SV_126NA, LegalBasis.SV_126U, LegalBasis.SV_126UA,
                       LegalBasis.SV_126ZH, LegalBasis.SV_126ZI, LegalBasis.SV_126NI})
# The default reason of each basis that does not notify by default; the others need the officer's own.
NOTICE_DEFAULT_REASON = {**{b: NOTICE_REASON_SV for b in _SV_BASES},
                         LegalBasis.EU_PRODUCTION: NOTICE_REASON_EU, LegalBasis.EU_PRESERVATION: NOTICE_REASON_EU}
assert set(NOTICE_DEFAULT_REASON) == set(LegalBasis.values) - NOTICE_BY_DEFAULT_BASES, "a default per silent basis"


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


def _targets(*, numbers: Iterable[str], account_ids: Iterable[int]) -> tuple[list[tuple[str, str]], list[int]]:
    """The target numbers (E.164, blind index) and account ids, once every one is valid and there is one."""
    nums = _target_numbers(numbers)
    accounts = sorted({int(a) for a in account_ids})
    if len(accounts) != User.objects.filter(pk__in=accounts).count():
        raise ApplicationError(REQUEST_BAD_ACCOUNT, extra={"field": "account_ids"})
    if not nums and not accounts:
        raise ApplicationError(REQUEST_NO_TARGET, extra={"field": "numbers"})
    return nums, accounts


def validate_scope(*, legal_basis: str, categories: Iterable[str], window_start, window_end,
                   received_at: datetime) -> list[str]:
    """The sorted categories, once the basis allows them (bases.py: categories, and how far into the
    future its window may reach from `received_at`) and the window is one. Narrowing, conversion and
    the package build check with this too."""
    if not legal_basis:
        raise ApplicationError(REQUEST_NO_BASIS, extra={"field": "legal_basis"})
    if legal_basis not in LegalBasis.values:
        raise ApplicationError(REQUEST_NO_BASIS, extra={"field": "legal_basis"})
    cats = sorted(set(categories))
    if not cats:
        raise ApplicationError(REQUEST_NO_CATEGORIES, extra={"field": "categories"})
    if CONTENT in cats:  # before the unknown ones: a request for content gets its own answer, "no data"
        raise ApplicationError(REQUEST_CONTENT_NONE, extra={"field": "categories"})
    if any(c not in DataCategory.values for c in cats):
        raise ApplicationError(REQUEST_BAD_CATEGORY, extra={"field": "categories"})
    if not set(cats) <= BASES[legal_basis].categories:
        raise ApplicationError(REQUEST_BASIS_REFUSES, extra={"field": "categories"})
    if window_start is None or window_end is None:
        raise ApplicationError(REQUEST_NO_WINDOW, extra={"field": "window_start" if window_start is None else "window_end"})
    if window_end <= window_start:
        raise ApplicationError(REQUEST_BAD_WINDOW, extra={"field": "window_end"})
    if scope_excess(legal_basis=legal_basis, categories=cats, window_end=window_end, received_at=received_at):
        params = {"months": BASES[legal_basis].future_months}
        raise ApplicationError.formatted(REQUEST_TOO_FAR_AHEAD, params, field="window_end")
    return cats


def validate_basis_for_authority(*, legal_basis: str, authority_kind: str) -> None:
    """The basis must fit the kind of body that asks: a dispute commission or a mediator has no power
    under the Code of Criminal Procedure (nor under the EU e-evidence orders, criminal matters too), and
    a dispute-body ruling comes from a dispute body only. A court order fits any body that presents one."""
    criminal = {LegalBasis.SV_126N, LegalBasis.SV_126NA, LegalBasis.SV_126U, LegalBasis.SV_126UA,
                LegalBasis.SV_126ZH, LegalBasis.SV_126ZI, LegalBasis.SV_126NI, LegalBasis.EU_PRODUCTION,
                LegalBasis.EU_PRESERVATION}
    dispute_body = authority_kind in DISPUTE_AUTHORITY_KINDS
    if (dispute_body and legal_basis in criminal) or (not dispute_body and legal_basis == LegalBasis.DISPUTE_RULING):
        kind = AuthorityKind(authority_kind).label if authority_kind in AuthorityKind.values else authority_kind
        basis = LegalBasis(legal_basis).label if legal_basis in LegalBasis.values else legal_basis
        message = REQUEST_BASIS_CRIMINAL if dispute_body else REQUEST_BASIS_DISPUTE
        # Labels stay lazy: the message (logs) gets them in English, shown() in the page's language.
        params = {"kind": lowered_lazy(kind), "basis": basis}
        raise ApplicationError.formatted(message, params, field="legal_basis")


def notice_decision(*, legal_basis: str, notify: bool, reason: str, review_on: date | None,
                    today: date) -> tuple[str, date | None]:
    """The reason and review date to store with a decision on the notice to the user. Notified: none (giving
    one is refused). Withheld: the officer's reason or the basis's default (none for a basis that notifies by
    default), and a review date not before `today`, by default DISCLOSURE_NOTICE_REVIEW_DAYS after it."""
    reason = (reason or "").strip()
    if notify:
        if reason or review_on is not None:
            field = "notice_withheld_reason" if reason else "notice_review_on"
            raise ApplicationError(NOTICE_NOT_WITHHELD, extra={"field": field})
        return "", None
    reason = reason or NOTICE_DEFAULT_REASON.get(legal_basis, "")
    if not reason:
        raise ApplicationError(NOTICE_REASON_REQUIRED, extra={"field": "notice_withheld_reason"})
    if len(reason) > DisclosureRequest._meta.get_field("notice_withheld_reason").max_length:
        raise ApplicationError(NOTICE_REASON_TOO_LONG, extra={"field": "notice_withheld_reason"})
    if review_on is None:
        review_on = today + timedelta(days=settings.DISCLOSURE_NOTICE_REVIEW_DAYS)
    elif review_on < today:
        raise ApplicationError(NOTICE_REVIEW_PAST, extra={"field": "notice_review_on"})
    return reason, review_on


def max_hits_check(value: object) -> int | None:
    """The authority's cap on records (None: no cap), once it is a whole number from 1 to MAX_HITS_LIMIT."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_HITS_LIMIT:
        params = {"millions": MAX_HITS_LIMIT // 1_000_000}
        raise ApplicationError.formatted(REQUEST_BAD_MAX_HITS, params, field="max_hits")
    return value


def _require_reference_and_active(*, reference: str, authority: Authority) -> None:
    if not reference.strip():
        raise ApplicationError(REQUEST_NO_REFERENCE, extra={"field": "reference"})
    if not authority.active:  # the intake page lists active ones only; the API must refuse the same
        raise ApplicationError(REQUEST_AUTHORITY_INACTIVE, extra={"field": "authority"})


def _sender_domain(*, received_from: str, authority: Authority) -> tuple[str, bool | None]:
    """The domain of the address a request came from and whether `authority` lists it; ("", None) for a request
    without one (phone, paper). The address is read and dropped here: an officer's address is personal data,
    the domain of the body is not. A refusal never repeats the address."""
    raw = (received_from or "").strip()
    if not raw:
        return "", None
    local, at, domain = parseaddr(raw)[1].rpartition("@")
    if not local or not at:
        raise ApplicationError(REQUEST_BAD_SENDER, extra={"field": "received_from"})
    try:
        domain = email_domain_clean(domain, field="received_from")
    except ApplicationError:
        raise ApplicationError(REQUEST_BAD_SENDER, extra={"field": "received_from"}) from None
    return domain, email_domain_listed(domain, authority.email_domains)


def _deadlines(*, legal_basis: str, deadline: datetime | None, emergency: bool, received_at: datetime,
               oral_order: bool = False) -> dict:
    """The dates the basis sets (bases.py): an answer time (EPOC: the authority may ask sooner, never
    later), a preservation's end, and for an emergency or an oral order the day its written order is due. A
    deadline the authority set cannot be in the past (REQUEST_DEADLINE_PAST)."""
    if deadline is not None and deadline < received_at:
        raise ApplicationError(REQUEST_DEADLINE_PAST, extra={"field": "deadline"})
    basis = BASES[legal_basis]
    statutory = basis.answer_due(received_at, emergency=emergency)
    preserve_until = basis.preserve_until(received_at)
    if statutory is not None:
        deadline = min(deadline, statutory) if deadline is not None else statutory
    elif deadline is None and preserve_until is not None:
        deadline = preserve_until
    if deadline is None:
        raise ApplicationError(REQUEST_NO_DEADLINE, extra={"field": "deadline"})
    written_days = timedelta(days=settings.DISCLOSURE_WRITTEN_ORDER_DAYS)
    written_due = received_at + written_days if emergency or oral_order else None
    return {"deadline": deadline, "preserve_until": preserve_until, "written_order_due_at": written_due}


@transaction.atomic
def _targets_store(*, req: DisclosureRequest, nums: list, accounts: list) -> None:
    DisclosureTarget.objects.bulk_create(
        [DisclosureTarget(request=req, kind=DisclosureTarget.Kind.NUMBER, number=e164, number_index=idx) for e164, idx in nums]
        + [DisclosureTarget(request=req, kind=DisclosureTarget.Kind.ACCOUNT, account_id=a) for a in accounts])


def disclosure_request_receive(
    *,
    actor,
    authority: Authority,
    reference: str,
    legal_basis: str,
    categories: Iterable[str],
    window_start: datetime | None,
    window_end: datetime | None,
    deadline: datetime | None = None,
    numbers: Iterable[str] = (),
    account_ids: Iterable[int] = (),
    max_hits: int | None = None,
    emergency: bool = False,
    oral_order: bool = False,
    secrecy_until: date | None = None,
    notice_user: bool | None = None,
    notice_withheld_reason: str = "",
    notice_review_on: date | None = None,
    received_from: str = "",
    now: datetime | None = None,
) -> DisclosureRequest:
    """Take a request in (state RECEIVED) and place a legal hold on its scope at once, so that nothing
    it asks for is purged while it is reviewed. A preservation order's hold ends when its basis says.
    The user is notified as the basis says unless `notice_user` says otherwise; a withheld notice gets
    its reason and review date (notice_decision). `received_from`, the address an e-mailed request came
    from, keeps only its domain and whether the authority lists it (_sender_domain). `max_hits`: the authority's
    cap on the number of records (ETSI maxHits; None: none), which the package keeps to (production.py)."""
    require_officer(actor)
    received_at = now or tz_now()
    _require_reference_and_active(reference=reference, authority=authority)
    max_hits = max_hits_check(max_hits)
    cats = validate_scope(legal_basis=legal_basis, categories=categories, window_start=window_start,
                          window_end=window_end, received_at=received_at)
    validate_basis_for_authority(legal_basis=legal_basis, authority_kind=authority.kind)
    dates = _deadlines(legal_basis=legal_basis, deadline=deadline, emergency=emergency, received_at=received_at,
                       oral_order=oral_order)
    notify = (legal_basis in NOTICE_BY_DEFAULT_BASES) if notice_user is None else notice_user
    reason, review_on = notice_decision(legal_basis=legal_basis, notify=notify, reason=notice_withheld_reason,
                                        review_on=notice_review_on, today=localdate(received_at))
    nums, accounts = _targets(numbers=numbers, account_ids=account_ids)
    domain, listed = _sender_domain(received_from=received_from, authority=authority)
    if DisclosureRequest.objects.filter(authority=authority, reference=reference.strip()).exists():
        raise ApplicationError(REQUEST_DUPLICATE, extra={"field": "reference"})
    req = DisclosureRequest.objects.create(
        reference=reference.strip()[:100], authority=authority, legal_basis=legal_basis, categories=cats,
        window_start=window_start, window_end=window_end, target_count=len(nums) + len(accounts), max_hits=max_hits,
        emergency=emergency, oral_order=oral_order, secrecy_until=secrecy_until,
        notice_user=notify, notice_withheld_reason=reason, notice_review_on=review_on,
        sender_domain=domain, sender_domain_listed=listed, received_by=actor, received_at=received_at, **dates,
    )
    _targets_store(req=req, nums=nums, accounts=accounts)
    request_hold_place(req=req, actor=actor)
    request_audit(actor=actor, action="receive", req=req, basis=legal_basis, categories=cats, numbers=len(nums),
                  accounts=len(accounts), max_hits=max_hits, emergency=emergency, oral_order=oral_order,
                  hold=req.hold_id, deadline=req.deadline.isoformat(), notify=notify,
                  notice_review_on=review_on.isoformat() if review_on else None,
                  sender_domain=domain or None, sender_listed=listed)
    return req


def document_check(*, content: bytes, field: str = "document") -> FileType:
    """Intake's checks on a received document, made before anything of it (or of the request it comes with) is
    stored: not empty, at most DOCUMENT_MAX_BYTES, and one of DOCUMENT_TYPES by its own bytes. Its type, which
    is what gets stored and listed, never the type the uploader claimed."""
    if not content:
        raise ApplicationError(DOCUMENT_EMPTY, extra={"field": field})
    if len(content) > DOCUMENT_MAX_BYTES:
        params = {"megabytes": DOCUMENT_MAX_BYTES // 1_000_000}
        raise ApplicationError.formatted(DOCUMENT_TOO_LARGE, params, field=field)
    kind = file_type_detect(content, accepted=DOCUMENT_TYPES)
    if kind is None:
        raise ApplicationError(DOCUMENT_WRONG_TYPE, extra={"field": field})
    return kind


@contextmanager
def document_refused_at(field: str) -> Iterator[None]:
    """document_check refuses under the field "document" (the pages' file input); a caller whose input has another
    name (the API's document_base64 and content_base64, a conversion's order_document) has the refusal name it."""
    try:
        yield
    except ApplicationError as exc:
        if exc.extra.get("field") == "document":
            raise ApplicationError(exc.message, extra={**exc.extra, "field": field}) from None
        raise


@dataclass(frozen=True)
class ReceivedDocument:
    """A document that comes with a request when it is taken in (the order, the request letter). `content_type` is
    what the uploader claimed: not trusted, and not stored (document_check reads the type from `content`)."""

    content: bytes
    title: str = ""
    content_type: str = "application/octet-stream"
    is_written_order: bool = False


@transaction.atomic
def disclosure_request_take_in(*, actor, document: ReceivedDocument | None = None,
                               **request_fields) -> DisclosureRequest:
    """Take a request in (disclosure_request_receive, `request_fields`) with the document it came with, filed as
    disclosure_document_add files one. The document is checked first (document_check, field "document"), so a
    refused one stores nothing, and both are written in one transaction: a request is never left behind without
    the document it was taken in with."""
    if document is not None:
        document_check(content=document.content)
    req = disclosure_request_receive(actor=actor, **request_fields)
    if document is not None:
        disclosure_document_add(actor=actor, request=req, title=document.title, content=document.content,
                                content_type=document.content_type, is_written_order=document.is_written_order,
                                now=request_fields.get("now"))
        req.refresh_from_db()  # as the document left it (written_order_at)
    return req


@transaction.atomic
def disclosure_document_add(*, actor, request: DisclosureRequest, title: str, content: bytes,
                            content_type: str = "application/octet-stream", is_written_order: bool = False,
                            now: datetime | None = None) -> DisclosureDocument:
    """Store a received document encrypted, with its SHA-256 and the type read from its bytes (document_check;
    `content_type`, the uploader's claim, is not trusted and not stored). The written order puts the order on file:
    it ends an emergency's or an oral order's wait, and lets any other request be approved, produced and delivered."""
    require_officer(actor)
    kind = document_check(content=content)
    req = request_locked(request=request)
    doc = DisclosureDocument(request=req, title=(title.strip() or "document")[:200], content_type=kind.content_type,
                             size=len(content), sha256=hashlib.sha256(content).hexdigest(), content_enc=b"",
                             is_written_order=is_written_order, uploaded_by=actor)
    doc.save(force_insert=True)
    doc.content_enc = encrypt_bytes(content, aad=document_aad(doc.pk))
    doc.save(update_fields=["content_enc"])
    if is_written_order and req.written_order_at is None:
        req.written_order_at = now or tz_now()
        req.save(update_fields=["written_order_at"])
    request_audit(actor=actor, action="document_add", req=req, document=doc.pk, sha256=doc.sha256,
                  file_type=kind.code, written_order=is_written_order)
    return doc
