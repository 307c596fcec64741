"""Calendar days in Amsterdam (TIME_ZONE), the days a person reads on a page and the days a rule counts (a
deadline, a window, a hold's end, a tariff's first day). Moments are stored in UTC; a day entered on a page becomes
the moment it starts here, and a moment becomes its day with `django.utils.timezone.localdate`, so that every app
reckons days the same way. An invoice's month is Amsterdam's too (`month_bounds`); the CDR partitions and the
month keys count calendar months in UTC (voipxs.months, traffic.partitions)."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

from django import forms
from django.utils.timezone import get_default_timezone

from .months import add_months


def day_start(day: date) -> datetime:
    """The first moment of `day` in Amsterdam, in UTC (23:00 or 22:00 UTC the day before). A day that starts
    before year 1 in UTC (0001-01-01) raises OverflowError, which a form turns into its field's error."""
    return datetime.combine(day, time.min, tzinfo=get_default_timezone()).astimezone(timezone.utc)


def day_end(day: date) -> datetime:
    """The end of `day` in Amsterdam, exclusive: the first moment of the next day (23 or 25 hours later on the
    days the clocks change)."""
    return day_start(day + timedelta(days=1))


def month_bounds(month: date) -> tuple[datetime, datetime]:
    """[first moment, first moment of the next) of the calendar month `month` (any day of it) in Amsterdam, in UTC:
    the month an invoice bills and a customer reads (a call at 00:30 on 1 February there, 23:30 UTC on 31 January,
    is February's). Not a partition's month (traffic.partitions.month_bounds, UTC): this one starts an hour or two
    before it, in the previous partition."""
    first = month.replace(day=1)
    return day_start(first), day_start(add_months(first, 1))


class DayField(forms.DateField):
    """A day in Amsterdam, read from its start to its end in UTC (a filter's `since`/`until`, a window's edges). A day
    at the calendar's edge has no such moments Python can hold (1 January of year 1 starts in year 0 in UTC, 31
    December 9999 ends in year 10000): it is refused as not a valid date ("Enter a valid date."), at its field,
    instead of failing the page."""

    def to_python(self, value):
        day = super().to_python(value)
        if day is not None:
            try:
                day_start(day)
                day_end(day)
            except OverflowError:
                raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None
        return day
