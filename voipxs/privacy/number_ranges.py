"""How many digits a number prefix may have before it names too few numbers (LEGAL.md section 5 row 3).

A tariff's prefix and zone end up on invoice lines, which are kept 7 years (AWR art. 52) while the calls
themselves go within months (Tw 11.5). A prefix as long as a whole number would make an invoice line say
which number was called. So a prefix must leave at least `OPEN_DIGITS` digits open of the shortest valid
number it can start, i.e. cover at least 10,000 numbers:

    limit = len(country code) + shortest national significant number it starts - OPEN_DIGITS

where a plan has numbers of several lengths under the prefix, the numbers of each length less than OPEN_DIGITS
longer than the shortest are counted together (`_open_limit`): +49 30 starts Berlin numbers of 5 to 15 digits, so
"4930" covers 1,000 + 10,000 + ... numbers and is allowed, though its shortest numbers leave only 3 digits open
(likewise +31 14, the 5- and 6-digit municipal numbers, and +31 800 1, 0800 numbers of 7 to 10 digits).

"The shortest number it can start" is asked of `phonenumbers`' metadata: each number type of the country
(fixed line, mobile, toll free, ...) has a pattern and possible lengths. +31 20 starts only 9-digit numbers
(Amsterdam fixed lines), so "3120555" (7 digits) is the longest Amsterdam prefix; +31 14 starts the 5-digit
municipal numbers, so "3114" already names fewer than 10,000. Whether a pattern can match a number that
starts with the prefix is worked out on the pattern's parse tree (`_lengths`) rather than by trying the up to
10^n completions: 10 to 200 µs a prefix (the NANP's 136 patterns are the slowest), cached; a 20,000-line rate
deck of mixed countries parses in about 1.5 s. Lookaheads are ignored (no type pattern in phonenumbers'
metadata has one today); ignoring one could only add lengths, i.e. be stricter.

A prefix that starts no valid number at all (a typo, an unassigned range) is held to the limit of its
longest part that does. A country code alone is always allowed (a price per country must stay possible),
and a prefix whose country code phonenumbers does not know may have `UNKNOWN_COUNTRY_LIMIT` digits (E.164's
15 less `OPEN_DIGITS`).
"""
from __future__ import annotations

import functools
from re import _constants as sre  # noqa: PLC2701 - the parse tree of phonenumbers' own patterns, read only
from re import _parser

import phonenumbers

from .phone import _NUMBER_KINDS

OPEN_DIGITS = 4
UNKNOWN_COUNTRY_LIMIT = 15 - OPEN_DIGITS
_LONGEST_NSN = 17  # phonenumbers' own bound for a national significant number
_DIGITS = "0123456789"


def prefix_digit_limit(prefix: str) -> int:
    """The most digits a prefix starting like `prefix` (E.164 digits, no '+') may have."""
    digits = prefix.lstrip("+")
    code = _country_code(digits)
    if code is None:
        return UNKNOWN_COUNTRY_LIMIT
    national = digits[len(code):]
    while True:
        lengths = _national_lengths(int(code), national)
        if lengths or not national:
            break
        national = national[:-1]
    if not lengths:  # phonenumbers knows the code but no number type under it
        return UNKNOWN_COUNTRY_LIMIT
    return max(len(code), len(code) + _open_limit(lengths))


def _open_limit(lengths: frozenset[int]) -> int:
    """The longest national prefix that still covers 10**OPEN_DIGITS numbers of these lengths. Only the lengths
    less than OPEN_DIGITS longer than the shortest count: in a plan of several lengths (Berlin's 5 to 15 digits)
    the longest numbers extend shorter ones (a PBX's direct dial-in), so they add no cover to a whole number."""
    shortest = min(lengths)
    window = [n for n in lengths if n < shortest + OPEN_DIGITS]
    return max(k for k in range(shortest + 1) if sum(10 ** (n - k) for n in window) >= 10 ** OPEN_DIGITS)


def prefix_too_narrow(prefix: str) -> bool:
    digits = prefix.lstrip("+")
    code = _country_code(digits)
    if code is not None and len(digits) - len(code) + OPEN_DIGITS <= _country_shortest(int(code)):
        return False  # no number under the code is shorter: no need to look closer
    return len(digits) > prefix_digit_limit(digits)


def _country_code(digits: str) -> str | None:
    for size in (1, 2, 3):
        if len(digits) >= size and int(digits[:size] or 0) in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            return digits[:size]
    return None


@functools.lru_cache(maxsize=50_000)
def _national_lengths(code: int, national: str) -> frozenset[int]:
    """The lengths of the national numbers valid under `code` that start with `national`."""
    return frozenset(length for tree, lengths in _patterns_starting(code, national[:2])
                     for length in _lengths(tree, national) if length in lengths)


