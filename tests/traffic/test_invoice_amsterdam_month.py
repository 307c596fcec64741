"""An invoice's month is Amsterdam's month, the month the customer's call list and usage page show: a call at 00:30
on 1 February in Amsterdam (23:30 UTC on 31 January, winter, UTC+1) is on February's invoice, in February's line,
and the run at 00:30 Amsterdam on 1 February bills the whole of Amsterdam's January, its last hour included, and
none of February. Summer time too (UTC+2: 22:30 UTC on 31 May is 00:30 on 1 June). The interconnection report's
month is Amsterdam's as well."""
from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from tests.factories import make_cdr, make_source
from traffic.models import Cdr, Invoice
from traffic.selectors import interconnection
from traffic.services import invoices as invoicing

pytestmark = pytest.mark.django_db

UTC = timezone.utc
FIRST_FEB_0030 = datetime(2026, 1, 31, 23, 30, tzinfo=UTC)  # 1 February 00:30 in Amsterdam
LAST_JAN_2350 = datetime(2026, 1, 31, 22, 50, tzinfo=UTC)  # 31 January 23:50 in Amsterdam
FIRST_JAN_0030 = datetime(2025, 12, 31, 23, 30, tzinfo=UTC)  # 1 January 2026 00:30 in Amsterdam
FIRST_JUNE_0030 = datetime(2026, 5, 31, 22, 30, tzinfo=UTC)  # 1 June 00:30 in Amsterdam (summer time)


def _lines(invoice: Invoice) -> set[tuple]:
    return {(line.month, line.calls) for line in invoice.lines.all()}


class InvoiceMonthTests:
    def test_a_call_at_0030_on_1_february_in_amsterdam_is_on_februarys_invoice_in_februarys_line(self, alice):
        cdr = make_cdr(account=alice, started_at=FIRST_FEB_0030, price=Decimal("0.10"))
        assert invoicing.invoice_run(month=date(2026, 1, 1), today=date(2026, 2, 1)) == []  # not January's
        [february] = invoicing.invoice_run(month=date(2026, 2, 1), today=date(2026, 3, 1))
        assert Cdr.objects.get(pk=cdr.pk).invoice_id == february.pk
        assert _lines(february) == {(date(2026, 2, 1), 1)}  # February's line, not "calls of January, priced later"

    def test_a_call_at_0030_on_new_years_day_in_amsterdam_is_on_januarys_invoice(self, alice):
        cdr = make_cdr(account=alice, started_at=FIRST_JAN_0030, price=Decimal("0.10"))
        assert invoicing.invoice_run(month=date(2025, 12, 1), today=date(2026, 1, 1)) == []
        [january] = invoicing.invoice_run(month=date(2026, 1, 1), today=date(2026, 2, 1))
        assert Cdr.objects.get(pk=cdr.pk).invoice_id == january.pk
        assert january.number == f"INV-202601-{alice.pk:06d}" and _lines(january) == {(date(2026, 1, 1), 1)}

    def test_in_summer_a_call_at_2230_utc_on_31_may_is_junes(self, alice):
        cdr = make_cdr(account=alice, started_at=FIRST_JUNE_0030, price=Decimal("0.10"))
        assert invoicing.invoice_run(month=date(2026, 5, 1), today=date(2026, 6, 1)) == []
        [june] = invoicing.invoice_run(month=date(2026, 6, 1), today=date(2026, 7, 1))
        assert Cdr.objects.get(pk=cdr.pk).invoice_id == june.pk and _lines(june) == {(date(2026, 6, 1), 1)}

    def test_the_run_at_0030_amsterdam_on_the_1st_bills_the_whole_amsterdam_month(self, alice, monkeypatch):
        monkeypatch.setattr(invoicing, "now", lambda: FIRST_FEB_0030)
        first_hour = make_cdr(account=alice, started_at=FIRST_JAN_0030, price=Decimal("0.10"))
        last_hour = make_cdr(account=alice, started_at=LAST_JAN_2350, price=Decimal("0.20"))
        february = make_cdr(account=alice, started_at=datetime(2026, 1, 31, 23, 10, tzinfo=UTC),
                            price=Decimal("0.40"))
        [january] = invoicing.invoice_run(month=invoicing.previous_month())
        assert january.period == date(2026, 1, 1) and january.subtotal == Decimal("0.30")
        assert set(Cdr.objects.filter(invoice=january).values_list("pk", flat=True)) == {first_hour.pk, last_hour.pk}
        assert _lines(january) == {(date(2026, 1, 1), 2)}  # the last hour is not left "priced later" for March
        assert Cdr.objects.get(pk=february.pk).invoice_id is None

    def test_a_late_priced_call_of_the_first_amsterdam_hour_three_months_back_is_still_billed(self, alice):
        # 23:30 UTC on 31 October 2026 is 00:30 on 1 November in Amsterdam (winter time again since 25 October):
        # November is within February's three late months, its first hour too
        late = make_cdr(account=alice, started_at=datetime(2026, 10, 31, 23, 30, tzinfo=UTC), price=Decimal("0.10"))
        make_cdr(account=alice, started_at=datetime(2027, 2, 10, 9, 0, tzinfo=UTC), price=Decimal("0.05"))
        [february] = invoicing.invoice_run(month=date(2027, 2, 1), today=date(2027, 3, 1))
        assert Cdr.objects.get(pk=late.pk).invoice_id == february.pk
        assert _lines(february) == {(date(2026, 11, 1), 1), (date(2027, 2, 1), 1)}

    def test_the_reissue_of_februarys_invoice_bills_its_first_amsterdam_hour_again(self, alice, billing_staff):
        cdr = make_cdr(account=alice, started_at=FIRST_FEB_0030, price=Decimal("0.10"))
        [february] = invoicing.invoice_run(month=date(2026, 2, 1), today=date(2026, 3, 1))
        Invoice.objects.filter(pk=february.pk).update(status=Invoice.Status.VOID)
        february.refresh_from_db()
        new = invoicing.invoice_reissue(invoice=february, actor=billing_staff)
        assert Cdr.objects.get(pk=cdr.pk).invoice_id == new.pk and _lines(new) == {(date(2026, 2, 1), 1)}


class InterconnectionMonthTests:
    def test_the_reports_month_is_amsterdams(self, billing_staff, alice):
        source = make_source("pbx-ams")
        make_cdr(account=alice, source=source, started_at=FIRST_FEB_0030, billsec=60, price=Decimal("0.10"))
        make_cdr(account=alice, source=source, started_at=LAST_JAN_2350, billsec=30, price=Decimal("0.05"))
        make_cdr(account=alice, source=source, started_at=FIRST_JAN_0030, billsec=20, price=Decimal("0.02"))

        def report(month: str):
            return [(r.calls, r.seconds) for r in interconnection.interconnection_report(
                actor=billing_staff, month=interconnection.parse_month(month))]

        assert report("2026-01") == [(2, 50)]
        assert report("2026-02") == [(1, 60)]
        assert report("2025-12") == []

    def test_the_page_at_0030_amsterdam_on_1_february_defaults_to_january(self, client, billing_staff, monkeypatch):
        from tests.factories import verified_client
        from traffic.views import interconnection as view

        monkeypatch.setattr(view, "now", lambda: FIRST_FEB_0030)
        page = verified_client(client, billing_staff).get("/calls/staff/interconnection/").content.decode()
        assert 'value="2026-01"' in page
