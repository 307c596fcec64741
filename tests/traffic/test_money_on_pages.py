"""Money is written one way on every page (voipxs/money.py): the euro sign first, in the page's language (English
"€6.04", Dutch "€ 6,04" with a no-break space), two decimals for what is owed (invoices, usage, interconnection),
four for a call's price and a tariff's rate (five where a rate has a fifth). Invoices once read "EUR 6,04" beside a
call list's "0,6100"."""
from __future__ import annotations

import html
import re
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.test import override_settings
from django.utils import translation

from tests.factories import make_cdr, verified_client
from tests.traffic.test_invoice_pdf import COMPANY
from traffic.services import invoices as invoicing
from traffic.services import tariffs as tariff_services
from voipxs.money import RATE, money

T0 = datetime(2026, 3, 10, 9, 0, tzinfo=timezone.utc)
NL = "€\u00a0"  # the Dutch sign and its no-break space


def _cells(response) -> list[str]:
    """The amounts in a staff list's table cells (a {% stacked_table %} labels each cell)."""
    return re.findall(r'<td class="num"[^>]*>(-?€[^<]*)</td>', _page(response))


def _page(response) -> str:
    """The page as read: the euro sign and the no-break space are entities in its source (it stays Latin-1)."""
    return html.unescape(response.content.decode())


def _in(language: str, amount, places=2) -> str:
    with translation.override(language):
        return money(Decimal(amount), places)


class MoneyTests:
    def test_english_and_dutch(self):
        assert (_in("en", "6.04"), _in("nl", "6.04")) == ("€6.04", NL + "6,04")
        assert (_in("en", "1249.3"), _in("nl", "1249.3")) == ("€1,249.30", NL + "1.249,30")
        assert (_in("en", "-6.04"), _in("nl", "-6.04")) == ("-€6.04", NL + "-6,04")
        assert _in("en", "-0.001") == "€0.00"  # rounded to nothing, not a debt of "-€0.00"
        assert (_in("en", "1234.625"), _in("en", "0.00005", 4)) == ("€1,234.63", "€0.0001")  # half up, as invoices

    def test_calls_keep_four_decimals_and_rates_five_where_they_have_them(self):
        assert (_in("en", "0.61", 4), _in("nl", "0.0015", 4)) == ("€0.6100", NL + "0,0015")
        assert (_in("en", "0.06", RATE), _in("en", "0.01235", RATE)) == ("€0.0600", "€0.01235")

    def test_nothing_for_nothing_and_a_currency_code_otherwise(self):
        with translation.override("en"):
            assert money(None) == "" and money(Decimal("6.04"), 2, "USD") == "USD 6.04"

    def test_no_template_writes_a_currency_code_before_an_amount(self):
        root = Path(settings.BASE_DIR) / "templates"
        found = [str(p.relative_to(root)) for p in root.rglob("*.html")
                 if re.search(r"EUR \{\{|\.currency \}\}\s*\{\{", p.read_text(encoding="utf-8"))]
        assert found == []


    def test_no_table_heading_names_the_currency_its_cells_show(self):
        # "Price (EUR)" above "€0.6100": the sign in each cell says it; CSV, JSON and API keep theirs ("amount_eur")
        root = Path(settings.BASE_DIR) / "templates"
        found = [str(p.relative_to(root)) for p in root.rglob("*.html")
                 if re.search(r"<th[^>]*>[^<]*(\(EUR\)|\(€\))", p.read_text(encoding="utf-8"))]
        assert found == []

