"""An invoice line must not name a called number (LEGAL.md section 5 row 3): a tariff's prefix must cover at
least 10,000 numbers, i.e. leave 4 digits open of the shortest valid number it can start, and its zone, printed
on invoices, must hold no phone number. Every way a tariff is made refuses both, naming the field; tariffs
stored before the rule are listed by a system check, by id, never by prefix.

The expected lengths are worked out here from the rule's own words and phonenumbers' metadata, not taken
from the code: +31 20 starts only Dutch fixed-line numbers, so the longest Amsterdam prefix is the country
code plus the fixed-line length less 4."""
from __future__ import annotations

import io
import random
from datetime import date
from decimal import Decimal

import phonenumbers
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from tests.factories import verified_client
from traffic.models import Tariff
from traffic.rate_deck import parse_rate_deck
from traffic.services import tariffs as tariff_services
from voipxs.exceptions import ApplicationError
from voipxs.privacy.number_ranges import _shortest_national
from voipxs.privacy.phone import is_valid_e164

pytestmark = pytest.mark.django_db

NL_CODE = str(phonenumbers.country_code_for_region("NL"))  # "31"
NL_FIXED_LENGTH = min(phonenumbers.PhoneMetadata.metadata_for_region("NL").fixed_line.possible_length)  # 9
LONGEST_OK = len(NL_CODE) + NL_FIXED_LENGTH - 4  # 7: 10,000 Amsterdam numbers and no fewer
AMSTERDAM = NL_CODE + "205550101"  # a demo number (tests/synthetic_numbers.py); its prefixes are cut from it
OK_PREFIX, NARROW_PREFIX = AMSTERDAM[:LONGEST_OK], AMSTERDAM[:LONGEST_OK + 1]  # "3120555", "31205550"
REFUSAL = f"use at most {LONGEST_OK} digits"
FORM = {"zone": "Amsterdam", "price_per_minute": "0.01", "setup_fee": "0", "increment_first": "60",
        "increment_next": "60", "valid_from": "2026-02-01"}


def _deck(prefix: str, zone: str = "Amsterdam") -> str:
    return f"prefix,description,rate,increments\n316,NL mobile,0.0450,1/1\n{prefix},{zone},0.0100,60/60\n"


class PrefixRuleTests:
    def test_the_longest_amsterdam_prefix_passes_and_one_digit_more_is_refused(self, billing_staff):
        assert (OK_PREFIX, NARROW_PREFIX) == ("3120555", "31205550")  # the worked example, as the rule says
        made = tariff_services.tariff_create(prefix=OK_PREFIX, zone="Amsterdam", price_per_minute=Decimal("0.01"),
                                             valid_from=date(2026, 1, 1), actor=billing_staff)
        assert made.prefix == OK_PREFIX
        with pytest.raises(ApplicationError) as refused:
            tariff_services.tariff_create(prefix=f"+{NARROW_PREFIX}", zone="Amsterdam", valid_from=date(2026, 1, 1),
                                          price_per_minute=Decimal("0.01"), actor=billing_staff)
        assert refused.value.extra["field"] == "prefix" and REFUSAL in str(refused.value)
        assert NARROW_PREFIX not in str(refused.value)  # the refusal does not repeat the number it refused
        assert list(Tariff.objects.values_list("prefix", flat=True)) == [OK_PREFIX]

    def test_other_countries_follow_their_own_shortest_numbers(self):
        us_shortest = min(phonenumbers.PhoneMetadata.metadata_for_region("US").fixed_line.possible_length)  # 10
        nanp = "1212555" + "0100"
        longest = 1 + us_shortest - 4
        assert not parse_rate_deck(_deck(nanp[:longest]))[1]
        assert [e.field for e in parse_rate_deck(_deck(nanp[:longest + 1]))[1]] == ["prefix"]

    def test_an_unknown_country_code_may_have_eleven_digits(self):
        assert 999 not in phonenumbers.COUNTRY_CODE_TO_REGION_CODE
        longest = 15 - 4  # E.164's longest number less the 4 open digits
        assert not parse_rate_deck(_deck("999" + "1" * (longest - 3)))[1]
        assert [e.field for e in parse_rate_deck(_deck("999" + "1" * (longest - 2)))[1]] == ["prefix"]

    def test_the_shortest_number_a_prefix_starts_is_what_phonenumbers_calls_valid(self):
        """Checked against trying every completion of up to 3 digits, on random prefixes of four countries:
        wherever such a valid number exists, the rule finds the same shortest length."""
        rng = random.Random(20261207)
        for code in ("31", "49", "44", "1"):
            for _ in range(60):
                national = str(rng.randint(1, 9)) + "".join(rng.choice("0123456789") for _ in range(rng.randint(2, 5)))
                brute = next((len(national) + extra for extra in range(4) if any(
                    is_valid_e164(f"+{code}{national}{tail:0{extra}d}") for tail in range(10 ** extra)
                ) if extra or is_valid_e164(f"+{code}{national}")), None)
                found = _shortest_national(int(code), national)
                if brute is not None:
                    assert found == brute, (code, national)
                else:
                    assert found is None or found > len(national) + 3, (code, national)


