"""The national masking list (Bude art. 4.2): billing staff import numbers as CSV. A number listed
now is masked from the next billing period on (`valid_from` is the first moment of next month in UTC,
the invoices' billing period), as art. 4.2(3) allows at the latest; a number already listed keeps its
earlier start."""
from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils.timezone import localdate, now
from django.utils.translation import gettext_noop

from voipxs.exceptions import ApplicationError
from voipxs.privacy.audit import audit_record
from voipxs.privacy.crypto import blind_index
from voipxs.privacy.phone import InvalidNumber, normalize_masking_number
from voipxs.privacy.purposes import Purpose, require_purpose
from voipxs.timeutil import month_bounds

from ..models import MaskedNumber
from ..partitions import add_months, month_start

MAX_ROWS = 100_000
HEADER_INVALID = gettext_noop("The file must be CSV with a column named number.")
NUMBER_INVALID_AT = gettext_noop("Line %(line)s: this is not a phone number; nothing was imported.")
TOO_MANY = gettext_noop("The file holds more than %(n)s numbers.")


def next_billing_period(moment: datetime | None = None) -> datetime:
    """The first moment of the billing period after the one `moment` falls in: when a number listed now starts
    to be masked. A billing period is an invoice's: a calendar month in Amsterdam (voipxs.timeutil.month_bounds), as
    for a change of itemised bills (accounts.selectors.next_billing_period), so a bill is masked from its first
    call (00:00 on the 1st there, 23:00 or 22:00 UTC the day before) to its last."""
    return month_bounds(add_months(month_start(localdate(moment or now())), 1))[0]


def _rows(reader: csv.DictReader):
    """The file's rows with their line numbers. A row the CSV reader cannot read (a quote left open makes the
    rest of the file one field, longer than it reads) is named by the line after the last row read."""
    line = 1
    try:
        for line, row in enumerate(reader, start=2):
            yield line, row
    except csv.Error:
        raise ApplicationError.formatted(NUMBER_INVALID_AT, {"line": line + 1}, field="file", line=line + 1) from None


def _numbers(text: str) -> list[str]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    try:
        fieldnames = reader.fieldnames
    except csv.Error:
        fieldnames = None
    if not fieldnames or "number" not in [f.strip().lower() for f in fieldnames]:
        raise ApplicationError(HEADER_INVALID, {"field": "file"})
    column = next(f for f in fieldnames if f.strip().lower() == "number")
    numbers = []
    for line, row in _rows(reader):
        raw = (row.get(column) or "").strip()
        if not raw:
            continue
        try:
            numbers.append(normalize_masking_number(raw, "NL"))
        except InvalidNumber:
            raise ApplicationError.formatted(NUMBER_INVALID_AT, {"line": line}, field="file", line=line) from None
        if len(numbers) > MAX_ROWS:
            raise ApplicationError.formatted(TOO_MANY, {"n": MAX_ROWS}, field="file")
    return numbers


@transaction.atomic
def masking_list_import(*, actor: Any, text: str, at: datetime | None = None) -> tuple[int, datetime]:
    """Add the file's numbers to the list (or back on it), all or none; returns (numbers added, from when
    they are masked: the billing period after `at`, default now). Audited with counts only, never a number."""
    require_purpose(actor=actor, purpose=Purpose.BILLING, action="masking_list.import", target_type="masking_list")
    numbers = _numbers(text)
    valid_from = next_billing_period(at)
    # blind index -> (pk, taken off), in one read of the list
    listed = {index: (pk, until is not None) for index, pk, until in
              MaskedNumber.objects.values_list("number_index", "pk", "valid_until")}
    added, back = 0, []
    for number in dict.fromkeys(numbers):
        entry = listed.get(blind_index(number, domain="phone"))
        if entry is None:
            MaskedNumber.objects.create(number=number, valid_from=valid_from)
            added += 1
        elif entry[1]:
            back.append(entry[0])
    # A number listed again stays masked without a gap (one entry per number): masking the calls of the
    # months it was off the list too errs on the side the list exists for.
    added += MaskedNumber.objects.filter(pk__in=back).update(valid_until=None)
    audit_record(actor=actor, action="masking_list.import", purpose=Purpose.BILLING, target_type="masking_list",
                 extra={"rows": len(numbers), "added": added, "valid_from": localdate(valid_from).isoformat()})
    return added, valid_from


NOT_LISTED_AT = gettext_noop("Line %(line)s: this number is not on the masking list; nothing was taken off.")
NOT_A_NUMBER_AT = gettext_noop("Line %(line)s: this is not a phone number; nothing was taken off.")
NOTHING_TO_TAKE_OFF = gettext_noop("Enter the numbers to take off the list, one per line.")


def _typed_indexes(text: str) -> dict[str, int]:
    """The blind indexes of a text box's numbers, one per line, each with the line it is first on (blank
    lines skipped); a line that is no number is named."""
    found: dict[str, int] = {}
    for line, raw in enumerate(text.splitlines(), start=1):
        if raw.strip():
            try:
                found.setdefault(blind_index(normalize_masking_number(raw, "NL"), domain="phone"), line)
            except InvalidNumber:
                raise ApplicationError.formatted(NOT_A_NUMBER_AT, {"line": line}, field="numbers", line=line) from None
        if len(found) > MAX_ROWS:
            raise ApplicationError.formatted(TOO_MANY, {"n": MAX_ROWS}, field="numbers")
    if not found:
        raise ApplicationError(NOTHING_TO_TAKE_OFF, {"field": "numbers"})
    return found


def _listed(typed: dict[str, int], *, lock: bool = False) -> list[MaskedNumber]:
    """The list's entries of the typed numbers; the first number not on the list is named by its line."""
    entries = MaskedNumber.objects.filter(number_index__in=list(typed))
    found = {e.number_index: e for e in (entries.select_for_update() if lock else entries)}
    for index, line in typed.items():
        if index not in found:
            raise ApplicationError.formatted(NOT_LISTED_AT, {"line": line}, field="numbers", line=line)
    return list(found.values())


def masking_list_take_off_check(text: str) -> tuple[int, datetime]:
    """What `masking_list_take_off` would do, changing nothing (the confirmation names it): (numbers it
    takes off, the start of the billing period from which their calls show in full). Raises as it would."""
    entries = _listed(_typed_indexes(text))
    return sum(1 for e in entries if e.valid_until is None), next_billing_period()


@transaction.atomic
def masking_list_take_off(*, actor: Any, text: str, at: datetime | None = None) -> tuple[int, datetime]:
    """Take numbers off the list (one per line), all or none: calls made from the next billing period on
    show them in full; calls made while they were listed stay masked on every bill, old ones included.
    Returns (numbers taken off now, from when). A number already taken off keeps its date. Audited with
    counts only, never a number."""
    require_purpose(actor=actor, purpose=Purpose.BILLING, action="masking_list.take_off", target_type="masking_list")
    typed = _typed_indexes(text)
    entries = _listed(typed, lock=True)
    valid_until = next_billing_period(at)
    taken = MaskedNumber.objects.filter(pk__in=[e.pk for e in entries if e.valid_until is None]
                                        ).update(valid_until=valid_until)
    audit_record(actor=actor, action="masking_list.take_off", purpose=Purpose.BILLING, target_type="masking_list",
                 extra={"rows": len(typed), "taken_off": taken, "valid_until": localdate(valid_until).isoformat()})
    return taken, valid_until
