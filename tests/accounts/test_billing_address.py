"""The name and address invoices are made out to (a Dutch invoice must name the customer and their
address): set by the customer, or by the Contractor's admin for its Users, checked as Dutch
postcodes are written, copied onto each invoice when it is issued and printed on its PDF."""
from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from django.test import override_settings

from accounts.models import BillingAddress
from accounts.services.billing_address import billing_address_set
from tests.factories import make_cdr, verified_client
from tests.traffic.test_invoice_pdf import COMPANY, _pdf_text
from traffic.services import invoices as invoicing
from voipxs.exceptions import ApplicationError
from voipxs.privacy.models import AuditEntry

pytestmark = pytest.mark.django_db

URL = "/accounts/billing-address/"
ADDRESS = {"name": "Alice de Vries", "street": "Prinsengracht", "house_number": "263 hs", "postcode": "1016gv",
           "town": "Amsterdam", "country": "NL"}
MARCH = date(2026, 3, 1)
T0 = datetime(2026, 3, 10, 9, 0, tzinfo=timezone.utc)


def _invoice_of(account):
    make_cdr(account=account, started_at=T0, billsec=60, zone="NL mobile", price=Decimal("10.00"))
    with override_settings(**COMPANY):
        return invoicing.invoice_run(month=MARCH, today=date(2026, 4, 1))[0]


class ServiceTests:
    def test_a_dutch_postcode_is_stored_as_people_write_it(self, alice):
        address = billing_address_set(actor=alice, user=alice, **ADDRESS)
        address.refresh_from_db()
        assert (address.postcode, address.house_number) == ("1016 GV", "263 hs")

    @pytest.mark.parametrize(("field", "value"), [("postcode", "1016 G"), ("postcode", "0123 AB"), ("street", " "),
                                                  ("name", ""), ("country", "XX")])
    def test_a_bad_field_is_refused_with_its_name(self, alice, field, value):
        with pytest.raises(ApplicationError) as refused:
            billing_address_set(actor=alice, user=alice, **{**ADDRESS, field: value})
        assert refused.value.extra["field"] == field and not BillingAddress.objects.exists()

    def test_a_belgian_postcode_is_not_held_to_the_dutch_format(self, alice):
        billing_address_set(actor=alice, user=alice, **{**ADDRESS, "postcode": "1000", "country": "BE"})
        assert BillingAddress.objects.get(user=alice).postcode == "1000"

    def test_a_contractors_user_cannot_set_it_and_the_admin_sets_the_contractors(self, bob, acme_admin):
        with pytest.raises(ApplicationError):
            billing_address_set(actor=bob, user=bob, **ADDRESS)
        billing_address_set(actor=acme_admin, user=acme_admin, **{**ADDRESS, "name": "Acme B.V."})
        address = BillingAddress.objects.get()
        assert address.contractor_id == bob.contractor_id and address.user_id is None

    def test_the_audit_log_says_who_changed_it_never_what(self, alice):
        billing_address_set(actor=alice, user=alice, **ADDRESS)
        entry = AuditEntry.objects.get(action="billing_address.set")
        assert "Prinsengracht" not in str(entry.extra) and "Vries" not in str(entry.extra)


class PageTests:
    def test_the_customer_enters_it_and_sees_it(self, client, alice):
        c = verified_client(client, alice)
        assert "No invoice address yet" in c.get(URL).content.decode()
        response = c.post(URL, ADDRESS)
        assert response.status_code == 302
        page = c.get(URL).content.decode()
        assert "Alice de Vries" in page and "Prinsengracht 263 hs" in page and "1016 GV Amsterdam" in page

    def test_a_wrong_postcode_is_shown_at_the_field_and_nothing_is_saved(self, client, alice):
        response = verified_client(client, alice).post(URL, {**ADDRESS, "postcode": "1016"})
        body = response.content.decode()
        assert response.status_code == 400 and "like 1234 AB" in body and 'aria-invalid="true"' in body
        assert not BillingAddress.objects.exists()

    def test_the_page_is_in_dutch(self, client, alice):
        c = verified_client(client, alice)
        client.cookies["django_language"] = "nl"
        body = c.post(URL, {**ADDRESS, "postcode": "1016"}).content.decode()
        assert "Factuuradres" in body and "Postcode" in body and "bijvoorbeeld 1234 AB" in body

    def test_a_contractors_user_sees_the_contractors_address_and_cannot_change_it(self, client, bob, acme_admin):
        billing_address_set(actor=acme_admin, user=acme_admin, **{**ADDRESS, "name": "Acme B.V."})
        c = verified_client(client, bob)
        page = c.get(URL).content.decode()
        assert "Acme B.V." in page and "administrator manages" in page and "<form method=\"post\" class=\"form\"" not in page
        assert c.post(URL, ADDRESS).status_code == 403


class InvoiceTests:
    def test_the_invoice_and_its_pdf_carry_the_name_and_address(self, client, alice):
        billing_address_set(actor=alice, user=alice, **ADDRESS)
        invoice = _invoice_of(alice)
        assert invoice.customer_name == "Alice de Vries"
        assert invoice.customer_address.splitlines() == ["Prinsengracht 263 hs", "1016 GV Amsterdam"]
        with override_settings(**COMPANY):
            pdf = verified_client(client, alice).get(f"/calls/invoices/{invoice.pk}/pdf/").content
        text = _pdf_text(pdf)
        assert "Alice de Vries" in text and "Prinsengracht 263 hs" in text and "1016 GV Amsterdam" in text
        assert "no address on file" not in text
        read = AuditEntry.objects.filter(action="billing_address.get", purpose="billing")
        assert read.count() == 1  # the invoice run's read, under billing

    def test_a_later_change_leaves_the_issued_invoice_as_it_was(self, alice):
        billing_address_set(actor=alice, user=alice, **ADDRESS)
        invoice = _invoice_of(alice)
        billing_address_set(actor=alice, user=alice, **{**ADDRESS, "street": "Herengracht", "house_number": "1"})
        invoice.refresh_from_db()
        assert invoice.customer_address.startswith("Prinsengracht 263 hs")

    def test_a_contractors_users_invoice_carries_the_contractors_address(self, bob, acme_admin):
        billing_address_set(actor=acme_admin, user=acme_admin, **{**ADDRESS, "name": "Acme B.V.",
                                                                   "street": "Damrak", "house_number": "1",
                                                                   "postcode": "1012 LG"})
        invoice = _invoice_of(bob)
        assert invoice.customer_name == "Acme B.V." and invoice.customer_address.startswith("Damrak 1\n1012 LG")

    def test_without_an_address_the_pdf_says_none_is_on_file(self, client, alice):
        invoice = _invoice_of(alice)
        with override_settings(**COMPANY):
            text = _pdf_text(verified_client(client, alice).get(f"/calls/invoices/{invoice.pk}/pdf/").content)
        assert invoice.customer_name == "alice" and "(no address on file)" in text
