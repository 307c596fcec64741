"""The invoice PDF a customer downloads again later says where the invoice stands. It used to end with "Please pay
€… by …" whatever had happened since: a paid invoice asked to be paid again, a void one (a dispute upheld) asked
for money no longer owed, a disputed one for the amount in dispute. Only an open invoice asks for payment now."""
from __future__ import annotations

import io
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from django.utils import translation
from pypdf import PdfReader

from tests.factories import make_cdr
from traffic.models import Invoice
from traffic.services import invoices as invoicing

pytestmark = pytest.mark.django_db

MARCH = date(2026, 3, 1)
PAID = "This invoice is paid; nothing more is owed on it."
DISPUTED = "This invoice is disputed; we tell you what is owed once the dispute is decided."
VOID = "This invoice is void; nothing is owed on it."


def _pdf_text(client, invoice: Invoice) -> str:
    response = client.get(f"/calls/invoices/{invoice.pk}/pdf/")
    assert response.status_code == 200
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    return " ".join(text.replace("\u00a0", " ").split())  # a sentence may wrap over two lines


@pytest.fixture
def invoice(alice) -> Invoice:
    make_cdr(account=alice, started_at=datetime(2026, 3, 10, 9, 0, tzinfo=timezone.utc), billsec=60,
             zone="NL mobile", price=Decimal("10.10"))
    return invoicing.invoice_run(month=MARCH, today=date(2026, 4, 1))[0]


class InvoicePdfStatusTests:
    def test_an_open_invoice_asks_for_payment(self, client, alice, invoice):
        client.force_login(alice)
        text = _pdf_text(client, invoice)
        assert "Please pay" in text and invoice.number in text

    def test_a_paid_invoice_does_not_ask_to_be_paid_again(self, client, alice, billing_staff, invoice):
        invoicing.invoice_mark_paid(invoice=invoice, actor=billing_staff)
        client.force_login(alice)
        text = _pdf_text(client, invoice)
        assert "Please pay" not in text and PAID in text

    def test_a_disputed_invoice_does_not_ask_for_the_amount_in_dispute(self, client, alice, billing_staff, invoice):
        invoicing.invoice_dispute(invoice=invoice, actor=billing_staff, today=date(2026, 4, 5))
        client.force_login(alice)
        text = _pdf_text(client, invoice)
        assert "Please pay" not in text and DISPUTED in text

    def test_a_void_invoice_asks_for_nothing(self, client, alice, billing_staff, invoice):
        invoicing.invoice_void(invoice=invoice, actor=billing_staff)
        client.force_login(alice)
        text = _pdf_text(client, invoice)
        assert "Please pay" not in text and VOID in text

    def test_in_dutch_a_paid_invoice_says_so_in_dutch(self, client, alice, billing_staff, invoice):
        invoicing.invoice_mark_paid(invoice=invoice, actor=billing_staff)
        client.force_login(alice)
        client.cookies["django_language"] = "nl"
        with translation.override("nl"):
            dutch = translation.gettext(PAID)
        text = _pdf_text(client, invoice)
        assert dutch != PAID and dutch in text
