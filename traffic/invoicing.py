"""Invoice services: the monthly run and one service per state transition.

An invoice is made from the rated CDRs of one calendar month (UTC) of one account, plus calls of the
months before that were rated only after their own month was invoiced (LATE_MONTHS). Its lines are
aggregates per destination zone (calls, seconds, amount) and hold no numbers, so the invoice can be
kept 7 years (AWR art. 52) while its CDRs go once it is paid, undisputed and out of its dispute
window (retention reads `status` and `dispute_window_ends`).

The run is idempotent: the unique constraint (account, period) makes a second run skip an account
that already has its invoice, and the billed CDRs are tied to their invoice with one UPDATE per
invoice (`Cdr.invoice`), restricted to still-unbilled rows, so no call is billed twice.
"""
from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta, timezone as dt_timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Sum
from django.db.models.functions import Coalesce, TruncMonth
from django.utils.timezone import now

from accounts.models import User
from voipxs.audit import audit_record
from voipxs.exceptions import ApplicationError

from .models import Cdr, Invoice, InvoiceLine
from .partitions import add_months, month_start

logger = logging.getLogger(__name__)

INVOICE_NOT_OPEN = "Only an open invoice can be marked paid."
INVOICE_NOT_DISPUTABLE = "Only an open or paid invoice can be disputed."
INVOICE_WINDOW_PASSED = "The dispute window of this invoice has ended."
INVOICE_NOT_DISPUTED = "Only a disputed invoice can have its dispute resolved."
INVOICE_NOT_VOIDABLE = "Only an open or disputed invoice can be voided."
RESOLUTION_INVALID = "Resolve a dispute as 'upheld' (void the invoice) or 'rejected' (it stands)."
MONTH_NOT_OVER = "A month can only be invoiced once it is over."

PAYMENT_TERM_DAYS = 14
CENT = Decimal("0.01")


def dispute_window_days() -> int:
    return int(getattr(settings, "INVOICE_DISPUTE_WINDOW_DAYS", 183))


def _month_bounds(month: date) -> tuple[datetime, datetime]:
    first = month_start(month)
    return (datetime.combine(first, time.min, tzinfo=dt_timezone.utc),
            datetime.combine(add_months(first, 1), time.min, tzinfo=dt_timezone.utc))


# A call rated after its month was invoiced (its tariff came later: traffic.services.cdr_rate_pending
# runs hourly) goes on the next invoice, as a line of its own month, for as long as unbilled calls are
# kept (3 months): never lost, never billed twice (each call is tied to the invoice that billed it).
LATE_MONTHS = 3


def _billing_range(month: date) -> tuple[datetime, datetime]:
    start, stop = _month_bounds(month)
    return _month_bounds(add_months(month, -LATE_MONTHS))[0], stop


def _billable(*, account_id: int, month: date):
    start, stop = _billing_range(month)
    return Cdr.objects.filter(
        account_id=account_id, started_at__gte=start, started_at__lt=stop,
        rating=Cdr.Rating.RATED, invoice__isnull=True, restricted_at__isnull=True,
    )


def invoice_run(*, month: date, actor: Any = None, today: date | None = None) -> list[Invoice]:
    """Make the invoice of `month` for every account with unbilled rated calls in it. Returns the
    invoices made by this run (none on a re-run). One transaction per account, so that one failing
    account does not hold back the others and a crashed run resumes where it stopped."""
    month = month_start(month)
    today = today or now().date()
    if add_months(month, 1) > today:
        raise ApplicationError(MONTH_NOT_OVER, {"field": "month"})
    start, stop = _billing_range(month)
    account_ids = list(
        Cdr.objects.filter(started_at__gte=start, started_at__lt=stop, rating=Cdr.Rating.RATED,
                           invoice__isnull=True, restricted_at__isnull=True, account__isnull=False)
        .values_list("account_id", flat=True).distinct().order_by("account_id")
    )
    already = set(Invoice.objects.filter(period=month, account_id__in=account_ids).values_list("account_id", flat=True))
    made = []
    for account_id in account_ids:
        if account_id in already:
            continue
        invoice = _invoice_make(account_id=account_id, month=month, actor=actor)
        if invoice is not None:
            made.append(invoice)
    logger.info("invoice run %s: %d invoices made, %d accounts already invoiced", month.isoformat(), len(made), len(already))
    return made


