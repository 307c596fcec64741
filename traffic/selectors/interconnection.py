"""The interconnection report: answered calls per source switch (and its carrier or trunk) in one
month, aggregates only, read under the purpose INTERCONNECTION (audited by `require_purpose`).

INTERCONNECTION rests partly on legitimate interests (GDPR art. 6(1)(b)/(f)): the calls of an account whose objection
to it was upheld (art. 21(1)) are not counted (scope.py `objection_q`); a rejected or pending objection changes
nothing.

Its month is Amsterdam's (voipxs.timeutil.month_bounds), the month the invoices bill: a call at 00:30 on 1 February
there (23:30 UTC on 31 January) is February's. Decision: Dutch carriers' monthly interconnection statements are
cut in local time as a rule, and a report that reconciles with the revenue invoiced must use the invoices' months;
a carrier that states in UTC differs by the first hour or two of each month (one or two hours of traffic at night,
the quietest). Most carriers' statements are cut in UTC, though, so staff may choose the report's month in UTC
instead (`MonthZone`, on the page, in the CSV's file name and in the API's `month_tz`): the month the partitions
are cut in (traffic.partitions.month_bounds), 00:00 UTC on the first to 00:00 UTC on the next first. The choice is
recorded in the audit entry's extra (a word, nothing personal)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Sum
from django.db.models.functions import Coalesce
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from voipxs.exceptions import ApplicationError
from voipxs.money import to_cent
from voipxs.privacy.purposes import Purpose, require_purpose
from voipxs.timeutil import month_bounds

from ..models import Cdr, Source
from ..partitions import month_bounds as utc_month_bounds
from ..partitions import month_start
from ..rating import BILLED_PRICE, BILLED_SECONDS
from .scope import objection_q

MONTH_INVALID = gettext_noop("Give the month as YYYY-MM.")
MONTH_TZ_INVALID = gettext_noop("Choose Amsterdam or UTC as the month's time zone.")


class MonthZone(models.TextChoices):
    """The time zone the report's month is cut in: Amsterdam's as the invoices (the default), or UTC as most
    carriers' statements."""

    AMSTERDAM = "amsterdam", _("Amsterdam (as invoiced)")
    UTC = "utc", _("UTC (as most carriers' statements)")


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


def parse_month_zone(value: str | None, *, field: str = "month_tz") -> MonthZone:
    """A `MonthZone` value ("amsterdam", the default when empty, or "utc"); ApplicationError on `field` otherwise."""
    try:
        return MonthZone((value or MonthZone.AMSTERDAM).strip())
    except ValueError:
        raise ApplicationError(MONTH_TZ_INVALID, {"field": field}) from None


def interconnection_report(*, actor: Any, purpose: Purpose | str = Purpose.INTERCONNECTION, month: date,
                           month_tz: MonthZone | str = MonthZone.AMSTERDAM) -> list[InterconnectionRow]:
    """Answered calls per source switch (and its carrier/trunk) in one month, cut in Amsterdam's time (the
    invoices') or in UTC (`month_tz`): aggregates only."""
    zone = parse_month_zone(month_tz)  # refused before the read is recorded
    purpose = require_purpose(actor=actor, purpose=purpose, action="interconnection.report",
                              target_type="month", target_id=month.isoformat(), extra={"month_tz": zone.value})
    if purpose != Purpose.INTERCONNECTION:
        raise PermissionDenied("The interconnection report is made for the purpose interconnection.")
    # Amsterdam's month as the invoices', or UTC's as a carrier's statement (see the module's docstring)
    start, stop = (month_bounds if zone == MonthZone.AMSTERDAM else utc_month_bounds)(month)
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
