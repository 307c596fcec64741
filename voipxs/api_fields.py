"""Serializer fields every app's API shares: input that cannot be held is refused at its field (400 naming it, in
DRF's own words), never left to fail deeper down (a service's arithmetic, a page that shows it later) as a 500."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone as dt_timezone

from rest_framework import serializers

# A day's margin from the ends of Python's calendar: a stored time is shown in Amsterdam (up to two hours off UTC),
# as its last moment (a microsecond before an end) and as its day; none of that may leave the calendar.
EARLIEST = datetime.min.replace(tzinfo=dt_timezone.utc) + timedelta(days=1)
LATEST = datetime.max.replace(tzinfo=dt_timezone.utc) - timedelta(days=1)


class DateTimeInput(serializers.DateTimeField):
    """DRF's field, but a time within a day of the calendar's ends (before 0001-01-02 or after 9999-12-30 in UTC),
    including one without a zone that would start before year 1 in UTC, is refused as out of range ("Datetime value
    out of range.") instead of being stored to fail every page that shows it, or failing the request itself."""

    def enforce_timezone(self, value):
        try:
            value = super().enforce_timezone(value)
        except OverflowError:
            self.fail("overflow")
        if value.tzinfo is not None and not EARLIEST <= value <= LATEST:
            self.fail("overflow")
        return value


# The largest id a database key holds (bigint). Past it, PostgreSQL's lookups find nothing, but SQLite's driver
# cannot even send the number (OverflowError: a 500).
ID_MAX = 2 ** 63 - 1


class IdInput(serializers.IntegerField):
    """An id sent to look something up (an account, a target, an authority): 1 to ID_MAX, else refused at its field
    in DRF's own words ("Ensure this value is less than or equal to ...")."""

    def __init__(self, **kwargs) -> None:
        super().__init__(min_value=1, max_value=ID_MAX, **kwargs)
