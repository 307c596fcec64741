"""Invoice services: the monthly run and one service per state transition.

An invoice is made from the rated CDRs of one calendar month in Amsterdam (the month the customer's call list dates
a call in; voipxs.timeutil.month_bounds) of one account, plus calls of the
months before that were rated only after their own month was invoiced (invoice_calls.LATE_MONTHS). Its lines are
aggregates per destination zone (calls, seconds, amount) and hold no numbers, so the invoice can be
kept 7 years (AWR art. 52) while its CDRs go once it is paid, undisputed and out of its dispute
window (retention reads `status` and `calls_kept_until`, which a decided dispute moves on).

The run is idempotent: a second run skips an account that already has an invoice for the month (a
void one included), the unique constraint (account, period) among live invoices stops a concurrent
run, and the billed CDRs are tied to their invoice with one UPDATE per invoice (`Cdr.invoice`),
restricted to still-unbilled rows, so no call is billed twice.

A void invoice (dispute upheld, or voided by billing) is replaced by a corrected one for the same
month with `invoice_reissue`: the same code path as the run, fed with exactly the void invoice's
calls at their current rating and price. Its number gets a suffix ("INV-202603-000042-2").
"""
from __future__ import annotations

import logging
from dataclasses import asdict
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.timezone import localdate, localtime, now
from django.utils.translation import gettext, gettext_noop

from accounts.models import User
from accounts.selectors import billing_address_get, billing_address_lines
from accounts.services.roles import staff_role_mail
from voipxs.exceptions import ApplicationError
from voipxs.mail import mail_date
from voipxs.money import to_cent
from voipxs.privacy.audit import audit_record
from voipxs.privacy.purposes import Purpose, Role, SystemActor

from ..invoice_pdf import Supplier
from ..models import Cdr, Invoice, InvoiceDispute, InvoiceLine
from ..partitions import add_months, month_start
from ..selectors.cdr_reader import kept_copies
from ..zone_names import dutch_zone_names
from .invoice_calls import _billable, _billing_range, _invoice_lines, _kept_billable
from .invoice_run_alert import InvoiceRunIncomplete

logger = logging.getLogger(__name__)

# The invoice run reads each account's billing address for the invoice it issues, whoever started it.
INVOICE_RUN = SystemActor("invoice_run", frozenset({Purpose.BILLING}))
INVOICE_NOT_OPEN = gettext_noop("Only an open invoice can be marked paid.")
INVOICE_NOT_DISPUTABLE = gettext_noop("Only an open or paid invoice can be disputed.")
INVOICE_WINDOW_PASSED = gettext_noop("The dispute window of this invoice has ended.")
INVOICE_NOT_DISPUTED = gettext_noop("Only a disputed invoice can have its dispute resolved.")
INVOICE_NOT_VOIDABLE = gettext_noop("Only an open or disputed invoice can be voided.")
INVOICE_NOT_VOID = gettext_noop("Only a void invoice can be reissued.")
INVOICE_ALREADY_REPLACED = gettext_noop("This void invoice has already been replaced by a corrected one.")
INVOICE_NOTHING_TO_REISSUE = gettext_noop("None of this invoice's calls can be billed again (none left, priced or "
                                          "unrestricted).")
RESOLUTION_INVALID = gettext_noop("Resolve a dispute as 'upheld' (void the invoice) or 'rejected' (it stands).")
MONTH_NOT_OVER = gettext_noop("A month can only be invoiced once it is over.")

PAYMENT_TERM_DAYS = 14


def dispute_window_days() -> int:
    return int(getattr(settings, "INVOICE_DISPUTE_WINDOW_DAYS", 183))


def dispute_appeal_days() -> int:
    return int(getattr(settings, "INVOICE_DISPUTE_APPEAL_DAYS", 365))


def _appeal_ends(invoice: Invoice) -> date:
    """The last day a decision on the invoice's dispute may still be taken further (Tw 11.5(2): the bill can
    be challenged until then, so its calls stay). Counted from the decision, which is never before the
    complaint the Geschillencommissie's 12 months count from."""
    decided = invoice.dispute_resolved_at or now()
    return localdate(decided) + timedelta(days=dispute_appeal_days())  # its day in Amsterdam


