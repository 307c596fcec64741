"""Billing staff's invoice list pages by keyset (newest month first, as the call pages do: traffic/_pager.html), so
every invoice is reachable however many there are; before, the page stopped at the 200 newest with nothing to
say so. Its filters (status, invoice number) hold from page to page, and a broken page link is a 400 that says so."""
from __future__ import annotations

import html
import re
from datetime import date

import pytest

from tests.factories import verified_client
from traffic.models import Invoice
from traffic.partitions import add_months

pytestmark = pytest.mark.django_db

URL = "/calls/staff/invoices/"


@pytest.fixture
def many(alice, bob) -> list[Invoice]:
    return invoices_over_months(alice, bob)


def invoices_over_months(alice, bob) -> list[Invoice]:
    """230 invoices over 115 months, two accounts a month; the oldest (2010-01) is alice's."""
    made = []
    for n in range(115):
        month = add_months(date(2010, 1, 1), n)
        for account in (alice, bob):
            made.append(Invoice(number=f"INV-{month:%Y%m}-{account.pk:06d}", account=account, period=month,
                                due_date=month, dispute_window_ends=month, calls_kept_until=month,
                                status=Invoice.Status.PAID if n % 3 else Invoice.Status.OPEN))
    return Invoice.objects.bulk_create(made)


def _numbers(page: str) -> list[str]:
    return re.findall(r"<td[^>]*>(INV-\d{6}-\d{6})</td>", page)


def _older(page: str) -> str | None:
    found = re.search(r'<a rel="next" href="([^"]+)"', page)
    return html.unescape(found.group(1)) if found else None


class StaffInvoicePagingTests:
    def test_every_invoice_is_reached_page_by_page_newest_first(self, client, billing_staff, many):
        verified_client(client, billing_staff)
        seen, link, pages = [], "", 0
        while link is not None:
            response = client.get(URL + link)
            assert response.status_code == 200
            page = response.content.decode()
            assert len(_numbers(page)) <= 50
            seen += _numbers(page)
            link, pages = _older(page), pages + 1
        expected = [i.number for i in sorted(many, key=lambda i: (i.period, i.pk), reverse=True)]
        assert seen == expected and pages == 5  # 230 invoices, 50 a page
        assert seen[-1] == f"INV-201001-{many[0].account_id:06d}"

    def test_the_filters_hold_on_the_next_page(self, client, billing_staff, many):
        verified_client(client, billing_staff)
        first = client.get(URL, {"status": "open"}).content.decode()
        link = _older(first)
        assert link is not None and "status=open" in link
        second = client.get(URL + link).content.decode()
        opened = {i.number for i in many if i.status == "open"}
        assert set(_numbers(first) + _numbers(second)) <= opened and len(_numbers(second)) > 0

    def test_an_invoice_is_found_by_its_number(self, client, billing_staff, many):
        verified_client(client, billing_staff)
        page = client.get(URL, {"number": "inv-201001"}).content.decode()
        assert sorted(_numbers(page)) == sorted(i.number for i in many if i.period == date(2010, 1, 1))
        assert _older(page) is None

    def test_a_broken_page_link_is_a_400_that_says_so(self, client, billing_staff, many):
        verified_client(client, billing_staff)
        response = client.get(URL, {"after": "not-a-cursor"})
        assert response.status_code == 400 and "This page link is not valid" in response.content.decode()
