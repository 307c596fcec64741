from __future__ import annotations

import random

import phonenumbers
import pytest

from voipxs.privacy.phone import InvalidNumber, _fast_e164, mask, normalize_e164


def _reference(text: str, region: str) -> str | None:
    """What phonenumbers alone says (the slow path), or None for an impossible number."""
    try:
        parsed = phonenumbers.parse("+" + text[2:] if text.startswith("00") else text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


class NormalizeTests:
    def test_it_normalises_the_usual_forms(self):
        for raw in ["020 555 0101", "0205550101", "+31205550101", "0031205550101", " +31 20 555 0101 "]:
            assert normalize_e164(raw) == "+31205550101"
        assert normalize_e164("07700 900123", "GB") == "+447700900123"

    def test_it_refuses_what_is_not_a_number_without_repeating_it(self):
        for raw in ["", "abc", "12", "+999123"]:
            with pytest.raises(InvalidNumber) as caught:
                normalize_e164(raw)
            assert raw.strip() == "" or raw not in str(caught.value)

    def test_the_fast_path_gives_exactly_what_phonenumbers_gives(self):
        rng = random.Random(20261129)
        checked = 0
        for _ in range(20_000):
            nsn = "".join(rng.choice("0123456789") for _ in range(rng.choice([8, 9, 9, 9, 10])))
            for text in (f"0{nsn}", f"+31{nsn}", f"0031{nsn}", f"+44{nsn}", f"00{nsn}"):
                fast = _fast_e164(text, "NL")
                if fast is not None:
                    assert fast == _reference(text, "NL"), text
                    checked += 1
        assert checked > 20_000  # the fast path was really exercised

    def test_the_fast_path_for_foreign_numbers_gives_exactly_what_phonenumbers_gives(self):
        rng = random.Random(20261205)
        checked = 0
        for code in sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE):
            for _ in range(60):
                # Any length around the possible ones, often starting with a national prefix (0, 1, 8).
                national = rng.choice(["", "0", "1", "8", "00"]) + "".join(
                    rng.choice("0123456789") for _ in range(rng.randrange(0, 16)))
                for text in (f"+{code}{national}", f"00{code}{national}"):
                    fast = _fast_e164(text, "NL")
                    if fast is not None:
                        assert fast == _reference(text, "NL"), text
                        checked += 1
        assert checked > 2_000  # the fast path was really exercised

    def test_it_masks_the_last_digits(self):
        assert mask("+31205550101") == "+31205550•••"