class TariffPageRefusalTests:
    def test_the_staff_page_refuses_a_too_long_prefix_at_the_first_step(self, client, billing_staff):
        verified_client(client, billing_staff)
        for confirmed in ("", "1"):
            page = client.post("/calls/staff/tariffs/", {**FORM, "prefix": NARROW_PREFIX, "confirmed": confirmed})
            assert page.status_code == 400 and REFUSAL in page.content.decode()
            assert list(page.context["form"].errors) == ["prefix"]
        assert not Tariff.objects.exists()
        confirm = client.post("/calls/staff/tariffs/", {**FORM, "prefix": OK_PREFIX})
        assert confirm.status_code == 200 and "Yes, add this tariff" in confirm.content.decode()
        client.post("/calls/staff/tariffs/", {**FORM, "prefix": OK_PREFIX, "confirmed": "1"})
        assert Tariff.objects.get().prefix == OK_PREFIX

    def test_the_staff_page_refuses_a_zone_holding_a_number(self, client, billing_staff):
        verified_client(client, billing_staff)
        for zone in ("Mum +31 20 555 0101", "Mum (020) 555-0101", "Mum 0205550101"):
            page = client.post("/calls/staff/tariffs/", {**FORM, "prefix": "3120", "zone": zone})
            assert page.status_code == 400 and list(page.context["form"].errors) == ["zone"]
            assert "must not hold a phone number" in page.content.decode()
        plain = client.post("/calls/staff/tariffs/", {**FORM, "prefix": "3120", "zone": "Zone 2 (2026)"})
        assert plain.status_code == 200

    def test_a_rate_deck_with_a_too_long_prefix_is_refused_line_and_field_named(self, client, billing_staff):
        verified_client(client, billing_staff)
        upload = SimpleUploadedFile("deck.csv", _deck(NARROW_PREFIX).encode(), content_type="text/csv")
        page = client.post("/calls/staff/tariffs/rate-deck/", {"file": upload, "valid_from": "2026-06-01"})
        text = page.content.decode()
        assert page.status_code == 400 and REFUSAL in text and "Yes, apply" not in text
        assert [(e.line, e.field) for e in page.context["errors"]] == [(3, "prefix")]
        upload = SimpleUploadedFile("deck.csv", _deck(OK_PREFIX).encode(), content_type="text/csv")
        page = client.post("/calls/staff/tariffs/rate-deck/", {"file": upload, "valid_from": "2026-06-01"})
        assert page.status_code == 200
        numbered = parse_rate_deck(_deck("3120", "Mum 020-555 0101"))[1]
        assert [(e.line, e.field) for e in numbered] == [(3, "description")]
        assert not Tariff.objects.exists()