def _invoice_make(*, account_id: int, month: date, actor: Any) -> Invoice | None:
    try:
        with transaction.atomic():
            account = User.objects.filter(pk=account_id).first()
            if account is None:
                return None  # a CDR of an account that no longer exists: nothing to invoice
            lines = list(
                _billable(account_id=account_id, month=month)
                .annotate(call_month=TruncMonth("started_at", tzinfo=dt_timezone.utc)).values("call_month", "zone")
                .annotate(calls=Count("id"), seconds=Coalesce(Sum("billsec"), 0), amount=Sum("price"))
                .order_by("call_month", "zone")
            )
            if not lines:
                return None
            issued = now()
            invoice = Invoice.objects.create(
                number=f"INV-{month:%Y%m}-{account_id:06d}", account=account, contractor_id=account.contractor_id,
                period=month, issued_at=issued, due_date=issued.date() + timedelta(days=PAYMENT_TERM_DAYS),
                dispute_window_ends=issued.date() + timedelta(days=dispute_window_days()),
            )
            total = Decimal("0")
            objs = []
            for line in lines:
                amount = (line["amount"] or Decimal("0")).quantize(CENT, rounding=ROUND_HALF_UP)
                total += amount
                objs.append(InvoiceLine(invoice=invoice, zone=line["zone"] or "-", month=line["call_month"].date(),
                                        calls=line["calls"], seconds=int(line["seconds"]), amount=amount))
            InvoiceLine.objects.bulk_create(objs)
            invoice.total = total
            invoice.save(update_fields=["total"])
            billed = _billable(account_id=account_id, month=month).update(invoice=invoice)
            audit_record(actor=actor, action="invoice.create", target_type="invoice", target_id=invoice.pk,
                         extra={"period": month.isoformat(), "calls": billed, "lines": len(objs)})
            return invoice
    except IntegrityError:
        # A concurrent run made this account's invoice first: the unique (account, period) held.
        return None


def _locked(invoice: Invoice) -> Invoice:
    return Invoice.objects.select_for_update().get(pk=invoice.pk)


@transaction.atomic
def invoice_mark_paid(*, invoice: Invoice, actor: Any, paid_at: datetime | None = None) -> Invoice:
    invoice = _locked(invoice)
    if invoice.status != Invoice.Status.OPEN:
        raise ApplicationError(INVOICE_NOT_OPEN, {"field": "status"})
    invoice.status, invoice.paid_at = Invoice.Status.PAID, paid_at or now()
    invoice.settled_at = invoice.paid_at
    invoice.save(update_fields=["status", "paid_at", "settled_at"])
    audit_record(actor=actor, action="invoice.paid", target_type="invoice", target_id=invoice.pk)
    return invoice


@transaction.atomic
def invoice_dispute(*, invoice: Invoice, actor: Any, today: date | None = None) -> Invoice:
    """Open a dispute. Allowed on an open or paid invoice until its dispute window ends; a disputed
    invoice keeps its CDRs (retention reads the status) until the dispute is resolved."""
    invoice = _locked(invoice)
    if invoice.status not in (Invoice.Status.OPEN, Invoice.Status.PAID):
        raise ApplicationError(INVOICE_NOT_DISPUTABLE, {"field": "status"})
    if (today or now().date()) > invoice.dispute_window_ends:
        raise ApplicationError(INVOICE_WINDOW_PASSED, {"field": "status"})
    invoice.status, invoice.disputed_at, invoice.settled_at = Invoice.Status.DISPUTED, now(), None
    invoice.save(update_fields=["status", "disputed_at", "settled_at"])
    audit_record(actor=actor, action="invoice.dispute", target_type="invoice", target_id=invoice.pk)
    return invoice


@transaction.atomic
def invoice_resolve_dispute(*, invoice: Invoice, actor: Any, resolution: str) -> Invoice:
    """'rejected': the invoice stands (back to paid if it had been paid, else open);
    'upheld': the invoice is voided (a corrected one is made by hand)."""
    invoice = _locked(invoice)
    if invoice.status != Invoice.Status.DISPUTED:
        raise ApplicationError(INVOICE_NOT_DISPUTED, {"field": "status"})
    if resolution == "rejected":
        invoice.status = Invoice.Status.PAID if invoice.paid_at else Invoice.Status.OPEN
    elif resolution == "upheld":
        invoice.status = Invoice.Status.VOID
    else:
        raise ApplicationError(RESOLUTION_INVALID, {"field": "resolution"})
    invoice.settled_at = now() if invoice.status in (Invoice.Status.PAID, Invoice.Status.VOID) else None
    invoice.save(update_fields=["status", "settled_at"])
    audit_record(actor=actor, action="invoice.dispute_resolved", target_type="invoice", target_id=invoice.pk,
                 extra={"resolution": resolution})
    return invoice


@transaction.atomic
def invoice_void(*, invoice: Invoice, actor: Any) -> Invoice:
    invoice = _locked(invoice)
    if invoice.status not in (Invoice.Status.OPEN, Invoice.Status.DISPUTED):
        raise ApplicationError(INVOICE_NOT_VOIDABLE, {"field": "status"})
    invoice.status, invoice.settled_at = Invoice.Status.VOID, now()
    invoice.save(update_fields=["status", "settled_at"])
    audit_record(actor=actor, action="invoice.void", target_type="invoice", target_id=invoice.pk)
    return invoice


def previous_month(today: date | None = None) -> date:
    return add_months(month_start(today or now().date()), -1)
