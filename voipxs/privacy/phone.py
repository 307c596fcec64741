"""E.164 normalisation with `phonenumbers`, cached: ingest normalises each distinct number once."""
from __future__ import annotations

import functools
import re

import phonenumbers
from phonenumbers import shortnumberinfo


class InvalidNumber(ValueError):
    """Not a phone number. The message never repeats the input."""


# Regions whose national numbers have one fixed length and a plain "0" trunk prefix, so that
# "0" + NSN and "+CC" + NSN map to E.164 by string operations that give exactly what phonenumbers
# gives (tests/voipxs/test_phone.py compares the two on random numbers). Parsing with phonenumbers
# costs ~33 µs a number; ingest meets hundreds of thousands of distinct numbers.
_FIXED_LENGTH_REGIONS = {"NL": ("31", 9)}


def normalize_e164(raw: str, default_region: str = "NL") -> str:
    """'020 555 0101' → '+31205550101'. Raises InvalidNumber for anything that is not a number."""
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
    if not (digits.isdigit() and digits.isascii()):  # other scripts' digits: phonenumbers turns them into ASCII
        return None
    if international:
        for code, length in _FIXED_LENGTH_REGIONS.values():
            if len(digits) == len(code) + length and digits.startswith(code) and digits[len(code)] != "0":
                return "+" + digits
        return _fast_international(digits)
    fixed = _FIXED_LENGTH_REGIONS.get(region)
    if fixed is not None and len(digits) == fixed[1] + 1 and digits[0] == "0" and digits[1] != "0":
        return "+" + fixed[0] + digits[1:]
    return None


def _fast_international(digits: str) -> str | None:
    """'+' + digits when phonenumbers would parse '+<digits>' to exactly that and call it possible, else
    None (phonenumbers decides). Its steps for plain ASCII digits after a '+', in its own order: the
    country code is the shortest known prefix of 1 to 3 digits (none starts with 0); the rest is the
    national number, from which a national prefix would be stripped only where the country's pattern
    for one matches its start (left to phonenumbers); a national number of 2 to 17 digits is kept with
    its leading zeros; it is possible when its length is one of the country's possible lengths. Saves
    ~20 µs on each distinct foreign number an import meets (tests/voipxs/test_phone.py compares the two
    on random numbers of every country code)."""
    if len(digits) <= 2 or digits[0] == "0":
        return None
    for size in (1, 2, 3):
        code = digits[:size]
        if code in _COUNTRY_CODES:
            national = digits[size:]
            prefix, lengths = _international_rule(code)
            if len(national) in lengths and (prefix is None or prefix.match(national) is None):
                return "+" + digits
            return None
    return None


_COUNTRY_CODES = frozenset(map(str, phonenumbers.COUNTRY_CODE_TO_REGION_CODE))


@functools.lru_cache(maxsize=None)
def _international_rule(code: str) -> tuple[re.Pattern | None, frozenset[int]]:
    """(The country's national prefix pattern for parsing, the national number lengths phonenumbers
    calls possible), asked of phonenumbers itself once per country code: possibility depends on the
    length alone (its _test_number_length)."""
    number = int(code)
    metadata = phonenumbers.PhoneMetadata.metadata_for_region_or_calling_code(
        number, phonenumbers.region_code_for_country_code(number))
    prefix = metadata.national_prefix_for_parsing if metadata is not None else None
    lengths = frozenset(n for n in range(2, 18) if phonenumbers.is_possible_number(
        phonenumbers.PhoneNumber(country_code=number, national_number=int("1" * n))))
    return (re.compile(prefix) if prefix else None), lengths


# Dutch short numbers (112, 113, 116 111, 14 020, 1400): dialled as they are, never in E.164. Helplines
# among them are on the masking list (Bude art. 4.2), and a switch logs them as dialled.
_SHORT_NUMBER = re.compile(r"1[0-9]{2,5}")
_SEPARATORS = str.maketrans("", "", " -.")


def normalize_masking_number(raw: str, default_region: str = "NL") -> str:
    """A number as the masking list holds it: a short number ('116 111') as its digits ('116111'),
    anything else as E.164. Raises InvalidNumber as `normalize_e164` does."""
    if raw and raw[0] == "+":  # never a short number (the bills' numbers mostly come as E.164 already)
        return normalize_e164(raw, default_region)
    digits = (raw or "").strip().translate(_SEPARATORS)
    if _SHORT_NUMBER.fullmatch(digits):
        return digits
    return normalize_e164(raw, default_region)


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