def reissue_ends(invoice: Invoice, *, decided_on: date | None = None) -> date:
    """The last day an upheld dispute's void invoice keeps its calls for the corrected one: its appeal period
    counted from `decided_on` (default: the decision recorded), or its dispute window if that ends later."""
    appeal = decided_on + timedelta(days=dispute_appeal_days()) if decided_on else _appeal_ends(invoice)
    return max(invoice.calls_kept_until or invoice.dispute_window_ends, invoice.dispute_window_ends, appeal)


def _reissues_mail(due: list[tuple[int, str, date]]) -> tuple[str, str]:
    """Billing's reminder of void invoices awaiting their corrected one, in the active language."""
    line = gettext("Invoice %(number)s: its dispute was upheld and no corrected invoice has been made. Its calls are "
                   "deleted after %(day)s; reissue it before then, or it stays unbilled.")
    return (gettext("[VoIPXS] Void invoices to reissue before their calls go"),
            "\n".join(line % {"number": number, "day": mail_date(until)} for _pk, number, until in due))


def invoice_reissues_remind(*, today: date | None = None, actor: Any = None) -> int:
    """Tell billing, once per invoice, which upheld disputes' void invoices still await their corrected
    invoice while their calls go within INVOICE_REISSUE_REMIND_DAYS (Celery beat, daily). The mail names
    invoice numbers and days only; returns how many invoices it named."""
    day = today or localdate(now())  # Amsterdam's day: at 23:30 UTC on the 31st it is the 1st there
    horizon = day + timedelta(days=settings.INVOICE_REISSUE_REMIND_DAYS)
    due = list(Invoice.objects.filter(status=Invoice.Status.VOID, dispute_resolved_at__isnull=False,
                                      replaced_by__isnull=True, reissue_reminded_at__isnull=True,
                                      calls_kept_until__gte=day, calls_kept_until__lte=horizon)
               .order_by("calls_kept_until", "pk").values_list("pk", "number", "calls_kept_until"))
    if not due:
        return 0
    staff_role_mail(role=Role.BILLING, compose=lambda: _reissues_mail(due))
    with transaction.atomic():
        Invoice.objects.filter(pk__in=[pk for pk, _n, _u in due]).update(reissue_reminded_at=now())
        for pk, _number, until in due:
            audit_record(actor=actor, action="invoice.reissue_reminder", purpose=Purpose.BILLING,
                         target_type="invoice", target_id=pk, extra={"calls_kept_until": until.isoformat()})
    return len(due)



def _invoice_number(*, account_id: int, month: date, replaces: Invoice | None) -> str:
    number = f"INV-{month:%Y%m}-{account_id:06d}"
    if replaces is None:
        return number
    # The n-th invoice of this account and month: the void ones it replaces keep their numbers.
    return f"{number}-{Invoice.objects.filter(account_id=account_id, period=month).count() + 1}"


def invoice_run(*, month: date, actor: Any = None, today: date | None = None) -> list[Invoice]:
    """Make the invoice of `month` for every account with unbilled rated calls in it. Returns the
    invoices made by this run (none on a re-run). One transaction per account, so that one failing
    account does not hold back the others and a crashed run resumes where it stopped."""
    month = month_start(month)
    today = today or localdate(now())  # Amsterdam's day, as beat's 02:00 is Amsterdam's (CELERY_TIMEZONE)
    if add_months(month, 1) > today:
        raise ApplicationError(MONTH_NOT_OVER, {"field": "month"})
    start, stop = _billing_range(month)
    account_ids = list(
        Cdr.objects.filter(started_at__gte=start, started_at__lt=stop, rating=Cdr.Rating.RATED,
                           invoice__isnull=True, restricted_at__isnull=True, account__isnull=False)
        .values_list("account_id", flat=True).distinct().order_by("account_id")
    )
    already = set(Invoice.objects.filter(period=month, account_id__in=account_ids).values_list("account_id", flat=True))
    made, failed = [], {}
    for account_id in account_ids:
        if account_id in already:
            continue
        try:
            invoice = _invoice_make(account_id=account_id, month=month, actor=actor)
        except Exception as exc:  # noqa: BLE001  the class only: a message may quote the customer's data
            failed[account_id] = type(exc).__name__
            continue
        if invoice is not None:
            made.append(invoice)
    logger.info("invoice run %s: %d invoices made, %d accounts already invoiced", month.isoformat(), len(made), len(already))
    if failed:
        raise InvoiceRunIncomplete(month=month, causes=sorted(set(failed.values())), failed=len(failed))
    return made


