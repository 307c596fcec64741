"""The clocks of data-subject requests and breaches: GDPR art. 12(3)'s calendar months and the reminder stages."""
from __future__ import annotations

import calendar
from datetime import timedelta

from django.db import models
from django.utils.timezone import is_aware, localtime
from django.utils.translation import gettext_lazy as _

# GDPR art. 12(3): one month, extendable once by two further months (calendar months: a request of
# 31 January is due on the last day of February, as Reg. 1182/71 on periods counts them). Counted on the
# Amsterdam calendar: a request stored at 23:30 UTC on 28 February came on 1 March, and is due on 1 April.
DEADLINE_MONTHS = 1
EXTENSION_MONTHS = 2


def add_months(moment, months: int):
    local = localtime(moment) if is_aware(moment) else moment  # returned in the zone it came in
    month_index = local.month - 1 + months
    year, month = local.year + month_index // 12, month_index % 12 + 1
    moved = local.replace(year=year, month=month, day=min(local.day, calendar.monthrange(year, month)[1]))
    return moved.astimezone(moment.tzinfo) if is_aware(moment) else moved


class ReminderStage(models.TextChoices):
    """The last deadline reminder the DPO was e-mailed about a request or a breach clock (once per stage)."""

    NONE = "", _("None")
    DUE_SOON = "due_soon", _("Due soon")
    OVERDUE = "overdue", _("Overdue")


def reminder_stage_at(deadline, moment, warning: timedelta) -> str:
    if deadline <= moment:
        return ReminderStage.OVERDUE
    return ReminderStage.DUE_SOON if deadline <= moment + warning else ReminderStage.NONE
