"""Template helpers of the call pages.

`{% call_rows rows show_own %}` renders the body rows of a call table in Python: it is the hottest
loop of the portal (50 rows x 9 cells per page), and the template language's per-variable lookups
cost more than the page's query and decryption together (bench/portal.py). Every cell still goes
through `conditional_escape`, so untrusted caller-ID text stays text.
"""
from __future__ import annotations

import functools
import html

from django import template
from django.utils import timezone
from django.utils.dates import MONTHS, MONTHS_3
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, gettext

from voipxs.money import money_format

from ..models import Cdr
from ..zone_names import zone_namer

register = template.Library()


def _month_abbr(number: int) -> str:
    # Cased as the language writes month names: "Dec" in English, "dec" in Dutch (Django's date format
    # "M" always capitalises, "b" never does).
    name = str(MONTHS_3[number])
    return name.capitalize() if str(MONTHS[number])[:1].isupper() else name.lower()


def _months() -> dict[int, str]:
    return {number: _month_abbr(number) for number in MONTHS_3}


@functools.lru_cache(maxsize=64)
def _texts(language: str | None, show_own: bool, show_user: bool, call_buttons: bool) -> tuple:
    """The fixed texts of a call table in one language, looked up once per process (and layout): they
    took about 40 gettext calls a page, a tenth of the table's time (bench/portal.py). `language` is
    only the key: the caller's active language is the one gettext uses."""
    directions = {value: conditional_escape(str(label)) for value, label in Cdr.Direction.choices}
    dispositions = {value: conditional_escape(str(label)) for value, label in Cdr.Disposition.choices}
    button = _call_button_template() if call_buttons else None
    return (directions, dispositions, _months(), button, _details_labels(show_own, show_user),
            esc_text(gettext("Details")), money_format(language, 4, html=True))


@register.filter(expects_localtime=True)
def month_abbr(day) -> str:
    """`{{ day|month_abbr }}`: the month's abbreviation cased as the active language writes it (of the
    local date, like the `date` filter, so a call at 00:30 on 1 January in Amsterdam is in January)."""
    return _month_abbr(day.month) if day else ""


@register.filter(expects_localtime=True)
def day_month_time(moment) -> str:
    """`{{ moment|day_month_time }}`: "5 Dec 2026 14:03:11" ("5 dec 2026" in Dutch), as a call's date
    in the call table, with seconds (the click-to-call log)."""
    return f"{moment.day} {_month_abbr(moment.month)} {moment.year} {moment:%H:%M:%S}" if moment else ""


def _call_button_template() -> str:
    label, confirm = esc_text(gettext("Call")), esc_text(gettext("Call %s? Your own phone rings first."))
    return ('<button type="button" class="link call-button" data-call-number="{number}" '
            f'data-confirm="{confirm}" aria-label="{label} {{number}}">{label}</button>')


def _price(price, formatted) -> str:
    """A call's price as money with four decimals ("€ 0,1300" in Dutch, "€0.1300" in English: voipxs/money.py),
    as HTML; `formatted` is the page language's formatter."""
    return "" if price is None else formatted(price)


def _duration(seconds: int) -> str:
    """Billed time as a phone bill writes it, "4:04" (minutes and seconds) or "1:02:05" from an hour on, in a
    <time> that carries the seconds (ISO 8601) for a screen reader or a script."""
    minutes, sec = divmod(seconds, 60)
    shown = f"{minutes}:{sec:02}" if minutes < 60 else f"{minutes // 60}:{minutes % 60:02}:{sec:02}"
    return f'<time datetime="PT{seconds}S">{shown}</time>'


def _esc(value) -> str:
    """`conditional_escape` without its lazy-string wrapper around every call (this is the portal's
    hottest loop): the same text for every value, safe strings kept as they are. A plain str, nearly every
    value, is escaped without looking for an `__html__` it cannot have."""
    if value.__class__ is str:
        return html.escape(value)
    html_method = getattr(value, "__html__", None)
    return html_method() if html_method is not None else html.escape(str(value))


def esc_text(text: str) -> str:
    return str(conditional_escape(text))


def _call_button(template_html: str | None, number: str | None) -> str:
    """A Call button beside a full number (not beside a masked or withheld one)."""
    if not template_html or not number or not number.startswith("+") or not number[1:].isdigit():
        return ""
    return " " + template_html.format(number=number)


