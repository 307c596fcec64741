"""Reads of invoices, purpose-bound (`require_purpose` audits each access) and scoped like the calls
(`traffic.selectors.scope`): own, own contractor's, or staff-wide. Invoices and their lines are
aggregates per zone and month: they hold no numbers."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone as dt_timezone
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext_noop

from voipxs.exceptions import ApplicationError
from voipxs.privacy.purposes import Purpose, require_purpose

from ..invoice_pdf import invoice_pdf_bytes
from ..models import Invoice, InvoiceDispute, InvoiceLine
from ..partitions import month_start
from ..zone_names import zones_named
from .cursors import cursor_decode, cursor_encode
from .scope import SEES_RESTRICTED, STAFF_WIDE, objection_q

STATUS_INVALID = gettext_noop("Status must be one of: %(choices)s.")


def _scoped_invoices(*, actor: Any, purpose: Purpose) -> QuerySet[Invoice]:
    qs = Invoice.objects.select_related("account", "contractor")
    if purpose == Purpose.SELF_SERVICE:
        qs = qs.filter(account_id=actor.pk)
    elif purpose == Purpose.CONTRACTOR_INFORMATION:
        qs = qs.filter(contractor_id=actor.contractor_id) if getattr(actor, "contractor_id", None) else qs.none()
    elif purpose not in STAFF_WIDE:
        raise PermissionDenied("This purpose does not allow reading invoices.")
    if purpose not in SEES_RESTRICTED:
        qs = qs.filter(restricted_at__isnull=True)
    return qs.filter(objection_q(purpose, invoice_field="pk"))  # GDPR art. 21(1): scope.py


def invoice_list(*, actor: Any, purpose: Purpose | str, account: Any = None, status: str | None = None,
                 period: date | None = None, limit: int = 200, replacements: bool = False) -> list[Invoice]:
    """Invoices newest first, scoped by purpose (own / own contractor's / staff-wide). `replacements`:
    with the void invoice each replaces and the one that replaced it, joined in the same query (the
    pages show them). A customer's own list does not read their account again for every row."""
    purpose = require_purpose(actor=actor, purpose=purpose, action="invoice.list", target_type="user",
                              target_id=getattr(account, "pk", account) or "")
    qs = _scoped_invoices(actor=actor, purpose=purpose)
    if purpose == Purpose.SELF_SERVICE:
        qs = qs.select_related(None)
    if replacements:
        qs = qs.select_related("replaces", "replaced_by")
    if account is not None:
        qs = qs.filter(account_id=getattr(account, "pk", account))
    if status:
        if status not in Invoice.Status.values:
            choices = {"choices": ", ".join(Invoice.Status.values)}
            raise ApplicationError.formatted(STATUS_INVALID, choices, field="status")
        qs = qs.filter(status=status)
    if period is not None:
        qs = qs.filter(period=month_start(period))
    return list(qs.order_by("-period", "-id")[:limit])


@dataclass(frozen=True)
class InvoicePage:
    rows: list[Invoice]
    next_cursor: str | None  # opaque (the call pages' cursor: traffic.selectors.cursors); None on the last page


def invoice_page(*, actor: Any, purpose: Purpose | str, status: str | None = None, number: str | None = None,
                 after: str | None = None, limit: int = 50, disputes: bool = False) -> InvoicePage:
    """One page of invoices, newest month first, by keyset on (period, id) as the call pages page by (started_at,
    id): every invoice is reachable however many there are, and no page counts them. `number`: invoices whose
    number starts with it ("INV-2026", "INV-202603-000042"), any case. A cursor not made here raises
    ApplicationError (field "cursor"); a status not a status, (field "status"). `disputes`: each invoice with all
    its disputes as `listed_disputes` (`invoice_disputes`' rows), for the whole page in one query."""
    purpose = require_purpose(actor=actor, purpose=purpose, action="invoice.list", target_type="user", target_id="")
    qs = _scoped_invoices(actor=actor, purpose=purpose).select_related("replaces", "replaced_by").prefetch_related(
        Prefetch("disputes", queryset=_decided_disputes(), to_attr="decided_disputes"))
    if disputes:
        qs = qs.prefetch_related(Prefetch("disputes", queryset=_listed_disputes(), to_attr="listed_disputes"))
    if status:
        if status not in Invoice.Status.values:
            choices = {"choices": ", ".join(Invoice.Status.values)}
            raise ApplicationError.formatted(STATUS_INVALID, choices, field="status")
        qs = qs.filter(status=status)
    if number:
        qs = qs.filter(number__istartswith=number.strip())
    if after:
        moment, last_id = cursor_decode(after)
        qs = qs.filter(Q(period__lt=moment.date()) | Q(period=moment.date(), id__lt=last_id))
    found = list(qs.order_by("-period", "-id")[:limit + 1])
    rows = found[:limit]
    last = rows[-1] if rows else None
    more = len(found) > limit and last is not None
    period = datetime(last.period.year, last.period.month, last.period.day, tzinfo=dt_timezone.utc) if more else None
    return InvoicePage(rows=rows, next_cursor=cursor_encode(period, last.pk) if more else None)


def invoice_get(*, actor: Any, purpose: Purpose | str, invoice_id: int) -> Invoice:
    """One invoice with its lines; out of the purpose's scope it does not exist (404, no leak)."""
    purpose = require_purpose(actor=actor, purpose=purpose, action="invoice.get", target_type="invoice",
                              target_id=invoice_id)
    try:
        return _scoped_invoices(actor=actor, purpose=purpose).prefetch_related("lines").get(pk=invoice_id)
    except (Invoice.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def invoice_lines(*, invoice: Invoice) -> list[InvoiceLine]:
    """Lines of an invoice already obtained through `invoice_get` (aggregates, no numbers), each with its zone's
    name in the reader's language (`zone_shown`, traffic.zone_names)."""
    lines = list(invoice.lines.order_by("month", "zone"))
    zones_named(lines)
    return lines


def _decided_disputes() -> QuerySet[InvoiceDispute]:
    return InvoiceDispute.objects.filter(resolved_at__isnull=False).order_by("raised_at", "pk")


def _listed_disputes() -> QuerySet[InvoiceDispute]:
    # Dates, who raised each and the outcome; what was written (the reason, personal data) is not read.
    return InvoiceDispute.objects.defer("reason").order_by("raised_at", "pk")


def invoice_disputes(*, invoice: Invoice) -> list[InvoiceDispute]:
    """Every dispute of an invoice already obtained through `invoice_get`, oldest first, without what was written:
    when each was opened and by whom, and when and how it was decided (the API)."""
    return list(_listed_disputes().filter(invoice=invoice))


def invoice_disputes_decided(*, invoice: Invoice) -> list[InvoiceDispute]:
    """The decided disputes of an invoice already obtained through `invoice_get`, oldest first: what was written
    (personal data of the invoice's customer, read under the purpose the invoice was) and each outcome."""
    return list(_decided_disputes().filter(invoice=invoice))


def invoice_pdf(*, actor: Any, purpose: Purpose | str, invoice_id: int) -> tuple[Invoice, bytes]:
    """The invoice's PDF (its number, the customer's name and address, lines, VAT, totals), in the
    active language. The read is audited as its own action, so who downloaded which invoice shows."""
    purpose = require_purpose(actor=actor, purpose=purpose, action="invoice.pdf", target_type="invoice",
                              target_id=invoice_id)
    try:
        invoice = _scoped_invoices(actor=actor, purpose=purpose).select_related("replaces").get(pk=invoice_id)
    except (Invoice.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    return invoice, invoice_pdf_bytes(invoice, invoice_lines(invoice=invoice))
