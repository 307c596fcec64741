"""The invoice address follows the account's other user data: in the data download (the user's own, not
a Contractor's), gone when the account is anonymised or erased, while each issued invoice keeps its own
copy for the fiscal retention; a corrected invoice carries the address on file (else the replaced one's)."""
from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from django.test import override_settings

from accounts.models import AccountCloseReason, BillingAddress
from accounts.services.billing_address import billing_address_set
from accounts.services.closing import account_anonymise, account_close
from tests.accounts.dsr_helpers import schema_def_validate
from tests.factories import make_cdr
from tests.traffic.test_invoice_pdf import COMPANY
from traffic.models import Invoice
from traffic.services import invoices as invoicing
from voipxs.privacy.purposes import PURPOSES, Purpose
from voipxs.privacy.register import processing_register
from voipxs.privacy.registry import sections

pytestmark = pytest.mark.django_db

ADDRESS = {"name": "Alice de Vries", "street": "Prinsengracht", "house_number": "263 hs", "postcode": "1016 GV",
           "town": "Amsterdam", "country": "NL"}
MARCH, APRIL = date(2026, 3, 1), date(2026, 4, 1)
T0 = datetime(2026, 3, 10, 9, 0, tzinfo=timezone.utc)


def _invoice_of(account) -> Invoice:
    make_cdr(account=account, started_at=T0, billsec=60, zone="NL mobile", price=Decimal("10.00"))
    with override_settings(**COMPANY):
        return invoicing.invoice_run(month=MARCH, today=APRIL)[0]


def _exported(user) -> list[dict]:
    return list(next(s for s in sections() if s.name == "billing_address").exporter(user))


class BillingAddressRetentionTests:
    def test_anonymising_the_closed_account_removes_it_and_the_invoice_keeps_its_copy(self, alice, billing_staff):
        billing_address_set(actor=alice, user=alice, **ADDRESS)
        invoice = _invoice_of(alice)
        account_close(user=alice, actor=billing_staff, reason=AccountCloseReason.CONTRACT_ENDED)
        account_anonymise(user=alice, actor=billing_staff, kept=[])
        assert not BillingAddress.objects.exists()
        invoice.refresh_from_db()
        assert invoice.customer_name == "Alice de Vries" and invoice.customer_address.startswith("Prinsengracht 263 hs")

    def test_a_contractors_address_stays_when_one_of_its_users_goes(self, bob, acme_admin, billing_staff):
        billing_address_set(actor=acme_admin, user=acme_admin, **{**ADDRESS, "name": "Acme B.V."})
        account_close(user=bob, actor=billing_staff, reason=AccountCloseReason.CONTRACT_ENDED)
        account_anonymise(user=bob, actor=billing_staff, kept=[])
        assert BillingAddress.objects.get().contractor_id == acme_admin.contractor_id

    def test_a_corrected_invoice_carries_the_address_on_file_now(self, alice, billing_staff):
        """A wrong or old address is a reason to correct an invoice: the correction, issued now, carries
        the address on file now (billing staff may just have corrected it)."""
        billing_address_set(actor=alice, user=alice, **ADDRESS)
        invoice = _invoice_of(alice)
        billing_address_set(actor=alice, user=alice, **{**ADDRESS, "street": "Herengracht", "house_number": "1"})
        invoicing.invoice_void(invoice=invoice, actor=billing_staff)
        corrected = invoicing.invoice_reissue(invoice=invoice, actor=billing_staff)
        assert corrected.replaces_id == invoice.pk
        assert corrected.customer_address.startswith("Herengracht 1")
        invoice.refresh_from_db()
        assert invoice.customer_address.startswith("Prinsengracht 263 hs")  # the void one keeps its own

    def test_without_an_address_on_file_the_correction_keeps_the_replaced_ones(self, alice, billing_staff):
        billing_address_set(actor=alice, user=alice, **ADDRESS)
        invoice = _invoice_of(alice)
        BillingAddress.objects.all().delete()  # as anonymising the account does
        invoicing.invoice_void(invoice=invoice, actor=billing_staff)
        corrected = invoicing.invoice_reissue(invoice=invoice, actor=billing_staff)
        assert (corrected.customer_name, corrected.customer_address) == (invoice.customer_name, invoice.customer_address)


class BillingAddressExportTests:
    def test_the_download_holds_the_users_own_address_as_the_schema_says(self, alice):
        billing_address_set(actor=alice, user=alice, **ADDRESS)
        rows = _exported(alice)
        assert [(r["name"], r["postcode"], r["country"]) for r in rows] == [("Alice de Vries", "1016 GV", "NL")]
        schema_def_validate(rows[0], "billing_address")

    def test_a_contractors_address_is_not_in_its_users_download(self, bob, acme_admin):
        billing_address_set(actor=acme_admin, user=acme_admin, **{**ADDRESS, "name": "Acme B.V."})
        assert _exported(bob) == [] and _exported(acme_admin) == []


class BillingAddressRegisterTests:
    def test_the_register_names_it_under_billing_with_its_retention(self):
        assert any("address on the invoice" in c for c in PURPOSES[Purpose.BILLING].data_categories)
        billing = next(a for a in processing_register()["activities"] if a["purpose"] == "billing")
        assert "billing_address" in billing["categories_held"] and "invoice address" in billing["retention"]
        category = next(c for c in processing_register()["categories"] if c["category"] == "billing_address")
        assert "7 years" in category["retention"] and "contract" in category["legal_basis"]