def _invoice_make(*, account_id: int, month: date, actor: Any, replaces: Invoice | None = None) -> Invoice | None:
    """One account's invoice of `month` from its billable calls (see `_billable`); with `replaces`,
    from the calls of that void invoice only. None if there is nothing to bill."""
    billed_on = replaces.pk if replaces is not None else None
    try:
        with transaction.atomic():
            account = User.objects.filter(pk=account_id).first()
            if account is None:
                return None  # a CDR of an account that no longer exists: nothing to invoice
            lines = _invoice_lines(account_id=account_id, month=month, billed_on=billed_on)
            if not lines:
                return None
            issued = now()
            issued_on = localtime(issued).date()  # the invoice's date, as its page and PDF show it (Amsterdam)
            window_ends = issued_on + timedelta(days=dispute_window_days())
            invoice = Invoice.objects.create(
                number=_invoice_number(account_id=account_id, month=month, replaces=replaces), account=account,
                contractor_id=account.contractor_id, period=month, replaces=replaces, issued_at=issued, due_date=issued_on + timedelta(days=PAYMENT_TERM_DAYS),
                dispute_window_ends=window_ends, calls_kept_until=window_ends,
            )
            subtotal = Decimal("0")
            objs = []
            dutch = dutch_zone_names(line["zone"] or "-" for line in lines)  # fixed on the issued invoice
            for line in lines:
                amount, zone = to_cent(line["amount"]), line["zone"] or "-"
                subtotal += amount
                objs.append(InvoiceLine(invoice=invoice, zone=zone, zone_nl=dutch.get(zone, ""),
                                        month=line["call_month"].date(), calls=line["calls"],
                                        seconds=int(line["seconds"]), amount=amount))
            InvoiceLine.objects.bulk_create(objs)
            _invoice_set_amounts(invoice, subtotal=subtotal)
            invoice.customer_name, invoice.customer_address = _bill_to(account, replaces=replaces)
            # the supplier of the supply: a corrected invoice keeps the one it corrects names (art. 35a Wet OB)
            invoice.supplier = asdict(Supplier.of(replaces) if replaces is not None else Supplier.from_settings())
            invoice.save(update_fields=["subtotal", "vat_rate", "vat_amount", "total", "customer_name",
                                        "customer_address", "supplier"])
            billed = _billable(account_id=account_id, month=month, billed_on=billed_on).update(invoice=invoice)
            kept = _kept_billable(billed_on)
            billed += kept.update(invoice_id=invoice.pk) if kept is not None else 0
            audit_record(actor=actor, action="invoice.create", purpose=Purpose.BILLING, target_type="invoice",
                         target_id=invoice.pk, extra={"period": month.isoformat(), "calls": billed, "lines": len(objs),
                                                      **({"replaces": billed_on} if billed_on is not None else {})})
            return invoice
    except IntegrityError:
        # A concurrent run made this account's invoice first: the unique (account, period) held.
        return None


def vat_of(subtotal: Decimal, rate: Decimal) -> Decimal:
    """VAT on the invoice's net subtotal, rounded once to the cent (not per line)."""
    return to_cent(subtotal * rate / 100)


def _invoice_set_amounts(invoice: Invoice, *, subtotal: Decimal) -> None:
    rate = Decimal(str(getattr(settings, "INVOICE_VAT_RATE", "21.00")))
    invoice.subtotal, invoice.vat_rate = subtotal, rate
    invoice.vat_amount = vat_of(subtotal, rate)
    invoice.total = subtotal + invoice.vat_amount


