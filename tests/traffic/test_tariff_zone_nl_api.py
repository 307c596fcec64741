"""A tariff's Dutch zone name (Tariff.zone_nl) through the tariffs API and the rate deck, as the staff tariff form
takes it: optional, at most 60 characters, no phone number in it (traffic.tariff_rules.validate_zone_text, it is
printed on Dutch invoices). The API shows it and documents it; a bad one is a 400 naming the field. A rate deck takes
it as an optional fifth column, `description_nl`; a deck without that column keeps the Dutch names as they are."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.factories import verified_client
from traffic.models import Tariff
from traffic.rate_deck import parse_rate_deck
from traffic.services import tariffs as tariff_services

pytestmark = pytest.mark.django_db

TARIFFS = "/api/v1/staff/tariffs/"
PREVIEW, APPLY = "/api/v1/staff/tariffs/rate-deck/preview/", "/api/v1/staff/tariffs/rate-deck/apply/"
NEW = {"prefix": "49", "zone": "Germany", "price_per_minute": "0.03", "valid_from": "2026-02-01"}
NUMBER = "Duitsland 020 555 1234"
DECK_NL = "prefix,description,rate,increments,description_nl\n316,NL mobile,0.0450,1/1,NL mobiel\n49,Germany,0.03,60/60,\n"


@pytest.fixture
def mobile(billing_staff) -> Tariff:
    return tariff_services.tariff_create(prefix="316", zone="NL mobile", zone_nl="Mobiel", actor=billing_staff,
                                         price_per_minute=Decimal("0.06"), valid_from=date(2026, 1, 1))


def _apply(client, deck: str, valid_from: str = "2026-06-01"):
    preview = client.post(PREVIEW, {"csv": deck, "valid_from": valid_from})
    assert preview.status_code == 200, preview.json()
    return preview.json(), client.post(APPLY, {"csv": deck, "valid_from": valid_from,
                                               "confirm": preview.json()["confirm"]})


class TariffApiZoneNlTests:
    def test_billing_adds_a_tariff_with_its_dutch_name_and_sees_it_listed(self, client, billing_staff):
        verified_client(client, billing_staff)
        made = client.post(TARIFFS, {**NEW, "zone_nl": "Duitsland"}, content_type="application/json")
        assert made.status_code == 201 and made.json()["zone_nl"] == "Duitsland"
        assert Tariff.objects.get(prefix="49").zone_nl == "Duitsland"
        assert [t["zone_nl"] for t in client.get(TARIFFS).json()] == ["Duitsland"]

    def test_it_is_optional(self, client, billing_staff):
        verified_client(client, billing_staff)
        made = client.post(TARIFFS, NEW, content_type="application/json")
        assert made.status_code == 201 and made.json()["zone_nl"] == ""

    @pytest.mark.parametrize("bad", [NUMBER, "x" * 61, "Duits\x00land"])
    def test_a_bad_dutch_name_is_a_400_naming_the_field(self, client, billing_staff, bad):
        verified_client(client, billing_staff)
        response = client.post(TARIFFS, {**NEW, "zone_nl": bad}, content_type="application/json")
        assert response.status_code == 400 and list(response.json()) == ["zone_nl"]
        assert not Tariff.objects.exists()

    def test_the_schema_documents_it(self, client, billing_staff):
        verified_client(client, billing_staff)
        schemas = client.get("/api/schema/?format=json").json()["components"]["schemas"]
        request = client.get("/api/schema/?format=json").json()["paths"]["/api/v1/staff/tariffs/"]["post"]
        body = request["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
        assert "zone_nl" in schemas[body]["properties"] and "zone_nl" not in schemas[body].get("required", [])
        assert "zone_nl" in schemas["TariffOutput"]["properties"]


class RateDeckZoneNlTests:
    def test_the_deck_reads_an_optional_dutch_description(self):
        rows, errors = parse_rate_deck(DECK_NL)
        assert errors == [] and [(r.prefix, r.description_nl) for r in rows] == [("316", "NL mobiel"), ("49", "")]
        rows, errors = parse_rate_deck("316,NL mobile,0.0450,1/1\n")
        assert errors == [] and rows[0].description_nl is None  # no column: not given

    def test_a_bad_dutch_description_is_named_at_its_line(self, client, billing_staff):
        rows, errors = parse_rate_deck(f"316,NL mobile,0.0450,1/1,{'x' * 61}\n49,Germany,0.03,60/60,{NUMBER}\n")
        assert [(e.line, e.field) for e in errors] == [(1, "description_nl"), (2, "description_nl")]
        verified_client(client, billing_staff)
        response = client.post(PREVIEW, {"csv": f"49,Germany,0.03,60/60,{NUMBER}\n", "valid_from": "2026-06-01"})
        assert response.status_code == 400 and response.json()["field"] == "description_nl"
        page = client.post("/calls/staff/tariffs/rate-deck/", {
            "valid_from": "2026-06-01", "file": SimpleUploadedFile("deck.csv", f"49,Germany,0.03,60/60,{NUMBER}\n".encode())})
        assert page.status_code == 400 and "description_nl" in page.content.decode()

    def test_applying_the_deck_sets_the_dutch_names(self, client, billing_staff, mobile):
        verified_client(client, billing_staff)
        preview, applied = _apply(client, DECK_NL)
        assert [c["description_nl"] for c in preview["changes"]] == ["NL mobiel", ""]
        assert applied.status_code == 201
        new = Tariff.objects.filter(valid_from=date(2026, 6, 1))
        assert dict(new.values_list("prefix", "zone_nl")) == {"316": "NL mobiel", "49": ""}

    def test_a_new_dutch_name_alone_is_a_change(self, client, billing_staff, mobile):
        verified_client(client, billing_staff)
        preview, applied = _apply(client, "316,NL mobile,0.06,60/60,Mobiel Nederland\n")
        assert preview["counts"]["unchanged"] == 0 and applied.status_code == 201
        assert Tariff.objects.filter(prefix="316").order_by("-valid_from")[0].zone_nl == "Mobiel Nederland"

    def test_a_deck_without_the_column_keeps_the_dutch_name(self, client, billing_staff, mobile):
        verified_client(client, billing_staff)
        preview, applied = _apply(client, "316,NL mobile,0.0450,1/1\n")
        assert preview["changes"][0]["description_nl"] is None and applied.status_code == 201
        assert Tariff.objects.filter(prefix="316").order_by("-valid_from")[0].zone_nl == "Mobiel"
        assert _apply(client, "316,NL mobile,0.0450,1/1\n", "2026-07-01")[0]["counts"]["unchanged"] == 1

    def test_the_preview_page_shows_the_dutch_description(self, client, billing_staff):
        verified_client(client, billing_staff)
        page = client.post("/calls/staff/tariffs/rate-deck/", {
            "valid_from": "2026-06-01", "file": SimpleUploadedFile("deck.csv", DECK_NL.encode())})
        assert page.status_code == 200 and '<small lang="nl">NL mobiel</small>' in page.content.decode()
