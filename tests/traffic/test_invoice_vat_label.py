"""The VAT line of an invoice reads the same on its page and in its PDF, in each language: "VAT 21%" in English
(not "VAT 21.00%" on the page beside "VAT 21%" in the PDF), "Btw 21%" in Dutch; a rate with a fraction keeps it
("VAT 20.5%", "Btw 20,5%"). The API and the exports keep the plain decimal ("21.00")."""
from __future__ import annotations

import html
import re
from decimal import Decimal

import pytest
from django.test import override_settings
from django.utils import translation

from tests.factories import verified_client
from tests.traffic.test_invoice_pdf import COMPANY, _pdf_text, invoice  # noqa: F401  (the invoice fixture)
from voipxs.money import vat_percent

pytestmark = pytest.mark.django_db


def _page_and_pdf(client, alice, invoice, language: str) -> tuple[str, str]:  # noqa: F811
    verified_client(client, alice)
    client.cookies["django_language"] = language
    page = html.unescape(client.get(f"/calls/invoices/{invoice.pk}/").content.decode()).replace("\u00a0", " ")
    with override_settings(**COMPANY):
        pdf = _pdf_text(client.get(f"/calls/invoices/{invoice.pk}/pdf/").content)
    return re.sub(r"<[^>]+>", " ", page), pdf


class VatLabelTests:
    def test_english_page_and_pdf_say_vat_21_percent(self, client, alice, invoice):  # noqa: F811
        page, pdf = _page_and_pdf(client, alice, invoice, "en")
        assert "VAT 21%" in page and "VAT 21%" in pdf
        assert "21.00%" not in page and "21.00%" not in pdf

    def test_dutch_page_and_pdf_say_btw_21_percent(self, client, alice, invoice):  # noqa: F811
        page, pdf = _page_and_pdf(client, alice, invoice, "nl")
        assert "Btw 21%" in page and "Btw 21%" in pdf  # capitalised at the head of its line, as "Btw-nummer"

    def test_the_dutch_page_and_pdf_write_the_rate_alike(self, client, alice, invoice):  # noqa: F811
        page, pdf = _page_and_pdf(client, alice, invoice, "nl")
        assert "21%" in page and "21%" in pdf and "21,00%" not in page

    def test_a_rate_with_a_fraction_keeps_it_in_each_language(self):
        with translation.override("en"):
            assert (vat_percent(Decimal("21.00")), vat_percent(Decimal("20.50")), vat_percent(Decimal("9"))) == (
                "21", "20.5", "9")
        with translation.override("nl"):
            assert vat_percent(Decimal("20.50")) == "20,5"