def _bill_to(account: User, *, replaces: Invoice | None) -> tuple[str, str]:
    """The customer as the invoice names them: the billing address on file now (accounts.BillingAddress:
    the Contractor's for a contractor's User, the account's own otherwise), read for billing, also on a
    corrected invoice (a wrong address is a reason to correct one); without one, what the replaced invoice
    said (the account may have been anonymised since), else the Contractor's or the account's name and no
    address (the PDF then says none is on file)."""
    address = billing_address_get(actor=INVOICE_RUN, purpose=Purpose.BILLING, user=account)
    if address is not None:
        return address.name, "\n".join(billing_address_lines(address))
    if replaces is not None and replaces.customer_name:
        return replaces.customer_name, replaces.customer_address or ""
    name = account.contractor.name if account.contractor_id else account.username
    return name, ""


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
    audit_record(actor=actor, action="invoice.paid", purpose=Purpose.BILLING, target_type="invoice",
                 target_id=invoice.pk)
    return invoice


@transaction.atomic
def invoice_dispute(*, invoice: Invoice, actor: Any, today: date | None = None, reason: str = "",
                    raised_by: str = InvoiceDispute.RaisedBy.BILLING) -> Invoice:
    """Open a dispute. Allowed on an open or paid invoice until its dispute window ends; a disputed
    invoice keeps its CDRs (retention reads the status) until the dispute is resolved. Each dispute is kept as an
    InvoiceDispute (with the customer's `reason`, traffic.services.invoice_disputes), beside the earlier ones."""
    invoice = _locked(invoice)
    if invoice.status not in (Invoice.Status.OPEN, Invoice.Status.PAID):
        raise ApplicationError(INVOICE_NOT_DISPUTABLE, {"field": "status"})
    if (today or localdate(now())) > invoice.dispute_window_ends:  # the window's days are Amsterdam's
        raise ApplicationError(INVOICE_WINDOW_PASSED, {"field": "status"})
    invoice.status, invoice.disputed_at, invoice.settled_at = Invoice.Status.DISPUTED, now(), None
    invoice.dispute_reason = reason  # the latest dispute's; the earlier ones stay in InvoiceDispute
    invoice.save(update_fields=["status", "disputed_at", "settled_at", "dispute_reason"])
    InvoiceDispute.objects.create(invoice=invoice, raised_at=invoice.disputed_at, raised_by=raised_by, reason=reason)
    audit_record(actor=actor, action="invoice.dispute", purpose=Purpose.DISPUTE, target_type="invoice",
                 target_id=invoice.pk)
    return invoice


@transaction.atomic
def invoice_resolve_dispute(*, invoice: Invoice, actor: Any, resolution: str) -> Invoice:
    """'rejected': the invoice stands (back to paid if it had been paid, else open);
    'upheld': the invoice is voided (a corrected one is made with `invoice_reissue`).

    Either way the customer may still take the decision further (Geschillencommissie, court), so the
    invoice's calls stay at least until the appeal period after the decision ends, even past the dispute
    window. An upheld dispute's calls are kept for the corrected invoice (`invoice_reissue`) for as long:
    until its appeal period ends, the last day it can be made (billing is reminded before, by
    `invoice_reissues_remind`); after that they go, as any settled invoice's (GDPR art. 5(1)(e)), and the
    month is not billed again."""
    invoice = _locked(invoice)
    if invoice.status != Invoice.Status.DISPUTED:
        raise ApplicationError(INVOICE_NOT_DISPUTED, {"field": "status"})
    invoice.dispute_resolved_at = now()
    if resolution == "rejected":
        invoice.status = Invoice.Status.PAID if invoice.paid_at else Invoice.Status.OPEN
        kept_until = invoice.calls_kept_until or invoice.dispute_window_ends
        invoice.calls_kept_until = max(kept_until, _appeal_ends(invoice))
    elif resolution == "upheld":
        invoice.status, invoice.calls_kept_until = Invoice.Status.VOID, reissue_ends(invoice)
    else:
        raise ApplicationError(RESOLUTION_INVALID, {"field": "resolution"})
    settled = invoice.status in (Invoice.Status.PAID, Invoice.Status.VOID)
    invoice.settled_at = invoice.dispute_resolved_at if settled else None
    invoice.save(update_fields=["status", "settled_at", "dispute_resolved_at", "calls_kept_until"])
    _dispute_decided(invoice, outcome=resolution)
    audit_record(actor=actor, action="invoice.dispute_resolved", purpose=Purpose.DISPUTE, target_type="invoice",
                 target_id=invoice.pk, extra={"resolution": resolution})
    return invoice


