"""Form fields every app's pages share: input that cannot be held is refused at its field (a 400 naming it), never
left to fail deeper down as a server error."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone as dt_timezone

from django import forms
from django.utils import timezone


def day_start(day: date) -> datetime:
    """A date entered on a page is a day in Amsterdam; stored as the UTC moment it starts."""
    return timezone.make_aware(datetime.combine(day, time.min)).astimezone(dt_timezone.utc)


class DayField(forms.DateField):
    """A day in Amsterdam, read from its start to its end in UTC (a filter's `since`/`until`, a window's edges). A day
    at the calendar's edge has no such moments Python can hold (1 January of year 1 starts in year 0 in UTC, 31
    December 9999 ends in year 10000): it is refused as not a valid date ("Enter a valid date."), at its field."""

    def to_python(self, value):
        day = super().to_python(value)
        if day is not None:
            try:
                day_start(day)
                day_start(day + timedelta(days=1))
            except OverflowError:
                raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None
        return day
