"""Calendar months as dates (the 1st), below every app. `month_start` of a moment is its UTC month, the unit of the
CDR partitions and month keys (traffic.partitions); an invoice's month and a billing period are Amsterdam's: take
`month_start(localdate(moment))`, and voipxs.timeutil.month_bounds for their moments."""
from __future__ import annotations

from datetime import date, datetime, timezone


def month_start(moment: datetime | date) -> date:
    """The first day of the month `moment` falls in: in UTC for a datetime (a partition's month), as is for a date."""
    if isinstance(moment, datetime):
        moment = moment.astimezone(timezone.utc)
    return date(moment.year, moment.month, 1)


def add_months(month: date, n: int) -> date:
    index = month.year * 12 + (month.month - 1) + n
    return date(index // 12, index % 12 + 1, 1)
