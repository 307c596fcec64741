"""The invoice API shows an invoice's disputes (traffic.InvoiceDispute) as the portal's invoice page does: when each was
opened and by whom, whether it is still open, when it was decided and how. Read-only, and never what was written (the
reason is personal data, in the customer's data export and on the pages only). A customer sees their own invoice's
disputes only (another's invoice is not found); billing staff see each invoice's in their invoice list."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils.timezone import now

from tests.factories import verified_client
from tests.retention.helpers import make_invoice
from traffic.models import Invoice
from traffic.services import invoices as invoicing
from traffic.services.invoice_disputes import invoice_customer_dispute

pytestmark = pytest.mark.django_db

FIRST = "The call of 4 May is not mine."
SECOND = "The corrected total is still too high."
BOBS = "Bob's reason, for bob only."
FIELDS = {"opened_at", "raised_by", "status", "decided_at", "outcome"}


def _open_invoice(account, months_back: int = 3) -> Invoice:
    period = (now().date() - timedelta(days=31 * months_back)).replace(day=1)
    return make_invoice(account=account, period=period, status="open", window_ends=now().date() + timedelta(days=30))


@pytest.fixture
def disputed_twice(alice, billing_staff) -> Invoice:
    invoice = _open_invoice(alice)
    invoice_customer_dispute(invoice=invoice, actor=alice, reason=FIRST)
    invoicing.invoice_resolve_dispute(invoice=invoice, actor=billing_staff, resolution="rejected")
    return invoice_customer_dispute(invoice=invoice, actor=alice, reason=SECOND)


@pytest.fixture
def bobs(bob) -> Invoice:
    return invoice_customer_dispute(invoice=_open_invoice(bob), actor=bob, reason=BOBS)


def _shape(disputes: list[dict]) -> list[tuple]:
    return [(d["raised_by"], d["status"], d["decided_at"] is not None, d["outcome"]) for d in disputes]


class CustomerInvoiceDisputesApiTests:
    def test_the_customer_sees_each_dispute_of_their_invoice(self, client, alice, disputed_twice, bobs):
        verified_client(client, alice)
        response = client.get(f"/api/v1/me/invoices/{disputed_twice.pk}/")
        assert response.status_code == 200
        disputes = response.json()["disputes"]
        assert [set(d) for d in disputes] == [FIELDS, FIELDS]
        assert _shape(disputes) == [("customer", "decided", True, "rejected"), ("customer", "open", False, None)]
        assert disputes[0]["opened_at"] <= disputes[0]["decided_at"] <= disputes[1]["opened_at"]

    def test_what_was_written_is_not_in_the_api(self, client, alice, disputed_twice):
        body = verified_client(client, alice).get(f"/api/v1/me/invoices/{disputed_twice.pk}/").content.decode()
        assert FIRST not in body and SECOND not in body and '"reason"' not in body

    def test_a_customer_sees_only_their_own_invoices_disputes(self, client, alice, bob, disputed_twice, bobs):
        verified_client(client, alice)
        assert client.get(f"/api/v1/me/invoices/{bobs.pk}/").status_code == 404
        undisputed = _open_invoice(alice, 4)
        assert client.get(f"/api/v1/me/invoices/{undisputed.pk}/").json()["disputes"] == []
        assert len(client.get(f"/api/v1/me/invoices/{disputed_twice.pk}/").json()["disputes"]) == 2
        client.logout()
        verified_client(client, bob)
        assert client.get(f"/api/v1/me/invoices/{disputed_twice.pk}/").status_code == 404
        assert _shape(client.get(f"/api/v1/me/invoices/{bobs.pk}/").json()["disputes"]) == [
            ("customer", "open", False, None)]

    def test_it_is_read_only(self, client, alice, disputed_twice):
        verified_client(client, alice)
        url = f"/api/v1/me/invoices/{disputed_twice.pk}/"
        for method in (client.put, client.patch, client.post, client.delete):
            assert method(url, {"disputes": []}, content_type="application/json").status_code == 405


class StaffInvoiceDisputesApiTests:
    def test_billing_sees_each_invoices_disputes_in_the_list(self, client, billing_staff, disputed_twice, bobs):
        verified_client(client, billing_staff)
        response = client.get("/api/v1/staff/invoices/")
        assert response.status_code == 200
        by_number = {row["number"]: row["disputes"] for row in response.json()["results"]}
        assert _shape(by_number[disputed_twice.number]) == [("customer", "decided", True, "rejected"),
                                                            ("customer", "open", False, None)]
        assert _shape(by_number[bobs.number]) == [("customer", "open", False, None)]
        assert not any(words in response.content.decode() for words in (FIRST, SECOND, BOBS))

    def test_the_list_reads_the_disputes_of_a_page_at_once(self, client, billing_staff, bob, disputed_twice, bobs):
        verified_client(client, billing_staff)
        few = _queries(client)
        for months_back in (4, 5, 6):
            invoice_customer_dispute(invoice=_open_invoice(bob, months_back), actor=bob, reason=BOBS)
        assert _queries(client) == few  # 5 invoices, 6 disputes: as many queries as 2 invoices with 3


def _queries(client) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/v1/staff/invoices/").status_code == 200
    return len(queries.captured_queries)


def test_the_schema_documents_the_disputes(client, alice):
    verified_client(client, alice)
    schema = client.get("/api/schema/?format=json").json()["components"]["schemas"]
    detail = schema["InvoiceDetailOutput"]["properties"]["disputes"]
    dispute = schema[detail["items"]["$ref"].rsplit("/", 1)[1]]
    assert set(dispute["properties"]) == FIELDS and detail.get("readOnly") is True
    assert "disputes" in schema["StaffInvoice"]["properties"]
