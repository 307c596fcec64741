"""The national masking list (Bude art. 4.2): billing staff import numbers as CSV. A number listed
now is masked from the next billing period on (`valid_from` is the first day of next month, site
time), as art. 4.2(3) allows at the latest; a number already listed keeps its earlier start."""
from __future__ import annotations

import csv
import io
from datetime import datetime, time
from typing import Any

from django.db import transaction
from django.utils.timezone import get_default_timezone, localtime, now

from voipxs.exceptions import ApplicationError
from voipxs.privacy.audit import audit_record
from voipxs.privacy.crypto import blind_index
from voipxs.privacy.phone import InvalidNumber, normalize_e164
from voipxs.privacy.purposes import Purpose, require_purpose

from ..models import MaskedNumber
from ..partitions import add_months, month_start

MAX_ROWS = 100_000
HEADER_INVALID = "The file must be CSV with a column named number."
NUMBER_INVALID_AT = "Line %(line)s: this is not a phone number; nothing was imported."
TOO_MANY = "The file holds more than %(n)s numbers."


def next_billing_period(moment: datetime | None = None) -> datetime:
    """The start of the month after `moment` (site time): when a number listed now starts to be masked."""
    first = add_months(month_start(localtime(moment or now()).date()), 1)
    return datetime.combine(first, time.min, tzinfo=get_default_timezone())


def _numbers(text: str) -> list[str]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    if not reader.fieldnames or "number" not in [f.strip().lower() for f in reader.fieldnames]:
        raise ApplicationError(HEADER_INVALID, {"field": "file"})
    column = next(f for f in reader.fieldnames if f.strip().lower() == "number")
    numbers = []
    for line, row in enumerate(reader, start=2):
        raw = (row.get(column) or "").strip()
        if not raw:
            continue
        try:
            numbers.append(normalize_e164(raw, "NL"))
        except InvalidNumber:
            raise ApplicationError(NUMBER_INVALID_AT % {"line": line}, {"field": "file", "line": line}) from None
        if len(numbers) > MAX_ROWS:
            raise ApplicationError(TOO_MANY % {"n": MAX_ROWS}, {"field": "file"})
    return numbers


@transaction.atomic
def masking_list_import(*, actor: Any, text: str, at: datetime | None = None) -> tuple[int, datetime]:
    """Add the file's numbers to the list, all or none; returns (numbers added, from when they are
    masked: the billing period after `at`, default now). Audited with counts only, never a number."""
    require_purpose(actor=actor, purpose=Purpose.BILLING, action="masking_list.import", target_type="masking_list")
    numbers = _numbers(text)
    valid_from = next_billing_period(at)
    listed = set(MaskedNumber.objects.values_list("number_index", flat=True))
    added = 0
    for number in dict.fromkeys(numbers):
        if blind_index(number, domain="phone") in listed:
            continue
        MaskedNumber.objects.create(number=number, valid_from=valid_from)
        added += 1
    audit_record(actor=actor, action="masking_list.import", purpose=Purpose.BILLING, target_type="masking_list",
                 extra={"rows": len(numbers), "added": added, "valid_from": valid_from.date().isoformat()})
    return added, valid_from
