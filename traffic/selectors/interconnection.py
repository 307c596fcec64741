"""The interconnection report: answered calls per source switch (and its carrier or trunk) in one
month, aggregates only, read under the purpose INTERCONNECTION (audited by `require_purpose`).

INTERCONNECTION rests partly on legitimate interests (GDPR art. 6(1)(b)/(f)): the calls of an account whose objection
to it was upheld (art. 21(1)) are not counted (scope.py `objection_q`); a rejected or pending objection changes
nothing.

Its month is Amsterdam's (voipxs.timeutil.month_bounds), the month the invoices bill: a call at 00:30 on 1 February
there (23:30 UTC on 31 January) is February's. Decision: Dutch carriers' monthly interconnection statements are
cut in local time as a rule, and a report that reconciles with the revenue invoiced must use the invoices' months;
a carrier that states in UTC differs by the first hour or two of each month (one or two hours of traffic at night,
the quietest), which staff reconcile by hand. No carrier's statement convention is recorded in this project: if
one does cut in UTC, the report would need a per-carrier month, not this one."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Sum
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_noop

from voipxs.exceptions import ApplicationError
from voipxs.money import to_cent
from voipxs.privacy.purposes import Purpose, require_purpose
from voipxs.timeutil import month_bounds

from ..models import Cdr, Source
from ..partitions import month_start
from ..rating import BILLED_PRICE, BILLED_SECONDS
from .scope import objection_q

MONTH_INVALID = gettext_noop("Give the month as YYYY-MM.")


@dataclass(frozen=True, slots=True)
class InterconnectionRow:
    source: str
    carrier: str
    calls: int
    seconds: int
    amount: Decimal


def parse_month(value: str | date | None, *, field: str = "month") -> date:
    """"YYYY-MM" (or a date) as the first day of that month; ApplicationError on `field` otherwise."""
    if isinstance(value, date):
        return month_start(value)
    try:
        year_text, month_text = (value or "").strip().split("-")
        if len(year_text) != 4 or len(month_text) != 2:
            raise ValueError
        return date(int(year_text), int(month_text), 1)
    except ValueError:
        raise ApplicationError(MONTH_INVALID, {"field": field}) from None


def interconnection_report(*, actor: Any, purpose: Purpose | str = Purpose.INTERCONNECTION,
                           month: date) -> list[InterconnectionRow]:
    """Answered calls per source switch (and its carrier/trunk) in one month (Amsterdam's): aggregates only."""
    purpose = require_purpose(actor=actor, purpose=purpose, action="interconnection.report",
                              target_type="month", target_id=month.isoformat())
    if purpose != Purpose.INTERCONNECTION:
        raise PermissionDenied("The interconnection report is made for the purpose interconnection.")
    start, stop = month_bounds(month)  # Amsterdam's month, as the invoices' (see the module's docstring)
    totals = (
        Cdr.objects.filter(objection_q(purpose), started_at__gte=start, started_at__lt=stop,
                           restricted_at__isnull=True, disposition=Cdr.Disposition.ANSWERED)
        .values("source_id")
        .annotate(calls=Count("id"), seconds=Coalesce(Sum(BILLED_SECONDS), 0), amount=Sum(BILLED_PRICE))
        .order_by("source_id")
    )
    sources = {s.pk: s for s in Source.objects.all()}
    rows = []
    for row in totals:
        source = sources.get(row["source_id"])
        rows.append(InterconnectionRow(
            source=source.name if source else str(row["source_id"]),
            carrier=source.carrier if source else "",
            calls=row["calls"], seconds=int(row["seconds"]),
            amount=to_cent(row["amount"]),
        ))
    return sorted(rows, key=lambda r: (r.carrier, r.source))
