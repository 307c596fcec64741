"""A rate deck: the CSV a carrier or the product team sends with new prices, one destination a line:

    prefix,description,rate,increments,description_nl
    31,Netherlands fixed,0.0120,60/60,Nederland vast
    316,Netherlands mobile,0.0450,1/1,Nederland mobiel

`prefix` is E.164 digits (a leading "+" or "00" is dropped), `description` becomes the tariff's zone,
`rate` is the price per minute in EUR (a decimal comma is accepted), `increments` is "first/next" in
seconds ("60/60", "30/6"; one number means both). `description_nl`, optional, is the zone's name in Dutch
(`Tariff.zone_nl`; an empty cell: none); a line without it leaves the Dutch name as the prefix's tariff has it.
The header line is optional. A broken line is reported with its number and field and nothing of the deck is
applied until every line is right.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from .tariff_rules import validate_tariff_prefix, validate_zone_text

MAX_DECK_LINES = 20000
MAX_DECK_BYTES = 2 * 1024 * 1024
HEADER = ("prefix", "description", "rate", "increments")
HEADER_NL = (*HEADER, "description_nl")


@dataclass(frozen=True)
class DeckRow:
    line: int
    prefix: str
    description: str
    rate: Decimal
    increment_first: int
    increment_next: int
    description_nl: str | None = None  # None: the line has no such column


# Each column's name on the pages: the tariff form's labels (traffic.views.tariffs), so a refusal says which field in
# the page's language; "file" is the line or file as a whole (its columns, its size).
FIELD_LABELS = {
    "prefix": pgettext_lazy("tariffs", "Prefix"), "description": pgettext_lazy("tariffs", "Description (zone)"),
    "rate": gettext_lazy("Price per minute (EUR)"), "increments": pgettext_lazy("tariffs", "Increments"),
    "description_nl": gettext_lazy("Description in Dutch"), "file": gettext_lazy("File"),
}


@dataclass(frozen=True)
class DeckError:
    line: int
    field: str  # the CSV column (HEADER_NL), or "file"
    message: str

    @property
    def label(self) -> str:
        return str(FIELD_LABELS.get(self.field, self.field))

    @property
    def column(self) -> str:
        """The CSV column to fix, for the page to show beside the label; empty for the file as a whole."""
        return self.field if self.field in HEADER_NL else ""


def _prefix(value: str) -> str | None:
    value = value.strip().replace(" ", "")
    value = value[1:] if value.startswith("+") else value[2:] if value.startswith("00") else value
    return value if value.isdigit() and 1 <= len(value) <= 20 else None


def _rate(value: str) -> Decimal | None:
    try:
        rate = Decimal(value.strip().replace(",", "."))
    except InvalidOperation:
        return None
    if not rate.is_finite() or rate < 0 or rate >= Decimal("100000") or rate.as_tuple().exponent < -5:
        return None
    return rate


def _increments(value: str) -> tuple[int, int] | None:
    parts = value.strip().split("/")
    if len(parts) == 1:
        parts = parts * 2
    if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
        return None
    first, step = (int(p) for p in parts)
    return (first, step) if 1 <= first <= 3600 and 1 <= step <= 3600 else None


def _row(number: int, cells: list[str]) -> DeckRow | DeckError:
    if len(cells) not in (4, 5):
        return DeckError(number, "file", _("Expected 4 or 5 columns (prefix, description, rate, increments and "
                                           "optionally description_nl), found %(n)d.") % {"n": len(cells)})
    prefix, description, rate, increments = cells[:4]
    description_nl = cells[4].strip() if len(cells) == 5 else None
    if (clean_prefix := _prefix(prefix)) is None:
        return DeckError(number, "prefix", _("The prefix must be 1 to 20 digits."))
    description = description.strip()
    if not description or len(description) > 60:
        return DeckError(number, "description", _("The description must be 1 to 60 characters."))
    if description_nl is not None and len(description_nl) > 60:
        return DeckError(number, "description_nl", _("The Dutch description must be at most 60 characters."))
    for field, value, validate in (("prefix", clean_prefix, validate_tariff_prefix),
                                   ("description", description, validate_zone_text),
                                   ("description_nl", description_nl or "", validate_zone_text)):
        try:
            validate(value)
        except ValidationError as exc:
            return DeckError(number, field, exc.messages[0])
    if (clean_rate := _rate(rate)) is None:
        return DeckError(number, "rate", _("The rate must be a price per minute from 0 to 99999.99999 with at most 5 decimals."))
    if (steps := _increments(increments)) is None:
        return DeckError(number, "increments", _("Increments must be seconds as first/next, e.g. 60/60 or 30/6 (1 to 3600)."))
    return DeckRow(number, clean_prefix, description, clean_rate, *steps, description_nl=description_nl)


def parse_rate_deck(text: str) -> tuple[list[DeckRow], list[DeckError]]:
    """Every row and every error of the deck (all of them, so one upload shows what to fix)."""
    if len(text.encode()) > MAX_DECK_BYTES:
        return [], [DeckError(0, "file", _("The rate deck is larger than 2 MB."))]
    rows: list[DeckRow] = []
    errors: list[DeckError] = []
    seen: dict[str, int] = {}
    first = text.partition("\n")[0]
    # Spreadsheets with a decimal comma (Dutch Excel) write semicolons; some tools write tabs.
    dialect = _Semicolon if first.count(";") >= 3 else csv.excel_tab if "\t" in first else csv.excel
    for number, cells in enumerate(csv.reader(io.StringIO(text.lstrip("\ufeff")), dialect), start=1):
        if not any(c.strip() for c in cells):
            continue
        if number == 1 and tuple(c.strip().lower() for c in cells) in (HEADER, HEADER_NL):
            continue
        if number > MAX_DECK_LINES:
            errors.append(DeckError(number, "file", _("A rate deck has at most %(n)d lines.") % {"n": MAX_DECK_LINES}))
            break
        row = _row(number, cells)
        if isinstance(row, DeckError):
            errors.append(row)
        elif row.prefix in seen:
            errors.append(DeckError(number, "prefix", _("Prefix %(prefix)s is already on line %(line)d.") % {
                "prefix": row.prefix, "line": seen[row.prefix]}))
        else:
            seen[row.prefix] = number
            rows.append(row)
    if not rows and not errors:
        errors.append(DeckError(0, "file", _("The rate deck has no lines.")))
    return rows, errors


class _Semicolon(csv.excel):
    delimiter = ";"