def _leg_rows(call, show_own: bool, show_user: bool, dispositions: dict, zone, price_format,
              zone_name_of) -> list[str]:
    """The legs of a call of several (a ring group, a Local-channel fork), under the call's row."""
    esc = _esc
    rows = []
    for number, leg in enumerate(call.legs, 1):
        label = esc(gettext("leg %(number)d of %(count)d") % {"number": number, "count": len(call.legs)})
        local = leg.started_at.astimezone(zone)
        cells = [f'<td class="leg-label c-date">{label} <span class="number">{local:%H:%M:%S}</span></td>',
                 *(['<td class="c-user"></td>'] if show_user else []), '<td class="c-dir"></td>']
        if show_own:
            cells.append(f'<td class="number c-own">{esc(leg.own_number)}</td>')
        cells += [
            f'<td class="number c-other">{esc(leg.other_number)}</td>', '<td class="c-name"></td>',
            f'<td class="c-result">{dispositions.get(leg.disposition) or esc(leg.disposition)}</td>',
            f'<td class="num c-dur">{_duration(leg.billsec)}</td>', f'<td class="c-zone">{esc(zone_name_of(leg.zone))}</td>',
            f'<td class="num c-price">{_price(leg.price, price_format)}</td>', '<td class="c-more"></td>',
        ]
        rows.append('<tr class="leg">' + "".join(cells) + "</tr>")
    return rows


def _note_rows(call, colspan: int, zone, months: dict) -> list[str]:
    """A row under the call for each note on it (GDPR art. 16): what its owner stated, marked as a note, never
    mixed into the call's own cells, which stay as the switch recorded them."""
    label, rows = esc_text(gettext("Note")), []
    for note in call.notes:
        text = _esc(note.text) if note.text is not None else esc_text(gettext("This note can no longer be read."))
        local = note.created_at.astimezone(zone)
        added = _esc(gettext("added on %(date)s") % {"date": f"{local.day} {months[local.month]} {local.year}"})
        rows.append(f'<tr class="note"><td class="c-note" colspan="{colspan}"><strong class="badge warn">{label}'
                    f'</strong> <span class="note-text">{text}</span> <span class="muted">({added})</span></td></tr>')
    return rows


def _details_labels(show_own: bool, show_user: bool) -> list[str]:
    """The <dt> of the phone's "Details" disclosure: what the narrow layout hides from the row (not the direction,
    which a phone's card shows on its face: static/css/site.css)."""
    labels = [gettext("User")] if show_user else []
    if show_own:
        labels.append(gettext("Own number"))
    labels += [gettext("Caller name"), gettext("Result"), gettext("Zone")]
    return [f"<dt>{esc_text(label)}</dt>" for label in labels]


def _braced(text: str) -> str:
    """`text` inside a str.format template, as itself."""
    return text.replace("{", "{{").replace("}", "}}")


@register.simple_tag
def call_rows(rows, show_own: bool = True, names=None, show_user: bool = False, call_buttons: bool = False,
              empty=None) -> SafeString:
    """`names` (user id -> name) and `show_user`: a contractor's page, with a User column after the date.
    `empty`: what a table without rows says instead of "No calls match." (a history that nothing filtered).
    `call_buttons`: a Call button beside each full number (the user's own pages; static/js/call-button.js).
    Every cell carries a `c-*` class: the phone layout in site.css turns each row into a short card."""
    directions, dispositions, months, button, dts, summary, price_format = _texts(
        get_language(), show_own, show_user, call_buttons)
    rows = list(rows)
    esc, price_of, button_of = _esc, _price, _call_button
    zone_name_of = zone_namer({call.zone for call in rows} | {leg.zone for call in rows for leg in call.legs})
    zone = timezone.get_current_timezone()
    # On a phone a row shows date, other party, direction, duration and price; the rest is one tap away, in "Details"
    # (static/css/site.css hides that cell on wider screens and the columns it repeats on phones): its <dt>s
    # and the cells they repeat, as one format per page.
    details = (f'<td class="c-more"><details><summary>{_braced(summary)}</summary><dl>'
               + "".join(f"{_braced(dt)}<dd>{{}}</dd>" for dt in dts) + "</dl></details></td></tr>")
    # A call not answered is marked: a phone's card shows why (no answer, busy) in place of its seconds.
    out, unanswered = [], ' class="unanswered"'
    for call in rows:
        local = call.started_at.astimezone(zone)
        user = esc((names or {}).get(call.account_id, "")) if show_user else None
        direction = directions.get(call.direction) or esc(call.direction)
        own = esc(call.own_number) if show_own else None
        name = esc(call.caller_name)
        result = dispositions.get(call.disposition) or esc(call.disposition)
        zone_name = esc(zone_name_of(call.zone))
        other = call.other_number
        # Date and time may break onto two lines (never inside either), so the price fits at 1280 px.
        row = (f'<tr{"" if call.disposition == "answered" else unanswered}><td class="c-date">'
               f'<span class="number">{local.day} {months[local.month]} {local.year}</span> '
               f'<span class="number">{local.hour:02}:{local.minute:02}:{local.second:02}</span></td>')
        if show_user:
            row += f'<td class="c-user">{user}</td>'
        row += f'<td class="c-dir">{direction}</td>'
        if show_own:
            row += f'<td class="number c-own">{own}</td>'
        out.append(
            f'{row}<td class="c-other"><span class="number">{esc(other)}</span>{button_of(button, other)}</td>'
            f'<td class="c-name">{name}</td><td class="c-result">{result}</td>'
            f'<td class="num c-dur">{_duration(call.billsec)}</td><td class="c-zone">{zone_name}</td>'
            f'<td class="num c-price">{price_of(call.price, price_format)}</td>'
            + details.format(*[v for v in (user, own, name, result, zone_name) if v is not None]))
        if call.notes:
            out.extend(_note_rows(call, (10 if show_own else 9) + (1 if show_user else 0), zone, months))
        if len(call.legs) > 1:
            out.extend(_leg_rows(call, show_own, show_user, dispositions, zone, price_format, zone_name_of))
    if not out:
        colspan = (10 if show_own else 9) + (1 if show_user else 0)
        out.append(f'<tr><td colspan="{colspan}" class="empty">{esc(empty or gettext("No calls match."))}</td></tr>')
    # Reviewed: every value above went through esc() (conditional_escape) or is a number we formatted.
    return mark_safe("\n".join(out))  # nosec B308 B703


