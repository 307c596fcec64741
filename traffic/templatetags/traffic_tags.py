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


def _call_button_template() -> str:
    label, confirm = esc_text(gettext("Call")), esc_text(gettext("Call %s? Your own phone rings first."))
    return ('<button type="button" class="link call-button" data-call-number="{number}" '
            f'data-confirm="{confirm}" aria-label="{label} {{number}}">{label}</button>')


def esc_text(text: str) -> str:
    return str(conditional_escape(text))


def _call_button(template_html: str | None, number: str | None) -> str:
    """A Call button beside a full number (not beside a masked or withheld one)."""
    if not template_html or not number or not number.startswith("+") or not number[1:].isdigit():
        return ""
    return " " + template_html.format(number=number)


def _leg_rows(call, show_own: bool, show_user: bool, dispositions: dict, zone) -> list[str]:
    """The legs of a call of several (a ring group, a Local-channel fork), under the call's row."""
    esc = conditional_escape
    rows = []
    for number, leg in enumerate(call.legs, 1):
        label = esc(gettext("leg %(number)d of %(count)d") % {"number": number, "count": len(call.legs)})
        local = leg.started_at.astimezone(zone)
        cells = [f'<td class="leg-label">{label}</td>', *(["<td></td>"] if show_user else []),
                 f'<td class="number">{local:%H:%M:%S}</td>']
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
def call_rows(rows, show_own: bool = True, names=None, show_user: bool = False, call_buttons: bool = False) -> SafeString:
    """`names` (user id -> name) and `show_user`: a contractor's page, with a User column after the date.
    `call_buttons`: a Call button beside each full number (the user's own pages; static/js/call-button.js)."""
    directions, dispositions, months = _labels()
    esc = conditional_escape
    button = _call_button_template() if call_buttons else None
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
            f'<td class="number">{esc(call.other_number)}{_call_button(button, call.other_number)}</td>',
            f"<td>{esc(call.caller_name)}</td>",
            f"<td>{dispositions.get(call.disposition) or esc(call.disposition)}</td>",
            f'<td class="num">{call.billsec}</td>',
            f"<td>{esc(call.zone)}</td>",
            f'<td class="num">{"" if call.price is None else f"{call.price:.4f}"}</td>',
        ]
        out.append("<tr>" + "".join(cells) + "</tr>")
        if len(call.legs) > 1:
            out.extend(_leg_rows(call, show_own, show_user, dispositions, zone))
    if not out:
        colspan = (9 if show_own else 8) + (1 if show_user else 0)
        out.append(f'<tr><td colspan="{colspan}">{esc(gettext("No calls match."))}</td></tr>')
    # Reviewed: every value above went through esc() (conditional_escape) or is a number we formatted.
    return mark_safe("\n".join(out))  # nosec B308 B703
