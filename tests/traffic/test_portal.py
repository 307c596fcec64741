from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from tests.factories import make_cdr, verified_client
from traffic.services import invoices as invoicing
from voipxs.privacy.audit import AuditEntry

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 10, 9, 0, tzinfo=timezone.utc)


class CallHistoryPageTests:
    def test_it_shows_a_customer_only_own_calls(self, client, alice, mallory):
        make_cdr(account=alice, dst="+31699993678", started_at=T0)
        make_cdr(account=mallory, src="+31205550999", dst="+31699995777", started_at=T0)
        body = verified_client(client, alice).get("/calls/").content.decode()
        assert "+31699993678" in body
        assert "+31699995777" not in body and "+31205550999" not in body

    def test_it_escapes_a_hostile_caller_name(self, client, alice):
        make_cdr(account=alice, direction="in", src="+31699993678", dst="+31205550101", started_at=T0,
                 caller_name='<script>alert("x")</script>')
        body = verified_client(client, alice).get("/calls/").content.decode()
        assert "<script>alert" not in body
        assert "&lt;script&gt;alert" in body

    def test_it_pages_with_an_opaque_older_link_and_no_count(self, client, alice):
        for i in range(55):
            make_cdr(account=alice, started_at=T0 - timedelta(minutes=i))
        verified_client(client, alice)
        first = client.get("/calls/").content.decode()
        match = re.search(r'href="\?after=([^"]+)"', first)
        assert match, "an older → link"
        # No masked number on it: no character beyond Latin-1, so Python builds and encodes the page one byte a
        # character (an arrow in the pager made every page two bytes a character).
        assert max(map(ord, first)) < 0x100
        second = client.get(f"/calls/?after={match.group(1)}")
        assert second.status_code == 200
        assert second.content.decode().count('<td class="num c-dur"><time datetime="PT60S">1:00</time></td>') == 5

    def test_it_filters_a_month_and_keeps_the_filter_on_the_older_link(self, client, alice):
        make_cdr(account=alice, dst="+31699991111", started_at=T0)
        make_cdr(account=alice, dst="+31699994222", started_at=T0 - timedelta(days=40))
        body = verified_client(client, alice).get("/calls/?since=2026-03-01&until=2026-03-31").content.decode()
        assert "+31699991111" in body and "+31699994222" not in body

    def test_it_answers_bad_filters_with_400_naming_the_field(self, client, alice):
        verified_client(client, alice)
        response = client.get("/calls/?since=2026-13-45")
        assert response.status_code == 400 and "since-error" in response.content.decode()
        response = client.get("/calls/?number=hello")
        assert response.status_code == 400 and "id_number-error" in response.content.decode()
        assert client.get("/calls/?after=%%%garbage").status_code == 400

    def test_it_asks_strangers_to_sign_in(self, client):
        assert client.get("/calls/").status_code == 302


class InvoicePageTests:
    @pytest.fixture
    def invoice(self, alice):
        make_cdr(account=alice, dst="+31699993678", started_at=T0, price=Decimal("0.10"))
        return invoicing.invoice_run(month=date(2026, 3, 1), today=date(2026, 4, 2))[0]

    def test_it_masks_called_numbers_until_the_owner_asks(self, client, alice, invoice):
        verified_client(client, alice)
        masked = client.get(f"/calls/invoices/{invoice.pk}/").content.decode()
        assert "+31699993•••" in masked and "+31699993678" not in masked
        full = client.get(f"/calls/invoices/{invoice.pk}/?full=1").content.decode()
        assert "+31699993678" in full
        assert AuditEntry.objects.filter(action="cdr.list", extra__masked=False).exists()

    def test_it_hides_another_users_invoice(self, client, mallory, invoice):
        assert verified_client(client, mallory).get(f"/calls/invoices/{invoice.pk}/").status_code == 404

    def test_it_pages_a_long_itemised_bill_with_a_way_back_to_the_first_page(self, client, alice, invoice):
        for i in range(100):  # 101 calls on the invoice: the page shows 100
            make_cdr(account=alice, dst="+31699992000", started_at=T0 - timedelta(minutes=i + 1), invoice=invoice)
        verified_client(client, alice)
        first = client.get(f"/calls/invoices/{invoice.pk}/").content.decode()
        older = re.search(r'href="\?after=([^"]+)"', first)
        assert older and "newest</a>" not in first
        second = client.get(f"/calls/invoices/{invoice.pk}/?after={older.group(1)}").content.decode()
        assert second.count("+31699992•••") == 1 and "newest</a>" in second and 'rel="next"' not in second

    def test_it_lists_own_invoices(self, client, alice, mallory, invoice):
        assert invoice.number in verified_client(client, alice).get("/calls/invoices/").content.decode()
        client.logout()
        assert invoice.number not in verified_client(client, mallory).get("/calls/invoices/").content.decode()


class UsagePageTests:
    def test_it_draws_bars_with_a_table_fallback(self, client, alice):
        from django.utils.timezone import now

        make_cdr(account=alice, started_at=now() - timedelta(minutes=5), billsec=600)
        body = verified_client(client, alice).get("/calls/usage/").content.decode()
        assert "<svg" in body and 'role="img"' in body and "<rect" in body
        assert "<table" in body and ">10</td>" in body  # 10 minutes


class HomeLinksTests:
    def test_it_links_the_pages_from_the_home_pages(self, client, alice):
        body = verified_client(client, alice).get("/").content.decode()
        assert 'href="/calls/"' in body and 'href="/calls/invoices/"' in body
