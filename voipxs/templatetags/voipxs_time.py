"""`{{ hours|duration_words }}`: a span of hours as people say it ("2 days 5 hours", "40 minutes"),
in the active language. Pages show deadlines with it instead of a raw number of hours."""
from __future__ import annotations

from datetime import datetime

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
