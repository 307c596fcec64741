from __future__ import annotations

import csv
import html
import io
from datetime import datetime, timezone
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied

from tests.factories import make_cdr, make_source, verified_client
from traffic.selectors import interconnection as selectors
from traffic.models import Source
from voipxs.privacy.purposes import Purpose

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 10, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def calls(alice, bob):
    kpn = make_source("pbx-kpn")
    Source.objects.filter(pk=kpn.pk).update(carrier="KPN trunk 1")
    other = make_source("pbx-2")
    make_cdr(account=alice, source=kpn, started_at=T0, billsec=60, price=Decimal("0.10"))
    make_cdr(account=bob, source=kpn, started_at=T0, billsec=30, price=Decimal("0.05"))
    make_cdr(account=bob, source=kpn, started_at=T0, disposition="busy", billsec=0, rating="free")
    make_cdr(account=alice, source=other, started_at=T0, billsec=10, price=Decimal("0.01"))
    make_cdr(account=alice, source=kpn, started_at=datetime(2026, 4, 1, 0, 0, 1, tzinfo=timezone.utc))


class InterconnectionReportTests:
    def test_it_sums_answered_calls_per_carrier_for_the_month(self, billing_staff, calls):
        rows = selectors.interconnection_report(actor=billing_staff, month=selectors.parse_month("2026-03"))
        assert [(r.carrier, r.source, r.calls, r.seconds, r.amount) for r in rows] == [
            ("", "pbx-2", 1, 10, Decimal("0.01")), ("KPN trunk 1", "pbx-kpn", 2, 90, Decimal("0.15"))]

    def test_a_row_stored_with_billsec_over_duration_counts_its_duration(self, billing_staff, alice):
        # Stored before the import capped billsec (the switch wrote more talk time than the whole call).
        make_cdr(account=alice, source=make_source("pbx-old"), started_at=T0, billsec=900, duration=45)
        rows = selectors.interconnection_report(actor=billing_staff, month=selectors.parse_month("2026-03"))
        assert [(r.source, r.calls, r.seconds) for r in rows] == [("pbx-old", 1, 45)]

    def test_it_refuses_other_roles(self, alice, legal1):
        for actor in (alice, legal1):
            with pytest.raises(PermissionDenied):
                selectors.interconnection_report(actor=actor, month=selectors.parse_month("2026-03"))

    def test_it_is_a_page_a_csv_and_an_api(self, client, billing_staff, calls):
        verified_client(client, billing_staff)
        page = client.get("/calls/staff/interconnection/?month=2026-03").content.decode()
        assert "KPN trunk 1" in page
        response = client.get("/calls/staff/interconnection/?month=2026-03&format=csv")
        rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
        assert rows[0] == ["carrier", "source", "calls", "seconds", "amount_eur"] and len(rows) == 3
        api = client.get("/api/v1/staff/interconnection/?month=2026-03").json()
        assert {r["source"] for r in api} == {"pbx-kpn", "pbx-2"}

    def test_it_rounds_half_up_to_the_cent_as_the_invoice_does_on_the_page_and_in_the_csv(self, client,
                                                                                            billing_staff):
        # 0.10000 + 0.02500 = 0.125: half to even made it €0.12 here while the invoice of the same calls said €0.13
        source = make_source("pbx-half")
        for price in ("0.10000", "0.02500"):
            make_cdr(account=billing_staff, source=source, started_at=T0, billsec=60, price=Decimal(price))
        verified_client(client, billing_staff)
        page = html.unescape(client.get("/calls/staff/interconnection/?month=2026-03").content.decode())
        assert '<td class="num">€0.13</td>' in page and "€0.12" not in page
        response = client.get("/calls/staff/interconnection/?month=2026-03&format=csv")
        rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
        assert rows[1][-1] == "0.13"

    def test_it_answers_a_bad_month_with_400(self, client, billing_staff):
        verified_client(client, billing_staff)
        assert client.get("/calls/staff/interconnection/?month=March").status_code == 400
        response = client.get("/api/v1/staff/interconnection/?month=2026-13")
        assert response.status_code == 400 and "month" in response.json()

    def test_it_is_closed_to_customers(self, client, alice):
        verified_client(client, alice)
        assert client.get("/calls/staff/interconnection/?month=2026-03").status_code == 403
        assert client.get("/api/v1/staff/interconnection/?month=2026-03").status_code == 403


class StaffInvoicePageTests:
    def test_it_marks_an_invoice_paid_from_the_page(self, client, billing_staff, alice):
        from datetime import date

        from traffic.services import invoices as invoicing

        make_cdr(account=alice, started_at=T0)
        invoice = invoicing.invoice_run(month=date(2026, 3, 1), today=date(2026, 4, 2))[0]
        verified_client(client, billing_staff)
        assert invoice.number in client.get("/calls/staff/invoices/").content.decode()
        asked = client.post(f"/calls/staff/invoices/{invoice.pk}/paid/")
        assert "Mark invoice" in asked.content.decode() and invoice.number in asked.content.decode()
        invoice.refresh_from_db()
        assert invoice.status == "open"  # the first POST only asks
        response = client.post(f"/calls/staff/invoices/{invoice.pk}/paid/", {"confirm": "yes"}, follow=True)
        assert "marked paid" in response.content.decode()
        invoice.refresh_from_db()
        assert invoice.status == "paid"
