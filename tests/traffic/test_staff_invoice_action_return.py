"""After an action on billing staff's invoice list (mark paid, dispute, void, reissue, correct the address), the list
came back at its first page without its search: whoever worked through page 3 of "INV-2010" started over after each
click. Each action's form now carries the list's address (`return`), kept through the confirmation page, and the
action goes back there; an address that is not this site's list is not followed (the plain list instead)."""
from __future__ import annotations

import html
import re

import pytest

from tests.factories import verified_client
from tests.traffic.test_staff_invoice_paging import invoices_over_months
from traffic.models import Invoice

pytestmark = pytest.mark.django_db


@pytest.fixture
def many(alice, bob):
    return invoices_over_months(alice, bob)  # 230 invoices over 115 months, the oldest alice's

URL = "/calls/staff/invoices/"


def _second_page(client) -> tuple[str, str]:
    """(address, page) of the second page of open invoices numbered INV-20..."""
    first = client.get(URL, {"status": "open", "number": "INV-20"}).content.decode()
    link = html.unescape(re.search(r'<a rel="next" href="([^"]+)"', first).group(1))
    return URL + link, client.get(URL + link).content.decode()


class StaffInvoiceActionReturnTests:
    def test_marking_paid_on_a_later_page_returns_to_that_page_with_its_search(self, client, billing_staff, many):
        verified_client(client, billing_staff)
        where, page = _second_page(client)
        carried = re.findall(r'name="return" value="([^"]+)"', page)
        assert carried and {html.unescape(v) for v in carried} == {where}
        invoice = Invoice.objects.filter(status="open").order_by("period", "pk").first()
        action = f"{URL}{invoice.pk}/paid/"
        asked = client.post(action, {"return": where}).content.decode()  # the confirmation page carries it on
        assert 'name="return"' in asked and f'href="{html.escape(where)}"' in asked  # and Cancel goes back there
        done = client.post(action, {"return": where, "confirm": "yes"})
        assert done.status_code == 302 and done["Location"] == where
        assert Invoice.objects.get(pk=invoice.pk).status == "paid"
        back = client.get(done["Location"]).content.decode()
        assert f"Invoice {invoice.number} marked paid." in back and 'value="INV-20"' in back

    def test_the_address_correction_links_back_to_the_same_page(self, client, billing_staff, many):
        verified_client(client, billing_staff)
        where, page = _second_page(client)
        link = html.unescape(re.search(r'href="(/calls/staff/invoices/\d+/address/[^"]*)"', page).group(1))
        assert "return=" in link
        address_page = client.get(link).content.decode()
        assert f'href="{html.escape(where)}"' in address_page

    @pytest.mark.parametrize("elsewhere", ["https://evil.example/calls/staff/invoices/", "//evil.example/",
                                           "/calls/", "javascript:alert(1)"])
    def test_an_address_elsewhere_is_not_followed(self, client, billing_staff, many, elsewhere):
        verified_client(client, billing_staff)
        invoice = Invoice.objects.filter(status="open").first()
        done = client.post(f"{URL}{invoice.pk}/dispute/", {"return": elsewhere, "confirm": "yes"})
        assert done.status_code == 302 and done["Location"] == URL