def _shortest_national(code: int, national: str) -> int | None:
    """The length of the shortest national number valid under `code` that starts with `national`."""
    return min(_national_lengths(code, national), default=None)


@functools.lru_cache(maxsize=1000)
def _patterns_starting(code: int, start: str) -> tuple[tuple[list, frozenset[int]], ...]:
    """The type patterns that match some number starting with `start` (at most 2 digits): the NANP alone
    has 136, and most prefixes rule out all but a few with their first two digits."""
    return tuple(pattern for pattern in _type_patterns(code) if not start or _lengths(pattern[0], start))


@functools.lru_cache(maxsize=None)
def _country_shortest(code: int) -> int:
    """The shortest number of any type under the country code: no prefix starts a shorter one."""
    return min((min(lengths) for _, lengths in _type_patterns(code) if lengths), default=_LONGEST_NSN)


@functools.lru_cache(maxsize=None)
def _type_patterns(code: int) -> tuple[tuple[list, frozenset[int]], ...]:
    """(parse tree, possible lengths) of every number type of every region sharing the country code."""
    found = []
    for region in phonenumbers.region_codes_for_country_code(code):
        metadata = (phonenumbers.PhoneMetadata.metadata_for_nongeo_region(code) if region == "001"
                    else phonenumbers.PhoneMetadata.metadata_for_region(region))
        if metadata is None or metadata.general_desc is None:
            continue
        general = tuple(metadata.general_desc.possible_length or ())
        for kind in _NUMBER_KINDS:
            desc = getattr(metadata, kind, None)
            if desc is not None and desc.national_number_pattern:
                lengths = frozenset(n for n in (desc.possible_length or general) if n > 0)
                found.append((list(_parser.parse(desc.national_number_pattern)), lengths))
    return tuple(found)


def _lengths(tree: list, prefix: str) -> set[int]:
    """The lengths of the digit strings the pattern matches in full that start with `prefix`."""
    return {length for length, rest in _walk(tree, {(0, prefix)}) if not rest}


# A state is (digits matched so far, what of the prefix is still to match).
_State = tuple[int, str]


def _walk(items: list, states: set[_State]) -> set[_State]:
    for item in items:
        if not states:
            break
        if all(not rest for _, rest in states):  # the prefix is matched: only lengths are left to add
            states = {(n + more, "") for n, _ in states for more in _free_lengths(item) if n + more <= _LONGEST_NSN}
        else:
            states = _step(item, states)
    return states


def _step(item: tuple, states: set[_State]) -> set[_State]:
    op, av = item
    if op in (sre.LITERAL, sre.NOT_LITERAL, sre.ANY, sre.IN, sre.CATEGORY):
        return {(n + 1, rest[1:]) for n, rest in states if n < _LONGEST_NSN
                and any(_char(op, av, d) for d in (rest[:1] or _DIGITS))}
    if op is sre.SUBPATTERN:
        return _walk(av[-1], states)
    if op is sre.ATOMIC_GROUP:
        return _walk(av, states)
    if op is sre.BRANCH:
        return set().union(*(_walk(alternative, states) for alternative in av[1]))
    if op in (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT):
        return _repeat(av, states)
    if op in (sre.AT, sre.ASSERT, sre.ASSERT_NOT):
        return states  # anchors: the match is whole anyway; lookaheads: see the module docstring
    raise ValueError(f"unexpected regex element {op}")


_FREE: dict[int, frozenset[int]] = {}


def _free_lengths(item: tuple) -> frozenset[int]:
    """The lengths one element of a pattern can match, whatever the digits: remembered per element (the
    trees live as long as `_type_patterns`' cache), so that what follows the prefix costs a set lookup."""
    key = id(item)
    if key not in _FREE:
        _FREE[key] = frozenset(n for n, _ in _step(item, {(0, "")}))
    return _FREE[key]


def _repeat(av: tuple, states: set[_State]) -> set[_State]:
    low, high, sub = av
    done: set[_State] = set()
    count = 0
    while states:
        if count >= low:
            states = states - done
            done |= states
        if count == high:
            break
        states, count = _walk(sub, states), count + 1
    return done


def _char(op, av, digit: str) -> bool:
    code = ord(digit)
    if op is sre.LITERAL:
        return av == code
    if op is sre.NOT_LITERAL:
        return av != code
    if op is sre.ANY:
        return True
    if op is sre.CATEGORY:
        return (av is sre.CATEGORY_DIGIT) == digit.isdigit()
    negate = bool(av) and av[0][0] is sre.NEGATE
    hit = any(_char(item_op, item_av, digit) if item_op is not sre.RANGE else item_av[0] <= code <= item_av[1]
              for item_op, item_av in (av[1:] if negate else av))
    return hit != negate
