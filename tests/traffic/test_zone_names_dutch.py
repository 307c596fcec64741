"""Tariff zone names on the Dutch pages: a zone is data (billing staff type it on the tariff, rating copies it onto
calls and invoice lines), so its Dutch name is typed beside it (Tariff.zone_nl) and the call list, the invoice page
and the invoice PDF show it to a Dutch reader; an English reader, the API and the stored rows keep the zone as typed.
The freephone zone is named in code and translated in the catalogue."""
from __future__ import annotations

import io
import re
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from pypdf import PdfReader

from tests.factories import make_cdr, verified_client
from traffic.models import InvoiceLine, Tariff
from traffic.services import invoices as invoicing
from traffic.services.tariffs import tariff_create

pytestmark = pytest.mark.django_db
MARCH = date(2026, 3, 1)


@pytest.fixture
def invoice(alice):
    tariff_create(prefix="316", zone="NL mobile", zone_nl="NL mobiel", price_per_minute=Decimal("0.08"),
                  valid_from=date(2020, 1, 1))
    make_cdr(account=alice, started_at=datetime(2026, 3, 10, 9, 0, tzinfo=timezone.utc), billsec=60,
             zone="NL mobile", price=Decimal("0.08"))
    return invoicing.invoice_run(month=MARCH, today=date(2026, 4, 1))[0]


def _zone_cells(body: str) -> list[str]:
    return re.findall(r'<td class="c-zone"[^>]*>([^<]*)</td>', body)


def _pdf_text(client, invoice) -> str:
    response = client.get(f"/calls/invoices/{invoice.pk}/pdf/")
    assert response.status_code == 200
    return " ".join("\n".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages).split())


class DutchZoneNameTests:
    def test_the_call_list_shows_the_dutch_name_to_a_dutch_reader(self, client, alice, invoice):
        verified_client(client, alice)
        assert _zone_cells(client.get("/calls/").content.decode()) == ["NL mobile"]
        client.cookies["django_language"] = "nl"
        assert _zone_cells(client.get("/calls/").content.decode()) == ["NL mobiel"]

    def test_the_invoice_page_and_pdf_show_it(self, client, alice, invoice):
        verified_client(client, alice)
        client.cookies["django_language"] = "nl"
        page = client.get(f"/calls/invoices/{invoice.pk}/").content.decode()
        assert re.search(r'<th scope="row"[^>]*>NL mobiel</th>', page)
        assert "NL mobiel" in _pdf_text(client, invoice) and "NL mobile" not in _pdf_text(client, invoice)
        client.cookies["django_language"] = "en"
        assert "NL mobile" in _pdf_text(client, invoice)

    def test_what_is_stored_and_the_api_keep_the_zone_as_typed(self, client, alice, invoice):
        verified_client(client, alice)
        client.cookies["django_language"] = "nl"
        assert InvoiceLine.objects.get(invoice=invoice).zone == "NL mobile"
        lines = client.get(f"/api/v1/me/invoices/{invoice.pk}/", HTTP_ACCEPT_LANGUAGE="nl").json()["lines"]
        assert [(line["zone"], line["zone_nl"]) for line in lines] == [("NL mobile", "NL mobiel")]

    def test_the_newest_tariffs_dutch_name_wins_and_a_zone_without_one_stays(self, client, alice, invoice):
        tariff_create(prefix="3161", zone="NL mobile", zone_nl="Mobiel NL", price_per_minute=Decimal("0.08"),
                      valid_from=date(2026, 1, 1))
        make_cdr(account=alice, started_at=datetime(2026, 3, 11, 9, 0, tzinfo=timezone.utc), zone="Germany",
                 price=Decimal("0.04"))
        verified_client(client, alice)
        client.cookies["django_language"] = "nl"
        assert sorted(_zone_cells(client.get("/calls/").content.decode())) == ["Germany", "Mobiel NL"]

    def test_billing_staff_type_the_dutch_name_with_the_tariff(self, client, billing_staff):
        verified_client(client, billing_staff)
        data = {"prefix": "49", "zone": "Germany", "zone_nl": "Duitsland", "price_per_minute": "0.04",
                "setup_fee": "0", "increment_first": "60", "increment_next": "60", "valid_from": "2026-05-01"}
        confirm = client.post("/calls/staff/tariffs/", data).content.decode()
        assert 'name="zone_nl" value="Duitsland"' in confirm  # carried through the confirmation
        assert client.post("/calls/staff/tariffs/", {**data, "confirmed": "1"}).status_code == 302
        assert Tariff.objects.get(prefix="49").zone_nl == "Duitsland"
        assert '<small lang="nl">Duitsland</small>' in client.get("/calls/staff/tariffs/").content.decode()


def test_the_freephone_zone_is_dutch_on_a_dutch_page(client, alice):
    make_cdr(account=alice, started_at=datetime(2026, 3, 10, 9, 0, tzinfo=timezone.utc), dst="+318001234",
             zone="NL freephone (0800)", price=Decimal("0"))
    verified_client(client, alice)
    client.cookies["django_language"] = "nl"
    assert _zone_cells(client.get("/calls/").content.decode()) == ["NL gratis (0800)"]


def _tariff_reads(client, path: str) -> list[str]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200
    return [q["sql"] for q in queries.captured_queries if '"traffic_tariff"' in q["sql"]]


def test_a_dutch_page_asks_only_for_the_zones_it_shows(client, alice, invoice):
    """A rate deck has thousands of tariffs: the call page reads the Dutch names of its own zones, not all of them."""
    for n in range(30):
        tariff_create(prefix=f"99{n:02}", zone=f"Zone {n}", zone_nl=f"Zone {n} NL", price_per_minute=Decimal("0.1"),
                      valid_from=date(2020, 1, 1))
    verified_client(client, alice)
    assert _tariff_reads(client, "/calls/") == []  # English: the zones as typed, no query
    client.cookies["django_language"] = "nl"
    (read,) = _tariff_reads(client, "/calls/")
    assert "'NL mobile'" in read.replace('"', "'") and "Zone 1" not in read


def test_a_page_of_freephone_calls_asks_for_no_dutch_names(client, alice):
    make_cdr(account=alice, started_at=datetime(2026, 3, 10, 9, 0, tzinfo=timezone.utc), dst="+318001234",
             zone="NL freephone (0800)", price=Decimal("0"))
    verified_client(client, alice)
    client.cookies["django_language"] = "nl"
    assert _tariff_reads(client, "/calls/") == []


def test_the_data_export_gives_each_invoice_line_its_dutch_name(alice, invoice):
    from traffic.sections import invoices_export

    (exported,) = [i for i in invoices_export(alice) if i["number"] == invoice.number]
    assert [(line["zone"], line["zone_nl"]) for line in exported["lines"]] == [("NL mobile", "NL mobiel")]
