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


@register.simple_tag
def call_rows(rows, show_own: bool = True, names=None, show_user: bool = False) -> SafeString:
    """`names` (user id -> name) and `show_user`: a contractor's page, with a User column after the date."""
    directions, dispositions, months = _labels()
    esc = conditional_escape
    zone = timezone.get_current_timezone()
    out = []
    for call in rows:
        local = call.started_at.astimezone(zone)
        cells = [
            f'<td class="number">{local.day} {months[local.month]} {local.year} {local:%H:%M:%S}</td>',
        ]
        if show_user:
            cells.append(f"<td>{esc((names or {}).get(call.account_id, ''))}</td>")
        cells.append(f"<td>{directions.get(call.direction) or esc(call.direction)}</td>")
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
    if not out:
        colspan = (9 if show_own else 8) + (1 if show_user else 0)
        out.append(f'<tr><td colspan="{colspan}">{esc(gettext("No calls match."))}</td></tr>')
    # Reviewed: every value above went through esc() (conditional_escape) or is a number we formatted.
    return mark_safe("\n".join(out))  # nosec B308 B703