def region_of(e164: str, default: str = "NL") -> str:
    """The region of an E.164 number ('+3120…' → 'NL'): national numbers a customer clicks are read in the
    region of their own number."""
    try:
        region = phonenumbers.region_code_for_number(phonenumbers.parse(e164, None))
    except phonenumbers.NumberParseException:
        return default
    return region if region and region != "ZZ" else default


def mask(e164: str, *, visible: int = 3) -> str:
    """Hide the last digits: '+31205550101' → '+31205550•••'. Used wherever a number is shown masked."""
    if len(e164) <= visible + 3:
        return "•" * len(e164)
    return e164[:-visible] + "•" * visible


_NUMBER_KINDS = ("fixed_line", "mobile", "toll_free", "premium_rate", "shared_cost", "personal_number", "voip",
                 "pager", "uan", "voicemail")


def _kind_patterns(metadata) -> list[str]:
    """Each number type's pattern, held to that type's possible lengths (as is_valid_number holds it)."""
    patterns = []
    general = tuple(metadata.general_desc.possible_length or ()) if metadata.general_desc else ()
    for kind in _NUMBER_KINDS:
        desc = getattr(metadata, kind, None)
        if desc is None or not desc.national_number_pattern:
            continue
        lengths = [n for n in (desc.possible_length or general) if n > 0]
        lookahead = "(?=" + "|".join(r"\d{%d}$" % n for n in lengths) + ")" if lengths else ""
        patterns.append(f"(?:{lookahead}(?:{desc.national_number_pattern}))")
    return patterns


@functools.lru_cache(maxsize=None)
def _country_pattern(code: int) -> re.Pattern:
    """The national numbers phonenumbers calls valid under a country calling code: any number type's
    pattern (fixed line, mobile, toll free, ...) of any region sharing the code, as one regex; a regex
    match costs a microsecond where phonenumbers.is_valid_number costs a hundred, and ingest meets
    many distinct numbers (tests/traffic/test_honest_flags.py compares the two)."""
    patterns = []
    for region in phonenumbers.region_codes_for_country_code(code):
        metadata = (phonenumbers.PhoneMetadata.metadata_for_nongeo_region(code) if region == "001"
                    else phonenumbers.PhoneMetadata.metadata_for_region(region))
        if metadata is not None and metadata.general_desc and metadata.general_desc.national_number_pattern:
            # As is_valid_number: the region's general pattern first, then one of its number types.
            kinds = "|".join(_kind_patterns(metadata)) or "(?!)"
            patterns.append(f"(?:(?=(?:{metadata.general_desc.national_number_pattern})$)(?:{kinds}))")
    return re.compile("|".join(patterns) or "(?!)")


def is_valid_e164(e164: str) -> bool:
    """Whether an E.164 number ('+31205550101') is a valid (assigned-range) number, not only a
    possible one: '+31991234567' has the right length for NL but no such range exists."""
    digits = e164[1:] if e164.startswith("+") else e164
    for length in (1, 2, 3):
        code = int(digits[:length] or "0")
        if code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            return _country_pattern(code).fullmatch(digits[length:]) is not None
    return False


# Freephone and helplines, which an itemised bill may leave off (LEGAL.md row 9; Ofcom and Traficom: calls to
# them are not listed): what phonenumbers calls toll free (0800 in NL, +800 the international freephone, other
# countries' freephone ranges), a short number it calls toll free where dialled (112, the harmonised
# 116 xxx helplines of social value), and short numbers of helplines its metadata does not know: 113, the Dutch
# suicide prevention line (its 0800 0113 is toll free anyway).
_HELPLINES = {"NL": frozenset({"113"})}


@functools.lru_cache(maxsize=50_000)
def is_free_or_helpline(number: str, region: str = "NL") -> bool:
    """Whether a call's other number ('+318001234', '116 111', '113', '+80012345678') is a freephone or
    helpline number. A short number is read as dialled in `region`; anything not a number is neither."""
    text = (number or "").strip()
    digits = text[1:] if text[:1] == "+" else text.translate(_SEPARATORS)
    if text[:1] != "+" and _SHORT_NUMBER.fullmatch(digits):
        if digits in _HELPLINES.get(region, ()) or (len(digits) == 6 and digits.startswith("116")):
            return True
        try:
            parsed = phonenumbers.parse(digits, region)
        except phonenumbers.NumberParseException:
            return False
        return shortnumberinfo.expected_cost_for_region(parsed, region) == shortnumberinfo.ShortNumberCost.TOLL_FREE
    try:
        parsed = phonenumbers.parse(normalize_e164(text, region), None)
    except (InvalidNumber, phonenumbers.NumberParseException):
        return False
    return phonenumbers.number_type(parsed) == phonenumbers.PhoneNumberType.TOLL_FREE
