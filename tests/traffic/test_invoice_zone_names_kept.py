"""An issued invoice is a legal document: the Dutch name of each line's zone is stored on the line when the invoice is
made (InvoiceLine.zone_nl, from the newest tariff of that zone with a Dutch name), so renaming the tariff's Dutch
name later changes new invoices only, never the page or PDF of one already issued. The freephone zone is named in
code and stays translated by the catalogue. traffic 0026 fills the existing lines as the pages named them before.
The call list still names zones from the tariffs (calls are not documents): test_zone_names_dutch."""
from __future__ import annotations

import io
import re
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from pypdf import PdfReader

from tests.factories import make_cdr, verified_client
from traffic.models import InvoiceLine, Tariff
from traffic.services import invoices as invoicing
from traffic.services.tariffs import tariff_admin_save, tariff_create

pytestmark = pytest.mark.django_db
MARCH, APRIL = date(2026, 3, 1), date(2026, 4, 1)
FREEPHONE = "NL freephone (0800)"


@pytest.fixture
def mobile(billing_staff) -> Tariff:
    return tariff_create(prefix="316", zone="NL mobile", zone_nl="NL mobiel", price_per_minute=Decimal("0.08"),
                         valid_from=date(2020, 1, 1), actor=billing_staff)


def _call(alice, day: date, zone: str = "NL mobile", price: str = "0.08") -> None:
    make_cdr(account=alice, started_at=datetime(day.year, day.month, 10, 9, 0, tzinfo=timezone.utc), billsec=60,
             zone=zone, price=Decimal(price))


def _invoice(alice, month: date):
    _call(alice, month)
    return invoicing.invoice_run(month=month, today=date(2026, 6, 1))[0]


def _page_zones(client, invoice) -> list[str]:
    page = client.get(f"/calls/invoices/{invoice.pk}/").content.decode()
    return re.findall(r'<th scope="row"[^>]*>([^<]*)</th>', page)


def _pdf_text(client, invoice) -> str:
    response = client.get(f"/calls/invoices/{invoice.pk}/pdf/")
    assert response.status_code == 200
    return " ".join("\n".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages).split())


def _rename(tariff: Tariff, zone_nl: str, actor) -> None:
    tariff.zone_nl = zone_nl
    tariff_admin_save(tariff=tariff, changed=["zone_nl"], actor=actor)


