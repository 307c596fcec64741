"""A call stored before the import capped billsec at the call's duration kept the price the import gave it for the
switch's impossible billsec: the invoice line counted its seconds capped (test_invoice_billsec_capped.py) but still
charged the amount of the uncapped ones, and so did the usage page, the interconnection report, the itemised bill and
the call CSV. Such a row is now charged for its duration at most (its price × duration / billsec, as the per-second
rating of its capped seconds), wherever it is summed or shown; the stored row is not rewritten. A call the hourly
re-rating prices later is priced for its duration and stored so, and is not cut a second time."""
from __future__ import annotations

import csv
import io
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from tests.factories import make_cdr, make_source, verified_client
from tests.traffic.test_invoice_pdf import _pdf_text
from traffic.models import Cdr, Tariff
from traffic.selectors import interconnection
from traffic.selectors.calls import cdr_usage_by_month
from traffic.services import invoices as invoicing
from traffic.services.rating import cdr_rate_pending
from voipxs.privacy.purposes import Purpose

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 10, 9, 0, tzinfo=timezone.utc)
MARCH = date(2026, 3, 1)


@pytest.fixture
def calls(alice) -> Cdr:
    """One cent a second: a call of 61 s, and one stored the old way, 90 s billed of a 20 s call, priced 0.90."""
    make_cdr(account=alice, source=make_source("pbx-old"), started_at=T0, billsec=61, duration=66,
             price=Decimal("0.61"))
    return make_cdr(account=alice, source=make_source("pbx-old"), started_at=T0.replace(hour=10), billsec=90,
                    duration=20, price=Decimal("0.90"))


class InvoicePriceCappedTests:
    def test_the_invoice_charges_the_old_row_for_its_duration(self, client, alice, calls):
        invoice = invoicing.invoice_run(month=MARCH, today=date(2026, 4, 2))[0]
        [line] = invoice.lines.all()
        assert (line.seconds, line.amount, invoice.subtotal) == (81, Decimal("0.81"), Decimal("0.81"))
        verified_client(client, alice)
        page = client.get(f"/calls/invoices/{invoice.pk}/").content.decode()
        assert '<td class="num">81</td><td class="num">&euro;0.81</td>' in page and "1.51" not in page
        # its itemised bill: the old call for 20 seconds at 0.20, as the line counts it
        assert '<td class="num c-dur"><time datetime="PT20S">0:20</time></td>' in page and 'datetime="PT90S"' not in page
        assert "0.2000" in page and "0.9000" not in page
        pdf = _pdf_text(client.get(f"/calls/invoices/{invoice.pk}/pdf/").content)
        assert "0.81" in pdf and "1.51" not in pdf
        stored = Cdr.objects.get(pk=calls.pk)
        assert (stored.billsec, stored.price) == (90, Decimal("0.90000"))  # the row is not rewritten

    def test_a_reissue_charges_it_the_same_way(self, alice, billing_staff, calls):
        invoice = invoicing.invoice_run(month=MARCH, today=date(2026, 4, 2))[0]
        invoicing.invoice_void(invoice=invoice, actor=billing_staff)
        invoice.refresh_from_db()
        corrected = invoicing.invoice_reissue(invoice=invoice, actor=billing_staff)
        assert [line.amount for line in corrected.lines.all()] == [Decimal("0.81")]

    def test_the_call_csv_shows_the_seconds_and_price_billed(self, client, alice, calls):
        verified_client(client, alice)
        response = client.get("/calls/export.csv?since=2026-03-01&until=2026-03-31")
        rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
        assert sorted((row["billsec"], row["price_eur"]) for row in rows) == [("20", "0.20000"), ("61", "0.61000")]


class UsagePriceCappedTests:
    def test_the_usage_page_sums_the_amount_billed(self, client, alice, calls):
        usage = cdr_usage_by_month(actor=alice, purpose=Purpose.SELF_SERVICE, months=1, today=date(2026, 3, 20))
        assert [(u.seconds, u.amount) for u in usage] == [(81, Decimal("0.81"))]


class InterconnectionPriceCappedTests:
    def test_the_report_and_its_csv_sum_the_amount_billed(self, client, billing_staff, calls):
        rows = interconnection.interconnection_report(actor=billing_staff, month=MARCH)
        assert [(r.source, r.seconds, r.amount) for r in rows] == [("pbx-old", 81, Decimal("0.81"))]
        verified_client(client, billing_staff)
        response = client.get("/calls/staff/interconnection/?month=2026-03&format=csv")
        found = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
        assert found[1][-2:] == ["81", "0.81"]


class RatedLaterPriceTests:
    def test_a_call_priced_for_its_duration_by_the_re_rating_is_not_cut_again(self, alice):
        Tariff.objects.create(prefix="316", zone="NL mobile", price_per_minute=Decimal("0.60"), increment_first=1,
                              increment_next=1, valid_from=date(2020, 1, 1))
        make_cdr(account=alice, started_at=T0, billsec=90, duration=20, rating="pending", zone="")
        assert cdr_rate_pending() == 1
        invoice = invoicing.invoice_run(month=MARCH, today=date(2026, 4, 2))[0]
        assert [(line.seconds, line.amount) for line in invoice.lines.all()] == [(20, Decimal("0.20"))]