@pytest.mark.django_db
class MoneyOnPagesTests:
    @pytest.fixture
    def invoice(self, alice):
        make_cdr(account=alice, started_at=T0, billsec=60, zone="NL mobile", price=Decimal("0.61"))
        make_cdr(account=alice, started_at=T0, billsec=30, zone="Germany fixed", price=Decimal("1234.015"))
        with override_settings(**COMPANY):
            return invoicing.invoice_run(month=date(2026, 3, 1), today=date(2026, 4, 1))[0]

    @pytest.mark.parametrize("language, total, vat, call", [("en", "€1,493.90", "€259.27", "€0.6100"),
                                                             ("nl", NL + "1.493,90", NL + "259,27", NL + "0,6100")])
    def test_the_invoice_and_its_calls_in_one_format(self, client, alice, invoice, language, total, vat, call):
        verified_client(client, alice)
        client.cookies["django_language"] = language
        listed = _page(client.get("/calls/invoices/"))
        detail = _page(client.get(f"/calls/invoices/{invoice.pk}/"))
        calls = _page(client.get("/calls/"))
        assert re.search(rf'<td class="num"[^>]*>{re.escape(total)}</td>', listed)  # a card's cell on a phone
        assert f'<dd class="num">{total}</dd>' in detail and f'<dd class="num">{vat}</dd>' in detail
        assert f'<td class="num c-price">{call}</td>' in calls
        for page in (listed, detail, calls):
            assert not re.search(r"EUR\s*[\d-]", page)

    def test_billing_staff_see_the_same_format(self, client, billing_staff, invoice):
        tariff_services.tariff_create(prefix="49", zone="Germany", price_per_minute=Decimal("0.01235"),
                                      valid_from=date(2026, 1, 1), actor=billing_staff)
        verified_client(client, billing_staff)
        assert _cells(client.get("/calls/staff/invoices/")) == ["€1,493.90"]
        assert _cells(client.get("/calls/staff/tariffs/")) == ["€0.01235", "€0.0000"]  # per minute, set-up fee
        interconnection = _page(client.get("/calls/staff/interconnection/?month=2026-03"))
        # 0.61 + 1234.015 rounded half up, as the invoice's subtotal of the same calls (€1,234.63)
        assert '<td class="num">€1,234.63</td></tr></tfoot>' in interconnection
        asked = client.post(f"/calls/staff/invoices/{invoice.pk}/paid/").content.decode()
        assert f"Invoice {invoice.number} (total €1,493.90) is recorded as paid" in asked

    def test_the_amount_columns_are_headed_price_and_amount(self, client, alice, billing_staff, invoice):
        verified_client(client, alice)
        calls, usage = _page(client.get("/calls/")), _page(client.get("/calls/usage/"))
        assert '<th scope="col" class="num c-price price">Price</th>' in calls
        assert '<th scope="col" class="num price">Amount</th>' in usage
        verified_client(client, billing_staff)
        interconnection = _page(client.get("/calls/staff/interconnection/?month=2026-03"))
        assert '<th scope="col" class="num price">Amount</th>' in interconnection
        assert not any("(EUR)" in page for page in (calls, usage, interconnection))

    def test_the_amount_columns_are_headed_in_dutch(self, client, alice, invoice):
        verified_client(client, alice)
        client.cookies["django_language"] = "nl"
        assert '<th scope="col" class="num c-price price">Prijs</th>' in _page(client.get("/calls/"))
        assert '<th scope="col" class="num price">Bedrag</th>' in _page(client.get("/calls/usage/"))

    def test_the_usage_page(self, client, alice):
        make_cdr(account=alice, started_at=datetime.now(timezone.utc), billsec=600, price=Decimal("1.5"))
        verified_client(client, alice)
        client.cookies["django_language"] = "nl"
        assert f'<td class="num">{NL}1,50</td>' in _page(client.get("/calls/usage/"))

    def test_a_tariffs_confirmation_and_a_rate_decks_preview(self, client, billing_staff):
        from django.core.files.uploadedfile import SimpleUploadedFile

        tariff_services.tariff_create(prefix="316", zone="NL mobile", price_per_minute=Decimal("0.06"),
                                      valid_from=date(2026, 1, 1), actor=billing_staff)
        verified_client(client, billing_staff)
        asked = _page(client.post("/calls/staff/tariffs/", {
            "prefix": "49", "zone": "Germany", "price_per_minute": "0.05", "setup_fee": "0.01235",
            "increment_first": "60", "increment_next": "60", "valid_from": "2026-02-01"}))
        assert "at €0.0500 per minute, set-up fee €0.01235, increments 60/60" in asked
        deck = SimpleUploadedFile("deck.csv", b"prefix,description,rate,increments\n316,NL mobile,0.045,1/1\n")
        preview = _page(client.post("/calls/staff/tariffs/rate-deck/", {"file": deck, "valid_from": "2026-06-01"}))
        # the preview is a stacked table (cards on a phone): each cell carries its column's heading
        assert '<td class="num" data-label="Now" role="cell">€0.0600 (60/60)</td>' in preview
        assert '<td class="num" data-label="New" role="cell">€0.0450 (1/1)</td>' in preview
