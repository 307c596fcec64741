"""The calls an invoice bills and its lines: the rated, unrestricted calls of an account's billing range no invoice
has billed (or, for a reissue, exactly those of the void invoice, live or kept by retention in the hold table),
summed per month of the call and zone. Used by the invoice run and the reissue (traffic.services.invoices).

Months here are Amsterdam's (voipxs.timeutil.month_bounds), as the customer's call list and usage page date a call:
a call at 00:30 on 1 February there (23:30 UTC on 31 January) is February's, on February's invoice and line, although
it is stored in January's UTC partition. The billing range therefore spans parts of two partitions at each end,
which PostgreSQL still prunes to."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from django.db.models import Count, Sum
from django.db.models.functions import Coalesce, TruncMonth
from django.utils.timezone import get_default_timezone

from voipxs.timeutil import month_bounds

from ..models import Cdr
from ..partitions import add_months
from ..rating import BILLED_PRICE, BILLED_SECONDS
from ..selectors.cdr_reader import kept_copies

# A call rated after its month was invoiced (its tariff came later: traffic.services.rating.cdr_rate_pending
# runs hourly) goes on the next invoice, as a line of its own month, for as long as unbilled calls are
# kept (3 months): never lost, never billed twice (each call is tied to the invoice that billed it).
LATE_MONTHS = 3



def _billing_range(month: date) -> tuple[datetime, datetime]:
    """[Amsterdam's first moment of the LATE_MONTHS months before `month`, Amsterdam's end of `month`), in UTC."""
    start, stop = month_bounds(month)
    return month_bounds(add_months(month, -LATE_MONTHS))[0], stop


def _billable(*, account_id: int, month: date, billed_on: int | None = None):
    """Rated, unrestricted calls of the month's billing range that no invoice has billed, or (a
    reissue) exactly those billed on the void invoice `billed_on`. The time range stays in both cases:
    it lets PostgreSQL read only the partitions of those months."""
    start, stop = _billing_range(month)
    return Cdr.objects.filter(
        account_id=account_id, started_at__gte=start, started_at__lt=stop,
        rating=Cdr.Rating.RATED, restricted_at__isnull=True,
        **({"invoice_id": billed_on} if billed_on is not None else {"invoice__isnull": True}),
    )


def _kept_billable(billed_on: int | None):
    """A reissue's calls that a month drop moved to the hold table while their invoice was open or disputed
    (retention.purge keeps them there, tied to it): rated and unrestricted as `_billable`'s. None for an
    invoice run (an unbilled call's copy is never billed: its month is past the unbilled calls' 3 months),
    and where months are never dropped."""
    copies = kept_copies() if billed_on is not None else None
    if copies is None:
        return None
    return copies.model.objects.filter(invoice_id=billed_on, rating=Cdr.Rating.RATED, restricted_at__isnull=True)


def _invoice_lines(*, account_id: int, month: date, billed_on: int | None) -> list[dict]:
    """Calls, seconds and amount per month of the call (Amsterdam's) and zone, live CDRs and kept copies together."""
    merged: dict[tuple, dict] = {}
    for calls in (_billable(account_id=account_id, month=month, billed_on=billed_on), _kept_billable(billed_on)):
        if calls is None:
            continue
        for line in (calls.annotate(call_month=TruncMonth("started_at", tzinfo=get_default_timezone()))
                     .values("call_month", "zone")
                     .annotate(calls=Count("id"), seconds=Coalesce(Sum(BILLED_SECONDS), 0),
                               amount=Sum(BILLED_PRICE))
                     .order_by()):
            into = merged.setdefault((line["call_month"], line["zone"]),
                                     {**line, "calls": 0, "seconds": 0, "amount": None})
            into["calls"] += line["calls"]
            into["seconds"] += line["seconds"]
            if line["amount"] is not None:
                into["amount"] = (into["amount"] or Decimal("0")) + line["amount"]
    return [merged[key] for key in sorted(merged, key=lambda k: (k[0], k[1] or ""))]
