"""Reads of the retention app. Policies and receipts hold no personal data; holds and held CDRs do
(account ids, blind indexes, encrypted numbers), so their selectors check the actor's purpose."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, Q, QuerySet
from django.utils.timezone import now as tz_now

from traffic.selectors.admin_calls import AdminCallReads
from traffic.selectors.cdr_reader import register_kept_copies
from traffic.selectors.scope import objection_q
from voipxs.privacy import crypto
from voipxs.privacy.crypto import blind_index
from voipxs.privacy.phone import normalize_e164
from voipxs.privacy.purposes import Purpose, require_purpose

from .models import Category, HeldCdr, LegalHold, PurgedMonth, PurgeReceipt, PurgeRun, RetentionPolicy

HELD_PURPOSES = frozenset({Purpose.LEGAL_OBLIGATION, Purpose.DISPUTE})
HELD_PURPOSE_REFUSED = "Held calls may only be read for a legal obligation or a dispute."


def retention_policy_at(*, category: str, at: datetime | None = None) -> RetentionPolicy | None:
    """The version of `category`'s policy that was in force at `at` (default: now)."""
    at = at or tz_now()
    return (RetentionPolicy.objects.filter(category=category, valid_from__lte=at)
            .order_by("-valid_from", "-version").first())


def retention_policy_current_list(*, at: datetime | None = None) -> list[RetentionPolicy]:
    return [p for c in Category.values if (p := retention_policy_at(category=c, at=at)) is not None]


def retention_policy_register_list() -> list[dict]:
    """The policies in force as rows of the processing register (GDPR art. 30; registered with
    voipxs.privacy.registry.register_retention_source, so the kernel never imports retention), in the
    active language: the register's page and the privacy policy show them to the reader, its documents
    of record (Markdown, DPIA) ask for them in English."""
    return [
        {"category": p.category, "label": str(p.get_category_display()), "period": p.period_label,
         "trigger": p.trigger_label, "action": str(p.get_action_display()), "legal_basis": p.legal_basis_label}
        for p in retention_policy_current_list()
    ]


def retention_policy_history(*, category: str | None = None) -> QuerySet[RetentionPolicy]:
    qs = RetentionPolicy.objects.select_related("changed_by").order_by("category", "-version")
    return qs.filter(category=category) if category else qs


def legal_hold_active_q(*, at: datetime) -> Q:
    return (Q(starts_at__lte=at) & (Q(released_at__isnull=True) | Q(released_at__gt=at))
            & (Q(expires_at__isnull=True) | Q(expires_at__gt=at)))


def legal_hold_list(*, actor, purpose: Purpose | str = Purpose.LEGAL_OBLIGATION) -> QuerySet[LegalHold]:
    require_purpose(actor=actor, purpose=purpose, action="retention.hold_list", target_type="legal_hold")
    return LegalHold.objects.select_related("placed_by", "released_by")


def legal_holds_active(*, at: datetime, category: str) -> list[LegalHold]:
    """For the purge and the keeper (no actor: they only read scope, never show it)."""
    return [h for h in LegalHold.objects.filter(legal_hold_active_q(at=at)) if category in h.categories]


def purge_run_unfinished_list(*, limit: int = 10) -> QuerySet[PurgeRun]:
    """Real runs that failed or are still running, newest first, with the receipts that removed or
    anonymised something (counts only): a failed run's receipts are what it removed before it stopped,
    each batch counted as it committed."""
    did = PurgeReceipt.objects.filter(Q(deleted__gt=0) | Q(anonymised__gt=0)).order_by("id")
    return (PurgeRun.objects.filter(dry_run=False).exclude(status=PurgeRun.Status.DONE).order_by("-started_at")
            .prefetch_related(Prefetch("receipts", queryset=did))[:limit])


def purge_receipt_list(*, limit: int = 30, dry_run: bool | None = None) -> QuerySet[PurgeReceipt]:
    qs = PurgeReceipt.objects.select_related("run")
    if dry_run is not None:
        qs = qs.filter(dry_run=dry_run)
    return qs[:limit]


def purged_month_list(*, limit: int = 24) -> QuerySet[PurgedMonth]:
    """The months the purge made unreadable, newest month first: when (the key's destruction) and when
    their files went (the detached tables' DROP). Months and times only, no personal data."""
    return PurgedMonth.objects.order_by("-month")[:limit]


@dataclass(frozen=True)
class HeldCall:
    cdr_id: int
    started_at: datetime
    src: str
    dst: str
    direction: str
    disposition: str
    billsec: int
    account_id: int | None
    invoice_id: int | None


def held_cdr_decrypt(row: HeldCdr, field: str) -> str:
    return held_token_decrypt(cdr_id=row.cdr_id, token=getattr(row, field))


def held_token_decrypt(*, cdr_id: int, token: bytes | memoryview | None) -> str:
    """One number field of a held CDR read as a plain column (`values_list`), e.g. by traffic's call
    list, which reads the hold table beside traffic_cdr under its own purpose check and audit entry."""
    if token is None:
        return ""
    return crypto.decrypt_bytes(bytes(token), aad=f"heldcdr:{cdr_id}".encode()).decode()


# traffic's call list, itemised bill and data-subject export read the hold table beside traffic_cdr,
# under their own purpose checks and audit entries. traffic sits below retention and never imports
# it, so retention hands it the table and the decryption when this module loads (AppConfig.ready
# imports it through .keeper; tests/retention/test_held_visible.py checks that it is registered).
register_kept_copies(model=HeldCdr, decrypt=held_token_decrypt)


# The DPO's admin page of the kept copies (retention/admin.py HeldCdrAdmin: ids and times, no numbers): what the
# hold table keeps is kept for legal holds and open or disputed invoices, and the DPO reads it under the purpose
# the DPO holds for them, as `held_cdr_list` demands one of HELD_PURPOSES. Checked and recorded by ids, per page.
HELD_CDR_ADMIN_READS = AdminCallReads(model=HeldCdr, purpose=Purpose.LEGAL_OBLIGATION, name="held_cdr",
                                      id_field="cdr_id")


def held_cdr_list(*, actor, purpose: Purpose | str, number: str | None = None, account_id: int | None = None,
                  start: datetime | None = None, end: datetime | None = None) -> list[HeldCall]:
    """Calls kept in the hold table after their month was dropped, readable under the master key."""
    if Purpose(purpose) not in HELD_PURPOSES:
        raise PermissionDenied(HELD_PURPOSE_REFUSED)
    require_purpose(actor=actor, purpose=purpose, action="retention.held_cdr_list", target_type="held_cdr",
                    extra={"by": "number" if number else "account" if account_id else "all"})
    # GDPR art. 21(1): under DISPUTE, an account whose objection was upheld is left out but for the calls of an invoice
    # under an open dispute (traffic.selectors.scope `objection_q`).
    qs = HeldCdr.objects.filter(objection_q(purpose)).order_by("started_at", "cdr_id")
    if number:
        index = blind_index(normalize_e164(number), domain="phone")
        qs = qs.filter(Q(src_index=index) | Q(dst_index=index))
    if account_id is not None:
        qs = qs.filter(account_id=account_id)
    if start:
        qs = qs.filter(started_at__gte=start)
    if end:
        qs = qs.filter(started_at__lt=end)
    return [HeldCall(cdr_id=r.cdr_id, started_at=r.started_at, src=held_cdr_decrypt(r, "src_enc"),
                     dst=held_cdr_decrypt(r, "dst_enc"), direction=r.direction, disposition=r.disposition,
                     billsec=r.billsec, account_id=r.account_id, invoice_id=r.invoice_id) for r in qs]
