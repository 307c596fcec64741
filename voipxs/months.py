"""Calendar months in UTC, the unit of the CDR partitions (traffic.partitions), of invoices and of billing periods
(accounts.selectors.billing_period): here, below every app, so that each reckons months the same way."""
from __future__ import annotations

from datetime import date, datetime, timezone


def month_start(moment: datetime | date) -> date:
    """The first day (UTC) of the month `moment` falls in."""
    if isinstance(moment, datetime):
        moment = moment.astimezone(timezone.utc)
    return date(moment.year, moment.month, 1)


def add_months(month: date, n: int) -> date:
    index = month.year * 12 + (month.month - 1) + n
    return date(index // 12, index % 12 + 1, 1)