class TariffApiAndAdminRefusalTests:
    def test_the_api_refuses_both_with_a_400_naming_the_field(self, client, billing_staff):
        verified_client(client, billing_staff)
        body = {"prefix": NARROW_PREFIX, "zone": "Mum 020 555 0101", "price_per_minute": "0.01",
                "valid_from": "2026-02-01"}
        made = client.post("/api/v1/staff/tariffs/", body, content_type="application/json")
        assert made.status_code == 400 and {"prefix", "zone"} <= set(made.json())
        assert REFUSAL in made.json()["prefix"][0]
        deck = client.post("/api/v1/staff/tariffs/rate-deck/preview/", {"csv": _deck(NARROW_PREFIX),
                                                                         "valid_from": "2026-06-01"})
        assert deck.status_code == 400 and deck.json()["field"] == "prefix" and "Line 3" in deck.json()["detail"]
        ok = client.post("/api/v1/staff/tariffs/", {**body, "prefix": OK_PREFIX, "zone": "Amsterdam"},
                         content_type="application/json")
        assert ok.status_code == 201 and Tariff.objects.get().prefix == OK_PREFIX

    def test_the_admin_form_refuses_a_too_long_prefix(self, client, admin_user):
        verified_client(client, admin_user)
        form = {"zone": "Amsterdam", "price_per_minute": "0.01", "setup_fee": "0", "increment_first": "60",
                "increment_next": "60", "currency": "EUR", "valid_from": "2026-01-01"}
        page = client.post("/admin/traffic/tariff/add/", {**form, "prefix": NARROW_PREFIX})
        assert page.status_code == 200 and REFUSAL in page.content.decode() and not Tariff.objects.exists()
        assert client.post("/admin/traffic/tariff/add/", {**form, "prefix": OK_PREFIX}).status_code == 302


class StoredTariffCheckTests:
    def _check(self, *args: str) -> str:
        out, err = io.StringIO(), io.StringIO()
        call_command("check", *args, stdout=out, stderr=err)
        return out.getvalue() + err.getvalue()

    def test_the_database_check_lists_old_narrow_tariffs_by_id_not_by_number(self):
        # Made as they were before the rule: straight into the table, past the validators.
        narrow = Tariff.objects.create(prefix=AMSTERDAM, zone="Mum", price_per_minute=1, valid_from=date(2020, 1, 1))
        numbered = Tariff.objects.create(prefix="3120", zone="Mum 020 555 0101", price_per_minute=1,
                                         valid_from=date(2020, 1, 1))
        Tariff.objects.create(prefix=OK_PREFIX, zone="Amsterdam", price_per_minute=1, valid_from=date(2020, 1, 1))
        shown = self._check("--database", "default")
        assert "traffic.W001" in shown and f"{narrow.pk} (Mum)" in shown
        assert "traffic.W002" in shown and f"ids {numbered.pk}." in shown
        assert AMSTERDAM not in shown and "555 0101" not in shown and OK_PREFIX not in shown
        assert "traffic.W00" not in self._check()  # it reads the database, so only when asked to (and on migrate)

    def test_ending_an_old_narrow_tariff_is_the_remedy_the_check_asks_for(self, billing_staff):
        narrow = Tariff.objects.create(prefix=AMSTERDAM, zone="Mum", price_per_minute=1, valid_from=date(2020, 1, 1))
        assert "traffic.W001" in self._check("--database", "default")
        tariff_services.tariff_end(tariff=narrow, last_day=date(2020, 12, 31), actor=billing_staff)
        assert "traffic.W00" not in self._check("--database", "default")

    def test_the_check_is_quiet_when_every_tariff_keeps_to_the_rule(self):
        Tariff.objects.create(prefix=OK_PREFIX, zone="Amsterdam", price_per_minute=1, valid_from=date(2020, 1, 1))
        assert "traffic.W00" not in self._check("--database", "default")