def _dispute_decided(invoice: Invoice, *, outcome: str) -> None:
    """The invoice's undecided dispute, decided: it stays beside the earlier ones with its outcome."""
    InvoiceDispute.objects.filter(invoice=invoice, resolved_at__isnull=True).update(
        resolved_at=invoice.dispute_resolved_at, outcome=outcome)


@transaction.atomic
def invoice_void(*, invoice: Invoice, actor: Any) -> Invoice:
    invoice = _locked(invoice)
    if invoice.status not in (Invoice.Status.OPEN, Invoice.Status.DISPUTED):
        raise ApplicationError(INVOICE_NOT_VOIDABLE, {"field": "status"})
    if invoice.status == Invoice.Status.DISPUTED:  # voiding decides the dispute for the customer: as upheld
        invoice.dispute_resolved_at = now()
        invoice.calls_kept_until = reissue_ends(invoice)
        _dispute_decided(invoice, outcome=InvoiceDispute.Outcome.UPHELD)
    invoice.status, invoice.settled_at = Invoice.Status.VOID, now()
    invoice.save(update_fields=["status", "settled_at", "dispute_resolved_at", "calls_kept_until"])
    audit_record(actor=actor, action="invoice.void", purpose=Purpose.BILLING, target_type="invoice",
                 target_id=invoice.pk)
    return invoice


@transaction.atomic
def invoice_reissue(*, invoice: Invoice, actor: Any) -> Invoice:
    """Replace a void invoice by a corrected one for the same month, made from the void invoice's calls
    at their current rating and price (fix tariffs or prices first; re-rating is not done here), with a
    fresh due date and dispute window. The void invoice keeps its number, lines and total.

    Its calls leave it: the billable ones move to the new invoice in one UPDATE (no other unbilled or
    late call of the account joins them: the next run bills those), and so do its calls a month drop kept
    in the hold table while it was open or disputed; the rest, now unrated or free, are released (invoice
    NULL) to the hourly re-rating and the next run (copies: to the purge, their month being gone). Restricted calls (GDPR art. 18)
    are neither billed nor released: they stay on the void invoice, kept as long as it protects them.

    Retention: a void invoice whose dispute was upheld (or that was voided while disputed) keeps its calls
    until the dispute's appeal period ends, or its window if later; one voided while open keeps them until
    its dispute window ends (retention.purge). After that they are gone and this refuses. What stays on the
    void invoice (restricted calls) is kept as long; the moved calls follow the corrected invoice.
    The void invoice is locked first, so two reissues of it queue and the second is refused."""
    invoice = _locked(invoice)
    if invoice.status != Invoice.Status.VOID:
        raise ApplicationError(INVOICE_NOT_VOID, {"field": "status"})
    if Invoice.objects.filter(replaces=invoice).exists():
        raise ApplicationError(INVOICE_ALREADY_REPLACED, {"field": "replaced_by"})
    new = _invoice_make(account_id=invoice.account_id, month=invoice.period, actor=actor, replaces=invoice)
    if new is None:
        raise ApplicationError(INVOICE_NOTHING_TO_REISSUE, {"field": "calls"})
    released = Cdr.objects.filter(invoice_id=invoice.pk, restricted_at__isnull=True).update(invoice=None)
    copies = kept_copies()
    if copies is not None:  # kept copies it cannot bill leave it too; the purge then ends them (their month is gone)
        released += copies.model.objects.filter(invoice_id=invoice.pk, restricted_at__isnull=True).update(invoice_id=None)
    audit_record(actor=actor, action="invoice.reissue", purpose=Purpose.BILLING, target_type="invoice",
                 target_id=invoice.pk, extra={"replaced_by": new.pk, "released": released})
    return new


def previous_month(today: date | None = None) -> date:
    return add_months(month_start(today or localdate(now())), -1)
