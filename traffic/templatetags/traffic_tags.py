"""Template helpers of the call pages.

`{% call_rows rows show_own %}` renders the body rows of a call table in Python: it is the hottest
loop of the portal (50 rows x 9 cells per page), and the template language's per-variable lookups
cost more than the page's query and decryption together (bench/portal.py). Every cell still goes
through `conditional_escape`, so untrusted caller-ID text stays text.
"""
from __future__ import annotations

from django import template
from django.utils import timezone
from django.utils.dates import MONTHS_3
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

from ..models import Cdr

register = template.Library()




def _labels() -> tuple[dict[str, str], dict[str, str], dict[int, str]]:
    # Per call, in the active language; a handful of gettext lookups, not one per row.
    directions = {value: conditional_escape(str(label)) for value, label in Cdr.Direction.choices}
    dispositions = {value: conditional_escape(str(label)) for value, label in Cdr.Disposition.choices}
    months = {number: str(name).capitalize() for number, name in MONTHS_3.items()}
    return directions, dispositions, months


def _leg_rows(call, show_own: bool, dispositions: dict, zone) -> list[str]:
    """The legs of a call of several (a ring group, a Local-channel fork), under the call's row."""
    esc = conditional_escape
    rows = []
    for number, leg in enumerate(call.legs, 1):
        label = esc(gettext("leg %(number)d of %(count)d") % {"number": number, "count": len(call.legs)})
        local = leg.started_at.astimezone(zone)
        cells = [f'<td class="leg-label">{label}</td>', f'<td class="number">{local:%H:%M:%S}</td>']
        if show_own:
            cells.append(f'<td class="number">{esc(leg.own_number)}</td>')
        cells += [
            f'<td class="number">{esc(leg.other_number)}</td>', "<td></td>",
            f"<td>{dispositions.get(leg.disposition) or esc(leg.disposition)}</td>",
            f'<td class="num">{leg.billsec}</td>', f"<td>{esc(leg.zone)}</td>",
            f'<td class="num">{"" if leg.price is None else f"{leg.price:.4f}"}</td>',
        ]
        rows.append('<tr class="leg">' + "".join(cells) + "</tr>")
    return rows


@register.simple_tag
def call_rows(rows, show_own: bool = True) -> SafeString:
    directions, dispositions, months = _labels()
    esc = conditional_escape
    zone = timezone.get_current_timezone()
    out = []
    for call in rows:
        local = call.started_at.astimezone(zone)
        cells = [
            f'<td class="number">{local.day} {months[local.month]} {local.year} {local:%H:%M:%S}</td>',
            f"<td>{directions.get(call.direction) or esc(call.direction)}</td>",
        ]
        if show_own:
            cells.append(f'<td class="number">{esc(call.own_number)}</td>')
        cells += [
            f'<td class="number">{esc(call.other_number)}</td>',
            f"<td>{esc(call.caller_name)}</td>",
            f"<td>{dispositions.get(call.disposition) or esc(call.disposition)}</td>",
            f'<td class="num">{call.billsec}</td>',
            f"<td>{esc(call.zone)}</td>",
            f'<td class="num">{"" if call.price is None else f"{call.price:.4f}"}</td>',
        ]
        out.append("<tr>" + "".join(cells) + "</tr>")
        if len(call.legs) > 1:
            out.extend(_leg_rows(call, show_own, dispositions, zone))
    if not out:
        colspan = 9 if show_own else 8
        out.append(f'<tr><td colspan="{colspan}">{esc(gettext("No calls match."))}</td></tr>')
    # Reviewed: every value above went through esc() (conditional_escape) or is a number we formatted.
    return mark_safe("\n".join(out))  # nosec B308 B703
