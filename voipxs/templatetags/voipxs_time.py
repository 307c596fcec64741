"""`{{ hours|duration_words }}`: a span of hours as people say it ("2 days 5 hours", "40 minutes"),
in the active language. Pages show deadlines with it instead of a raw number of hours.
`{{ end|last_moment }}`: the last moment before an exclusive end, so that a period ending at midnight is shown
ending on its last day ("1 – 31 March", not "1 March – 1 April")."""
from __future__ import annotations

from datetime import datetime, timedelta

from django import template
from django.utils.timezone import now
from django.utils.translation import ngettext

register = template.Library()


def duration_words(hours: float | int | datetime | None) -> str:
    """The two largest units of |hours|, or of the time between now and a moment (the sign is the
    caller's: "overdue by …", "… left")."""
    if hours is None:
        return ""
    if isinstance(hours, datetime):
        hours = (hours - now()).total_seconds() / 3600
    minutes = round(abs(float(hours)) * 60)
    days, rest = divmod(minutes, 24 * 60)
    whole_hours, mins = divmod(rest, 60)
    parts = []
    if days >= 365:
        years, days = divmod(days, 365)
        parts.append(ngettext("%(n)d year", "%(n)d years", years) % {"n": years})
    if days:
        parts.append(ngettext("%(n)d day", "%(n)d days", days) % {"n": days})
    if whole_hours and len(parts) < 2:
        parts.append(ngettext("%(n)d hour", "%(n)d hours", whole_hours) % {"n": whole_hours})
    if not parts or (mins and len(parts) < 2 and not days):
        parts.append(ngettext("%(n)d minute", "%(n)d minutes", mins) % {"n": mins})
    return " ".join(parts[:2])


register.filter("duration_words", duration_words)


def last_moment(end: datetime | None) -> datetime | None:
    return None if end is None else end - timedelta(microseconds=1)


register.filter("last_moment", last_moment)