# --- the filter form of the call pages --------------------------------------------------------------------
# Written out in Python for the same reason as the rows: the template of these few inputs (a loop over the
# direction's options, each asking the bound field for its value) cost a quarter of a millisecond a page,
# as much as the page's masking query (bench/portal.py). The same markup as a template would give.

def _errors(bound) -> tuple[str, str]:
    """(the input's invalid-state attributes, the error paragraph) of a bound field, both "" if it is valid."""
    if not bound.errors:
        return "", ""
    name = bound.html_name
    text = " ".join(_esc(error) for error in bound.errors)
    return (f' aria-invalid="true" aria-describedby="id_{name}-error"',
            f'\n    <p class="error" id="id_{name}-error" role="alert">{text}</p>')


def _value(bound) -> str:
    value = bound.value()
    return "" if value is None else _esc(value)


def _input(bound, kind: str, extra: str = "") -> str:
    invalid, error = _errors(bound)
    name = bound.html_name
    return (f'  <div class="field">\n    <label for="id_{name}">{_esc(bound.label)}</label>\n'
            f'    <input type="{kind}" name="{name}" id="id_{name}"{extra} value="{_value(bound)}"{invalid}>{error}\n'
            "  </div>\n")


def _select(bound) -> str:
    _invalid, error = _errors(bound)
    name, chosen = bound.html_name, bound.value()
    options = "".join(f'<option value="{_esc(value)}"{" selected" if value == chosen else ""}>{_esc(label)}</option>'
                      for value, label in bound.field.choices)
    return (f'  <div class="field">\n    <label for="id_{name}">{_esc(bound.label)}</label>\n'
            f'    <select name="{name}" id="id_{name}">\n      {options}\n    </select>{error}\n  </div>\n')


@register.simple_tag
def call_filters(form, error=None) -> SafeString:
    """`{% call_filters form error %}`: the date, direction and (where numbers are not masked) number filter
    of a call page, each field's errors beside it, and the page's own `error` under the form."""
    fields = [_input(form["since"], "date"), _input(form["until"], "date"), _select(form["direction"])]
    if "number" in form.fields:
        fields.append(_input(form["number"], "text", ' maxlength="40" inputmode="tel" autocomplete="off"'))
    # Outside the f-strings, where makemessages finds them.
    label, submit, clear = esc_text(gettext("Filter calls")), esc_text(gettext("Filter")), esc_text(gettext("Clear"))
    out = (f'<form method="get" class="filters" role="search" aria-label="{label}">\n' + "".join(fields)
           + f'  <div class="actions"><button type="submit">{submit}</button> <a href="?">{clear}</a></div>\n</form>\n')
    if error:
        out += f'<p class="error" role="alert">{_esc(error)}</p>\n'
    # Reviewed: every value above went through _esc() (conditional_escape) or is fixed markup.
    return mark_safe(out)  # nosec B308 B703
