"""CSV exports. Every cell that a spreadsheet could read as a formula is neutralised: a cell starting
with = + - @ TAB or CR gets a leading single quote (OWASP "CSV injection"), because caller-ID text
comes from the switch and is untrusted. Rows are streamed, never built in memory."""
from __future__ import annotations

import csv
from typing import Iterable, Iterator

from django.utils import timezone

from .selectors.calls import CallRow
from .selectors.interconnection import InterconnectionRow

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

# note: what the customer stated about the call (GDPR art. 16, traffic.annotations), its own export only.
CALL_HEADER = ["started_at", "direction", "disposition", "own_number", "other_number", "caller_name",
               "duration_s", "billsec", "zone", "price_eur", "note"]
UNREADABLE_NOTE = "(a note that can no longer be read)"
INTERCONNECTION_HEADER = ["carrier", "source", "calls", "seconds", "amount_eur"]


def neutralise(value: object) -> str:
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_START):
        return "'" + text
    return text


def neutralised_value(cell: str) -> str:
    """What `neutralise` made `cell` from: the quote it put before a formula's first character taken off again (a
    reader checking a file's values against what they must be)."""
    return cell[1:] if cell.startswith("'") and cell[1:].startswith(_FORMULA_START) else cell


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_lines(rows: Iterable[Iterable[object]]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    for row in rows:
        yield writer.writerow([neutralise(cell) for cell in row])


def call_cells(row: CallRow) -> list[object]:
    local = timezone.localtime(row.started_at)
    return [local.isoformat(timespec="seconds"), row.direction, row.disposition, row.own_number, row.other_number,
            row.caller_name, row.duration, row.billsec, row.zone, "" if row.price is None else row.price,
            " | ".join(UNREADABLE_NOTE if note.text is None else note.text for note in row.notes)]


def calls_csv(rows: Iterable[CallRow]) -> Iterator[str]:
    yield from csv_lines([CALL_HEADER])
    yield from csv_lines(call_cells(row) for row in rows)


def interconnection_csv(rows: Iterable[InterconnectionRow]) -> Iterator[str]:
    yield from csv_lines([INTERCONNECTION_HEADER])
    yield from csv_lines([r.carrier, r.source, r.calls, r.seconds, r.amount] for r in rows)
