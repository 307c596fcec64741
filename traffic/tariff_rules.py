"""What a tariff may say, because invoices repeat it for 7 years (LEGAL.md section 5 row 3): an invoice line
aggregates calls per tariff zone and has no called-number field, and these rules keep the zone from becoming
one. A prefix must cover at least 10,000 numbers (`voipxs.privacy.number_ranges`), and the zone's name, which
is printed on the invoice, must not hold a phone number.

The one place for both rules: the Tariff model's fields carry them as validators (so every `full_clean`, the
services and the admin's form, applies them) and the staff page's form, the rate deck's parser and the API's
serializer use the same functions, so each refuses at its own first step, naming the field.
"""
from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.core.validators import ProhibitNullCharactersValidator
from django.utils.translation import gettext_lazy as _

from voipxs.privacy.number_ranges import prefix_digit_limit, prefix_too_narrow

PREFIX_TOO_NARROW = _("A tariff prefix this long would identify single numbers on invoices (kept 7 years); "
                      "use at most %(limit)d digits.")
ZONE_HOLDS_NUMBER = _("The zone is printed on invoices (kept 7 years) and must not hold a phone number; "
                      "leave out the digits.")

# Seven or more digits in a row, with at most two separators between any two ("020-555 1234", "(020) 5551234",
# "+31 20 555 1234"): the shortest Dutch numbers with an area code. A year or a range of two ("2024-2025")
# counts too: a zone's name has no need of one.
_NUMBER_LIKE = re.compile(r"\d(?:[\s./()\-]{0,2}\d)*")
NUMBER_DIGITS = 7


def validate_tariff_prefix(value: str) -> None:
    digits = (value or "").strip().lstrip("+")
    if digits.isdigit() and digits.isascii() and prefix_too_narrow(digits):
        raise ValidationError(PREFIX_TOO_NARROW, code="prefix_too_narrow",
                              params={"limit": prefix_digit_limit(digits)})


def zone_holds_number(value: str) -> bool:
    return any(sum(c.isdigit() for c in run) >= NUMBER_DIGITS for run in _NUMBER_LIKE.findall(value or ""))


def validate_zone_text(value: str) -> None:
    # PostgreSQL text holds no NUL, and a rate deck's file has no form field to refuse one.
    ProhibitNullCharactersValidator()(value)
    if zone_holds_number(value):
        raise ValidationError(ZONE_HOLDS_NUMBER, code="zone_holds_number")
