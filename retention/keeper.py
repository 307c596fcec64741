"""What erasure may not delete for a person, and why (registered with voipxs.privacy.registry.register_keeper),
and the retention app's demo seeder."""
from __future__ import annotations

from datetime import date, timedelta
from functools import partial
from typing import Any

from django.db.models import Max
from django.utils import translation
from django.utils.functional import lazy
from django.utils.timezone import localdate, now as tz_now
from django.utils.translation import gettext, gettext_lazy, gettext_noop

from accounts.models import User
from traffic.models import Cdr, Invoice
from voipxs.privacy.registry import Kept

from .models import Category, HeldCdr, LegalHold
from .purge.rules import Cutoffs, hold_rows_q, protected_invoice_ids, shift_months
from .selectors import legal_hold_active_q, retention_policy_at
from .services import hold_owner, legal_hold_place


# Why a hold's data may not be erased (GDPR art. 17(3)), per reason: (b) a legal obligation, the order the
# hold serves; (e) a legal claim. Never Tw art. 13.2a: the general retention duty it held was declared
# inoperative in 2015 (ECLI:NL:RBDHA:2015:2498), so no hold rests on it (LEGAL.md 1.5).
HOLD_BASES = {
    LegalHold.Reason.DISCLOSURE_REQUEST: "GDPR art. 17(3)(b); the authority's order (Sv art. 126n-126nd; EPOC)",
    LegalHold.Reason.PRESERVATION_ORDER: "GDPR art. 17(3)(b); a preservation order (Sv art. 126ni; EPOC-PR)",
    LegalHold.Reason.DISPUTE: "GDPR art. 17(3)(e)",
    LegalHold.Reason.UNPAID_INVOICE: "GDPR art. 17(3)(e); Tw art. 11.5(2)",
}


INVOICES_KEPT_REASON = gettext_noop("Invoices and their aggregated lines are kept for the tax authority.")
CALLS_KEPT_REASON = gettext_noop("Calls of an invoice that is unpaid, disputed, inside its dispute window, or within the "
                                 "time to appeal a decision on its dispute.")
HOLD_KEPT_REASON = gettext_noop("Legal hold (%(reason)s, %(reference)s).")


def _hold_reason(hold: LegalHold, *, english: bool) -> str:
    """The hold's line: in English for the record (the DPO's, the audit's), else in the reader's language."""
    with translation.override("en" if english else translation.get_language()):
        return gettext(HOLD_KEPT_REASON) % {"reason": hold.get_reason_display(), "reference": hold.reference}


def _categories_label(categories: list[str]) -> str:
    return ", ".join(str(Category(c).label) if c in Category.values else c for c in categories)


def _user_number_indexes(user: Any) -> list[str]:
    return [i for i in user.phone_numbers.values_list("number_index", flat=True) if i]


def hold_is_investigative(hold: LegalHold) -> bool:
    """A hold for a criminal investigation: a disclosure request's (placed by disclosures, whatever its
    reason) or a preservation order. Its existence is not told to the person it is about."""
    return (hold.reason in (LegalHold.Reason.DISCLOSURE_REQUEST, LegalHold.Reason.PRESERVATION_ORDER)
            or bool(hold_owner(hold.reference)))


def retention_keeper(user: Any, *, now=None) -> list[Kept]:
    now = now or tz_now()
    kept: list[Kept] = []
    invoices = Invoice.objects.filter(account_id=user.pk)
    if invoices.exists():
        policy = retention_policy_at(category=Category.INVOICE, at=now)
        months = policy.period_months if policy else 84
        newest = invoices.aggregate(m=Max("issued_at"))["m"]
        kept.append(Kept(category="invoices", reason=INVOICES_KEPT_REASON, category_label=gettext_lazy("Invoices"),
                         reason_shown=gettext_lazy(INVOICES_KEPT_REASON),
                         legal_basis=policy.legal_basis if policy else "AWR art. 52",
                         until=localdate(shift_months(newest, months)), count=invoices.count()))
    c = Cutoffs.at(now)
    open_ids = list(invoices.filter(id__in=protected_invoice_ids(c)).values_list("id", flat=True))
    if open_ids:
        calls = (Cdr.objects.filter(invoice_id__in=open_ids).count()
                 + HeldCdr.objects.filter(invoice_id__in=open_ids).count())
        pending = invoices.filter(id__in=open_ids)
        # Unpaid or disputed: no end date yet; otherwise the day after the latest keep-until (the dispute
        # window, or a decided dispute's appeal period, upheld or rejected) and the cdr_billed period.
        no_end = pending.exclude(status__in=[Invoice.Status.PAID, Invoice.Status.VOID],
                                 calls_kept_until__isnull=False).exists()
        kept_until: date | None = pending.aggregate(m=Max("calls_kept_until"))["m"]
        kept.append(Kept(category="calls", reason=CALLS_KEPT_REASON, legal_basis="Tw art. 11.5(2)",
                         category_label=gettext_lazy("Calls"), reason_shown=gettext_lazy(CALLS_KEPT_REASON),
                         until=None if no_end or kept_until is None else c.billed_calls_go_on(kept_until), count=calls))
    indexes = _user_number_indexes(user)
    for hold in LegalHold.objects.filter(legal_hold_active_q(at=now)):
        if user.pk not in hold.account_ids and not set(indexes) & set(hold.number_indexes):
            continue
        kept.append(Kept(category=",".join(hold.categories), reason=_hold_reason(hold, english=True),
                         category_label=lazy(_categories_label, str)(hold.categories),
                         reason_shown=lazy(partial(_hold_reason, hold, english=False), str)(),
                         legal_basis=HOLD_BASES.get(hold.reason, "GDPR art. 17(3)(e)"),
                         until=localdate(hold.expires_at) if hold.expires_at else None,
                         withheld_from_subject=hold_is_investigative(hold), rows=hold_rows_q(hold)))
    return kept


def seed_retention(stdout) -> None:
    """Demo: a preservation order on alice's account for the last 30 days, once."""
    alice = User.objects.filter(username="alice").first()
    if alice is None or LegalHold.objects.filter(reference="demo:preservation-1").exists():
        return
    legal_hold_place(reason=LegalHold.Reason.PRESERVATION_ORDER, reference="demo:preservation-1",
                     categories=[Category.CDR_BILLED, Category.CDR_UNBILLED], account_ids=[alice.pk],
                     window_start=tz_now() - timedelta(days=30), expires_at=tz_now() + timedelta(days=90))
    stdout.write("Retention: a demo legal hold on alice's calls; the DPO sees it at /retention/.")
