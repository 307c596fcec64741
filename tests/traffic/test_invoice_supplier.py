"""An invoice names its supplier (VoIPXS: name, address, VAT and KvK numbers, IBAN) as they were when it was made
(Wet OB 1968 art. 35a: the supplier's details of the supply): they are fixed on the invoice, so its PDF does not
change when the company's details in the settings do, and a corrected invoice for the same month keeps the supplier
details of the invoice it corrects (the same supply), while an invoice for a later month names the new ones."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.test import override_settings

from tests.factories import make_cdr, verified_client
from tests.traffic.test_invoice_pdf import COMPANY, T0, _pdf_text
from traffic.services import invoices as invoicing

pytestmark = pytest.mark.django_db

MOVED = dict(INVOICE_COMPANY_NAME="Testbel Holding B.V.", INVOICE_COMPANY_ADDRESS="Damrak 1, 1012 LG Amsterdam",
             INVOICE_COMPANY_VAT_NUMBER="NL999999999B01", INVOICE_COMPANY_KVK_NUMBER="87654321",
             INVOICE_COMPANY_IBAN="NL91ABNA0417164300")


def _pdf(client, invoice) -> str:
    return _pdf_text(client.get(f"/calls/invoices/{invoice.pk}/pdf/").content)


class SupplierAtIssueTests:
    def test_a_corrected_invoice_keeps_the_supplier_of_the_invoice_it_corrects(self, client, alice, billing_staff):
        make_cdr(account=alice, started_at=T0, billsec=60, zone="NL mobile", price=Decimal("10.10"))
        with override_settings(**COMPANY):
            march = invoicing.invoice_run(month=date(2026, 3, 1), today=date(2026, 4, 1))[0]
        invoicing.invoice_void(invoice=march, actor=billing_staff)
        verified_client(client, alice)
        with override_settings(**MOVED):  # the company moved and changed its details after March
            corrected = invoicing.invoice_reissue(invoice=march, actor=billing_staff)
            make_cdr(account=alice, started_at=T0.replace(month=5), billsec=60, zone="NL mobile", price=Decimal("1"))
            may = invoicing.invoice_run(month=date(2026, 5, 1), today=date(2026, 6, 1))[0]
            texts = {name: _pdf(client, invoice) for name, invoice in
                     (("march", march), ("corrected", corrected), ("may", may))}
        for name in ("march", "corrected"):
            assert "Testbel B.V." in texts[name] and "Keizersgracht 99, 1015 CJ Amsterdam" in texts[name]
            assert "VAT number: NL123456789B01" in texts[name] and "12345678" in texts[name]
            assert "Damrak" not in texts[name] and "NL999999999B01" not in texts[name]
        assert "Testbel Holding B.V." in texts["may"] and "VAT number: NL999999999B01" in texts["may"]
        assert "IBAN: NL91ABNA0417164300" in texts["may"] and "Keizersgracht" not in texts["may"]
