"""Billing staff correct a customer's invoice address from one of their invoices (the gap noted with
issue 13): they see the address the invoice was issued with beside the one on file, change it only after
a confirmation naming what changes and what does not, by the same rules as the customer, audited under
their name; a corrected invoice then carries it. Nobody else reaches the page."""
from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from django.test import override_settings

from accounts.models import BillingAddress
from accounts.services.billing_address import billing_address_set
from tests.factories import make_cdr, verified_client
from tests.traffic.test_invoice_pdf import COMPANY, _pdf_text
from traffic.invoice_pdf import invoice_pdf_bytes
from traffic.services import invoices as invoicing
from voipxs.confirm import CONFIRM_FIELD, CONFIRM_VALUE
from voipxs.privacy.models import AuditEntry

pytestmark = pytest.mark.django_db

ADDRESS = {"name": "Alice de Vries", "street": "Prinsengracht", "house_number": "263 hs", "postcode": "1016 GV",
           "town": "Amsterdam", "country": "NL"}
MOVED = {**ADDRESS, "street": "Herengracht", "house_number": "1", "postcode": "1015bz"}
T0 = datetime(2026, 3, 10, 9, 0, tzinfo=timezone.utc)


def _invoice_of(account):
    make_cdr(account=account, started_at=T0, billsec=60, zone="NL mobile", price=Decimal("10.00"))
    with override_settings(**COMPANY):
        return invoicing.invoice_run(month=date(2026, 3, 1), today=date(2026, 4, 1))[0]


def _url(invoice) -> str:
    return f"/calls/staff/invoices/{invoice.pk}/address/"


class StaffInvoiceAddressTests:
    def test_staff_see_the_issued_and_the_current_address_side_by_side(self, client, alice, billing_staff):
        billing_address_set(actor=alice, user=alice, **ADDRESS)
        invoice = _invoice_of(alice)
        billing_address_set(actor=alice, user=alice, **MOVED)
        listing = verified_client(client, billing_staff).get("/calls/staff/invoices/").content.decode()
        assert _url(invoice) in listing
        page = client.get(_url(invoice)).content.decode()
        assert "Prinsengracht 263 hs" in page and "Herengracht 1" in page  # as issued, and on file now
        assert AuditEntry.objects.filter(action="billing_address.get", purpose="billing").exists()

    def test_a_correction_asks_first_then_changes_only_the_next_invoices(self, client, alice, billing_staff):
        billing_address_set(actor=alice, user=alice, **ADDRESS)
        invoice = _invoice_of(alice)
        staff = verified_client(client, billing_staff)
        asked = staff.post(_url(invoice), MOVED)
        assert asked.status_code == 200 and "Please confirm" in asked.content.decode()
        assert "keep the address they were issued with" in asked.content.decode()
        assert BillingAddress.objects.get().street == "Prinsengracht"  # nothing changed yet
        done = staff.post(_url(invoice), {**MOVED, CONFIRM_FIELD: CONFIRM_VALUE}, follow=True)
        assert "The invoice address is corrected" in done.content.decode()
        stored = BillingAddress.objects.get(user=alice)
        assert (stored.street, stored.postcode) == ("Herengracht", "1015 BZ")
        entry = AuditEntry.objects.get(action="billing_address.set", extra__by="billing")
        assert "Herengracht" not in str(entry.extra) and entry.actor != "billing"  # a pseudonym, no address
        invoice.refresh_from_db()
        assert invoice.customer_address.startswith("Prinsengracht 263 hs")  # the issued invoice stands
        # The customer sees it on their own page.
        client.logout()
        assert "Herengracht 1" in verified_client(client, alice).get("/accounts/billing-address/").content.decode()

    def test_a_corrected_invoice_carries_the_corrected_address(self, client, alice, billing_staff):
        billing_address_set(actor=alice, user=alice, **ADDRESS)
        invoice = _invoice_of(alice)
        verified_client(client, billing_staff).post(_url(invoice), {**MOVED, CONFIRM_FIELD: CONFIRM_VALUE})
        invoicing.invoice_void(invoice=invoice, actor=billing_staff)
        with override_settings(**COMPANY):
            corrected = invoicing.invoice_reissue(invoice=invoice, actor=billing_staff)
            text = _pdf_text(invoice_pdf_bytes(corrected, list(corrected.lines.all())))
        assert corrected.customer_address.startswith("Herengracht 1\n1015 BZ Amsterdam")
        assert "Herengracht 1" in text and "Prinsengracht" not in text

    def test_a_bad_postcode_is_named_and_nothing_is_asked_or_stored(self, client, alice, billing_staff):
        invoice = _invoice_of(alice)
        response = verified_client(client, billing_staff).post(_url(invoice), {**MOVED, "postcode": "10155"})
        body = response.content.decode()
        assert response.status_code == 400 and "Please confirm" not in body
        assert "four digits and two letters" in body and 'aria-invalid="true"' in body
        assert not BillingAddress.objects.exists()

    def test_a_contractors_user_shows_and_corrects_the_contractors_address(self, client, bob, acme_admin, billing_staff):
        billing_address_set(actor=acme_admin, user=acme_admin, **{**ADDRESS, "name": "Acme B.V."})
        invoice = _invoice_of(bob)
        staff = verified_client(client, billing_staff)
        assert "User of the Contractor" in staff.get(_url(invoice)).content.decode()
        asked = staff.post(_url(invoice), {**MOVED, "name": "Acme B.V."}).content.decode()
        assert "every User of this Contractor" in asked
        staff.post(_url(invoice), {**MOVED, "name": "Acme B.V.", CONFIRM_FIELD: CONFIRM_VALUE})
        assert BillingAddress.objects.get(contractor=acme_admin.contractor).street == "Herengracht"

    def test_only_billing_staff_reach_it(self, client, alice, support, billing_staff):
        invoice = _invoice_of(alice)
        assert verified_client(client, alice).get(_url(invoice)).status_code == 403
        client.logout()
        assert verified_client(client, support).get(_url(invoice)).status_code == 403
        assert verified_client(client, support).post(_url(invoice), {**MOVED, CONFIRM_FIELD: CONFIRM_VALUE}).status_code == 403
        assert not BillingAddress.objects.exists()

    def test_the_page_is_dutch_for_a_dutch_session(self, client, alice, billing_staff):
        invoice = _invoice_of(alice)
        page = verified_client(client, billing_staff).get(_url(invoice), HTTP_ACCEPT_LANGUAGE="nl").content.decode()
        assert "Factuuradres" in page and "Correct the address" not in page
