"""E.164 normalisation with `phonenumbers`, cached: ingest normalises each distinct number once."""
from __future__ import annotations

import functools
import re

import phonenumbers


class InvalidNumber(ValueError):
    """Not a phone number. The message never repeats the input."""


# Regions whose national numbers have one fixed length and a plain "0" trunk prefix, so that
# "0" + NSN and "+CC" + NSN map to E.164 by string operations that give exactly what phonenumbers
# gives (tests/voipxs/test_phone.py compares the two on random numbers). Parsing with phonenumbers
# costs ~33 µs a number; ingest meets hundreds of thousands of distinct numbers.
_FIXED_LENGTH_REGIONS = {"NL": ("31", 9)}


def normalize_e164(raw: str, default_region: str = "NL") -> str:
    """'020 123 4567' → '+31201234567'. Raises InvalidNumber for anything that is not a number."""
    text = (raw or "").strip()
    fast = _fast_e164(text, default_region)
    return fast if fast is not None else _parse_e164(text, default_region)


def _fast_e164(text: str, region: str) -> str | None:
    if text.startswith("+"):
        digits, international = text[1:], True
    elif text.startswith("00"):
        digits, international = text[2:], True
    else:
        digits, international = text, False
    if not digits.isdigit():
        return None
    if international:
        for code, length in _FIXED_LENGTH_REGIONS.values():
            if len(digits) == len(code) + length and digits.startswith(code) and digits[len(code)] != "0":
                return "+" + digits
        return None
    fixed = _FIXED_LENGTH_REGIONS.get(region)
    if fixed is not None and len(digits) == fixed[1] + 1 and digits[0] == "0" and digits[1] != "0":
        return "+" + fixed[0] + digits[1:]
    return None


@functools.lru_cache(maxsize=200_000)
def _parse_e164(text: str, default_region: str) -> str:
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        parsed = phonenumbers.parse(text, default_region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidNumber("not a phone number") from exc
    if not phonenumbers.is_possible_number(parsed):
        raise InvalidNumber("not a possible phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def mask(e164: str, *, visible: int = 3) -> str:
    """Hide the last digits: '+31201234567' → '+31201234•••'. Used wherever a number is shown masked."""
    if len(e164) <= visible + 3:
        return "•" * len(e164)
    return e164[:-visible] + "•" * visible


def _valid_pattern(region: str) -> re.Pattern:
    """The national numbers phonenumbers calls valid in `region`: any of its number types' patterns
    (fixed line, mobile, toll free, ...), as one regex (tests/voipxs/test_phone.py compares the two)."""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    kinds = ("fixed_line", "mobile", "toll_free", "premium_rate", "shared_cost", "personal_number", "voip",
             "pager", "uan", "voicemail")
    patterns = []
    for kind in kinds:
        desc = getattr(metadata, kind, None)
        if desc is not None and desc.national_number_pattern:
            patterns.append(f"(?:{desc.national_number_pattern})")
    return re.compile("|".join(patterns) or "(?!)")


_VALID_FAST = {code: _valid_pattern(region) for region, (code, _length) in _FIXED_LENGTH_REGIONS.items()}


def is_valid_e164(e164: str) -> bool:
    """Whether an E.164 number ('+31201234567') is a valid (assigned-range) number, not only a
    possible one: '+31991234567' has the right length for NL but no such range exists. A regex for
    the fixed-length regions (ingest meets many distinct numbers), phonenumbers for the rest."""
    for code, pattern in _VALID_FAST.items():
        if e164.startswith(code, 1):
            return pattern.fullmatch(e164[1 + len(code):]) is not None
    return _is_valid_slow(e164)


@functools.lru_cache(maxsize=200_000)
def _is_valid_slow(e164: str) -> bool:
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse(e164, None))
    except phonenumbers.NumberParseException:
        return False
