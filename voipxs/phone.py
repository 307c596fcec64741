"""E.164 normalisation with `phonenumbers`, cached: ingest normalises each distinct number once."""
from __future__ import annotations

import functools

import phonenumbers


class InvalidNumber(ValueError):
    """Not a phone number. The message never repeats the input."""


@functools.lru_cache(maxsize=200_000)
def normalize_e164(raw: str, default_region: str = "NL") -> str:
    """'020 123 4567' → '+31201234567'. Raises InvalidNumber for anything that is not a number."""
    text = (raw or "").strip()
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
