"""Invoices customers can file: VAT on the invoice and in the API, and a PDF holding what a Dutch
invoice must carry, read back with pypdf and compared with what the API returns."""
from __future__ import annotations

import io
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from django.test import override_settings
from django.utils.timezone import localtime
from pypdf import PdfReader

from tests.factories import make_cdr, verified_client
from traffic.models import Invoice
from traffic.services import invoices as invoicing
from voipxs.privacy.models import AuditEntry

pytestmark = pytest.mark.django_db

MARCH = date(2026, 3, 1)
T0 = datetime(2026, 3, 10, 9, 0, tzinfo=timezone.utc)
COMPANY = dict(INVOICE_COMPANY_NAME="Testbel B.V.", INVOICE_COMPANY_ADDRESS="Keizersgracht 99, 1015 CJ Amsterdam",
               INVOICE_COMPANY_VAT_NUMBER="NL123456789B01", INVOICE_COMPANY_KVK_NUMBER="12345678",
               INVOICE_VAT_RATE=Decimal("21.00"))


def _pdf_text(content: bytes) -> str:
    assert content.startswith(b"%PDF-")
    # a no-break space (after the euro sign in Dutch) read as a space
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages).replace("\u00a0", " ")


@pytest.fixture
def invoice(alice) -> Invoice:
    make_cdr(account=alice, started_at=T0, billsec=60, zone="NL mobile", price=Decimal("10.10"))
    make_cdr(account=alice, started_at=T0, billsec=120, zone="NL mobile", price=Decimal("5.20"))
    make_cdr(account=alice, started_at=T0, billsec=30, zone="Germany fixed", price=Decimal("1234.015"))
    with override_settings(**COMPANY):
        return invoicing.invoice_run(month=MARCH, today=date(2026, 4, 1))[0]


class VatTests:
    def test_the_invoice_charges_vat_on_the_net_subtotal_at_the_configured_rate(self, invoice):
        # lines 15.30 + 1234.02 = 1249.32 net; 21 % = 262.3572 -> 262.36; due 1511.68
        assert invoice.subtotal == Decimal("1249.32")
        assert (invoice.vat_rate, invoice.vat_amount, invoice.total) == (Decimal("21.00"), Decimal("262.36"), Decimal("1511.68"))
        assert invoice.customer_name == "alice"

    def test_the_rate_is_a_setting_and_fixed_on_the_invoice_when_made(self, alice, bob):
        make_cdr(account=bob, started_at=T0, price=Decimal("100"))
        with override_settings(INVOICE_VAT_RATE=Decimal("9")):
            made = invoicing.invoice_run(month=MARCH, today=date(2026, 4, 1))[0]
        assert (made.vat_rate, made.vat_amount, made.total) == (Decimal("9"), Decimal("9.00"), Decimal("109.00"))
        assert made.customer_name == "Acme BV"  # a contractor's User: the Contractor is the customer
        made.refresh_from_db()
        assert made.vat_rate == Decimal("9.00")  # changing the setting later changes no invoice

    def test_the_api_returns_net_vat_and_total(self, client, alice, invoice):
        verified_client(client, alice)
        body = client.get(f"/api/v1/me/invoices/{invoice.pk}/").json()
        assert (body["subtotal"], body["vat_rate"], body["vat_amount"], body["total"]) == ("1249.32", "21.00", "262.36", "1511.68")
        listed = client.get("/api/v1/me/invoices/").json()[0]
        assert listed["vat_amount"] == "262.36" and listed["total"] == "1511.68"


