"""The phone number ranges our fixtures and seed data may use: the ONE place that says which Dutch numbers
are synthetic (GDPR art. 25, LEGAL.md section 5 row 28: "fixtures contain no real E.164 ranges").

Each range is a regex over the Dutch national significant number (NSN: the digits after +31 or after
the trunk 0, so "+31 20 555 0101", "020-555 0101" and "0205550101" are all NSN "205550101").
tests/voipxs/test_fixture_numbers.py fails on any Dutch number in scanned files that lies in an assigned
range (libphonenumber calls it valid) and matches none of these.

Numbers outside the Netherlands are out of scope for the check. UK numbers should still be Ofcom's
drama ranges (UK_DRAMA_NSN): `uk_offenders` in tests/voipxs/test_fixture_numbers.py lists others for a human
to review; it fails nothing.
"""
from __future__ import annotations

import re

# +31 6 9999 xxxx: the mobile test range LEGAL.md names. 06-9 is not issued to subscribers, so
# libphonenumber (and therefore our ingest, `is_valid_e164`) treats these numbers as INVALID: an import
# flags them `bad_number` and does not price them. Use them where a test needs a mobile number that is
# not imported through the validity gate.
MOBILE_TEST_NSN = re.compile(r"69999\d{4}")

# +31 20 555 xxxx: the fictitious Amsterdam block of the demo users (alice +31 20 555 0101, the acme
# users +31 20 555 02xx; accounts/sections.py seed_accounts, traffic/demo.py). This is the project's own
# convention, NOT an official test range: 020-555 numbers may be issued. It is kept only because the demo
# and hundreds of tests use it, and kept narrow (+3120555 and four digits) so nothing else hides in it.
DEMO_AMSTERDAM_NSN = re.compile(r"20555\d{4}")

# Service numbers, not subscriber numbers: 0800 (freephone), 0900/0906/0909 (premium rate), in the
# 4- and 7-digit forms. The tests use 0800-0113 (a helpline on the masking list) and the 0900/0909
# prefixes in the blocked-prefix tests. Short numbers (112, 113, 116 xxx, 14 xxx, 18xx) are too short
# for the scanner's patterns, which only match full-length numbers, so they need no entry here.
SERVICE_NSN = re.compile(r"(?:800|900|906|909)\d{4}(?:\d{3})?")

ALLOWED_NSN: dict[str, re.Pattern] = {
    "mobile test range +31 6 9999 xxxx": MOBILE_TEST_NSN,
    "demo Amsterdam block +31 20 555 xxxx (project convention)": DEMO_AMSTERDAM_NSN,
    "service numbers 0800/0900/0906/0909": SERVICE_NSN,
}

# Ofcom's numbers reserved for drama: +44 20 7946 0xxx (London), +44 7700 900xxx (mobile) and +44 808 157 0xxx
# (freephone, which phonenumbers calls TOLL_FREE: a foreign freephone number in the free-number tests).
UK_DRAMA_NSN = re.compile(r"2079460\d{3}|7700900\d{3}|8081570\d{3}")


def is_allowed_nsn(nsn: str) -> bool:
    """Whether a Dutch NSN (digits only) lies in one of the synthetic ranges above."""
    return any(pattern.fullmatch(nsn) for pattern in ALLOWED_NSN.values())

# NOT an allowed range, but an open decision. These import tests need a
# mobile number our ingest accepts as valid: `is_valid_e164` follows libphonenumber, whose Dutch mobile
# ranges are 06-1..5 and 06-8, so +31 6 9999 xxxx is stored as written, flagged `bad_number` and left
# unpriced, and the tests' point (normalised to E.164, rated "NL mobile") is lost. Until the project decides
# (e.g. a test-only valid range in the app, or these tests on another number kind), the check tolerates
# exactly these numbers in exactly these files; it fails when an entry is no longer needed.
_IMPORT_VALIDITY_NSN = frozenset({"612345678"})
PENDING_VALID_MOBILE: dict[str, frozenset[str]] = {
    "tests/traffic/fixtures/freeswitch_json_cdr_repeated_callflow.json": _IMPORT_VALIDITY_NSN,
    "tests/traffic/fixtures/freeswitch_xml_cdr_nolocal_variable.xml": _IMPORT_VALIDITY_NSN,
    "tests/traffic/test_cdr_layouts.py": _IMPORT_VALIDITY_NSN,
    "tests/traffic/test_cdr_legs.py": _IMPORT_VALIDITY_NSN,
    "tests/traffic/test_freeswitch_legs.py": _IMPORT_VALIDITY_NSN | {"687654321"},
    "tests/traffic/test_honest_flags.py": _IMPORT_VALIDITY_NSN,
    "tests/traffic/test_importers_freeswitch_json_repeated_callflow.py": _IMPORT_VALIDITY_NSN,
    "tests/traffic/test_importers_freeswitch_xml.py": _IMPORT_VALIDITY_NSN,
    "tests/traffic/test_ingest.py": _IMPORT_VALIDITY_NSN,
    "tests/traffic/test_ingest_formats.py": _IMPORT_VALIDITY_NSN,
    "tests/traffic/test_push.py": _IMPORT_VALIDITY_NSN,
}