class InvoiceZoneNameKeptTests:
    def test_an_issued_invoice_keeps_the_dutch_name_it_was_made_with(self, client, alice, billing_staff, mobile):
        march = _invoice(alice, MARCH)
        _rename(mobile, "Mobiel Nederland", billing_staff)
        verified_client(client, alice)
        client.cookies["django_language"] = "nl"
        assert _page_zones(client, march) == ["NL mobiel"]
        pdf = _pdf_text(client, march)
        assert "NL mobiel" in pdf and "Mobiel Nederland" not in pdf

    def test_a_new_invoice_gets_the_new_name(self, client, alice, billing_staff, mobile):
        march = _invoice(alice, MARCH)
        _rename(mobile, "Mobiel Nederland", billing_staff)
        april = _invoice(alice, APRIL)
        verified_client(client, alice)
        client.cookies["django_language"] = "nl"
        assert _page_zones(client, april) == ["Mobiel Nederland"]
        assert "Mobiel Nederland" in _pdf_text(client, april)
        assert _page_zones(client, march) == ["NL mobiel"]

    def test_the_line_stores_the_newest_tariffs_dutch_name_and_none_without_one(self, alice, billing_staff, mobile):
        tariff_create(prefix="3161", zone="NL mobile", zone_nl="Mobiel NL", price_per_minute=Decimal("0.08"),
                      valid_from=date(2025, 1, 1), actor=billing_staff)
        tariff_create(prefix="3162", zone="NL mobile", price_per_minute=Decimal("0.08"), valid_from=date(2026, 1, 1),
                      actor=billing_staff)  # newer, but without a Dutch name
        _call(alice, MARCH, zone="Germany", price="0.04")
        invoice = _invoice(alice, MARCH)
        assert dict(InvoiceLine.objects.filter(invoice=invoice).values_list("zone", "zone_nl")) == {
            "NL mobile": "Mobiel NL", "Germany": ""}

    def test_an_english_reader_sees_the_zone_as_typed(self, client, alice, mobile):
        march = _invoice(alice, MARCH)
        verified_client(client, alice)
        client.cookies["django_language"] = "en"
        assert _page_zones(client, march) == ["NL mobile"]
        assert "NL mobiel" not in _pdf_text(client, march)

    def test_the_pdf_no_longer_reads_the_tariffs(self, client, alice, mobile):
        from django.test.utils import CaptureQueriesContext

        march = _invoice(alice, MARCH)
        verified_client(client, alice)
        client.cookies["django_language"] = "nl"
        with CaptureQueriesContext(connection) as queries:  # (the page's itemised calls still do: calls, not lines)
            assert client.get(f"/calls/invoices/{march.pk}/pdf/").status_code == 200
        assert [q for q in queries.captured_queries if '"traffic_tariff"' in q["sql"]] == []

    def test_the_freephone_zone_stays_named_by_the_catalogue(self, client, alice, billing_staff):
        tariff_create(prefix="31800", zone=FREEPHONE, zone_nl="Gratis typed", price_per_minute=Decimal("0"),
                      valid_from=date(2020, 1, 1), actor=billing_staff)
        make_cdr(account=alice, started_at=datetime(2026, 3, 10, 9, 0, tzinfo=timezone.utc), dst="+318001234",
                 zone=FREEPHONE, price=Decimal("0"))
        _call(alice, MARCH, zone="Germany", price="0.04")
        invoice = invoicing.invoice_run(month=MARCH, today=date(2026, 6, 1))[0]
        assert InvoiceLine.objects.get(invoice=invoice, zone=FREEPHONE).zone_nl == ""
        verified_client(client, alice)
        assert FREEPHONE in _page_zones(client, invoice)
        client.cookies["django_language"] = "nl"
        assert "NL gratis (0800)" in _page_zones(client, invoice) and "Gratis typed" not in _page_zones(client, invoice)


BEFORE, AFTER = [("traffic", "0025_tariff_zone_nl_index")], [("traffic", "0026_invoiceline_zone_nl")]


@pytest.mark.postgres  # migrating back and forth; SQLite's append-only audit trigger refuses the flush after it
@pytest.mark.django_db(transaction=True)
def test_the_migration_names_existing_lines_as_the_pages_did(alice):
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    apps = executor.loader.project_state(BEFORE).apps
    Tariff_, Invoice_, Line = (apps.get_model("traffic", name) for name in ("Tariff", "Invoice", "InvoiceLine"))
    for prefix, zone, zone_nl, start in (("316", "NL mobile", "Mobiel oud", date(2020, 1, 1)),
                                         ("3161", "NL mobile", "NL mobiel", date(2025, 1, 1)),
                                         ("3162", "NL mobile", "", date(2026, 1, 1)),
                                         ("31800", FREEPHONE, "Gratis typed", date(2020, 1, 1))):
        Tariff_.objects.create(prefix=prefix, zone=zone, zone_nl=zone_nl, price_per_minute=0, valid_from=start)
    invoice = Invoice_.objects.create(number="INV-1", account_id=alice.pk, period=MARCH, due_date=APRIL,
                                      dispute_window_ends=APRIL, calls_kept_until=APRIL)
    for zone in ("NL mobile", "Germany", FREEPHONE):
        Line.objects.create(invoice=invoice, zone=zone, month=MARCH, calls=1, seconds=60, amount=0)

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(AFTER)
    Line = executor.loader.project_state(AFTER).apps.get_model("traffic", "InvoiceLine")
    assert dict(Line.objects.values_list("zone", "zone_nl")) == {"NL mobile": "NL mobiel", "Germany": "",
                                                                  FREEPHONE: ""}

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())  # the test database as the other tests expect it