class InvoicePdfTests:
    def test_the_pdf_holds_the_legal_fields_and_the_vat_lines_and_totals_the_api_returns(self, client, alice, invoice):
        verified_client(client, alice)
        api = client.get(f"/api/v1/me/invoices/{invoice.pk}/").json()
        with override_settings(**COMPANY):
            response = client.get(f"/api/v1/me/invoices/{invoice.pk}/pdf/", HTTP_ACCEPT="application/pdf")
        assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"] == f'attachment; filename="{invoice.number}.pdf"'
        text = _pdf_text(response.content)
        # supplier: name, address, VAT and KvK numbers
        for expected in ("Testbel B.V.", "Keizersgracht 99, 1015 CJ Amsterdam", "VAT number: NL123456789B01",
                         "Chamber of Commerce (KvK): 12345678"):
            assert expected in text
        # invoice number, date, period, customer
        assert f"Invoice number {api['number']}" in text
        issued = localtime(invoice.issued_at)  # its day in Amsterdam
        assert f"Invoice date {issued.day} {issued:%b %Y}" in text  # 4 Dec 2026: no 12/04 to misread
        assert "Period March 2026" in text
        assert "Invoice to\nalice" in text
        # the lines, VAT and totals exactly as the API has them (English number format: 1,249.32)
        for line in api["lines"]:
            assert f"{line['zone']} {line['calls']} {line['seconds']} €{Decimal(line['amount']):,.2f}" in text
        assert f"Subtotal excl. VAT €{Decimal(api['subtotal']):,.2f}" in text
        assert f"VAT 21% €{Decimal(api['vat_amount']):,.2f}" in text
        assert f"Total incl. VAT €{Decimal(api['total']):,.2f}" in text
        assert "€1,511.68" in text and "EUR" not in text  # money as on the pages (voipxs/money.py)

    def test_the_pdf_is_in_dutch_for_a_dutch_reader(self, client, alice, invoice):
        verified_client(client, alice)
        client.cookies["django_language"] = "nl"
        with override_settings(**COMPANY):
            text = _pdf_text(client.get(f"/calls/invoices/{invoice.pk}/pdf/", HTTP_ACCEPT_LANGUAGE="nl").content)
        assert "Btw-nummer: NL123456789B01" in text and "KvK-nummer: 12345678" in text
        assert "Btw 21% € 262,36" in text and "Totaal incl. btw € 1.511,68" in text
        assert "Factuurnummer" in text and "maart 2026" in text

    def test_the_page_links_the_pdf_and_shows_the_vat(self, client, alice, invoice):
        verified_client(client, alice)
        page = client.get(f"/calls/invoices/{invoice.pk}/").content.decode()
        assert f'href="/calls/invoices/{invoice.pk}/pdf/"' in page
        assert "VAT 21%" in page and "&euro;262.36" in page and "&euro;1,511.68" in page
        assert f'href="/calls/invoices/{invoice.pk}/pdf/"' in client.get("/calls/invoices/").content.decode()

    def test_each_download_is_audited_and_no_one_else_gets_it(self, client, alice, mallory, invoice):
        verified_client(client, alice)
        assert client.get(f"/calls/invoices/{invoice.pk}/pdf/").status_code == 200
        entry = AuditEntry.objects.filter(action="invoice.pdf").get()
        assert (entry.purpose, entry.target_id, entry.outcome) == ("self_service", str(invoice.pk), "ok")
        client.logout()
        verified_client(client, mallory)
        assert client.get(f"/calls/invoices/{invoice.pk}/pdf/").status_code == 404
        assert client.get(f"/api/v1/me/invoices/{invoice.pk}/pdf/").status_code == 404
        client.logout()
        assert client.get(f"/api/v1/me/invoices/{invoice.pk}/pdf/").status_code in (401, 403)

    def test_a_name_outside_latin_1_does_not_break_the_pdf(self, client, alice, invoice):
        Invoice.objects.filter(pk=invoice.pk).update(customer_name="Zoë Ŝtraße 東京", customer_address="Dorpsstraat 1\n1234 AB Ergens")
        verified_client(client, alice)
        text = _pdf_text(client.get(f"/calls/invoices/{invoice.pk}/pdf/").content)
        assert "Zoë ?traße ??" in text and "Dorpsstraat 1\n1234 AB Ergens" in text


class InvoiceDateTests:
    def test_the_pdf_dates_the_invoice_on_the_same_amsterdam_day_as_the_page(self, client, alice, invoice):
        # made at 23:30 UTC on 7 December: 00:30 on 8 December in Amsterdam, the day the page shows
        Invoice.objects.filter(pk=invoice.pk).update(issued_at=datetime(2026, 12, 7, 23, 30, tzinfo=timezone.utc))
        verified_client(client, alice)
        page = client.get(f"/calls/invoices/{invoice.pk}/").content.decode()
        assert "8 December 2026" in page
        text = _pdf_text(client.get(f"/calls/invoices/{invoice.pk}/pdf/").content)
        assert "Invoice date 8 Dec 2026" in text
        assert "Invoice date 7 Dec 2026" not in text
