from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from django.conf import settings
from django.utils.timezone import localtime

from tests.factories import make_cdr
from traffic.services import invoices as invoicing
from traffic.models import Cdr, Invoice, InvoiceLine
from voipxs.exceptions import ApplicationError

pytestmark = pytest.mark.django_db

MARCH = date(2026, 3, 1)
T0 = datetime(2026, 3, 10, 9, 0, tzinfo=timezone.utc)
TODAY = date(2026, 4, 1)


def _run():
    return invoicing.invoice_run(month=MARCH, today=TODAY)


class InvoiceRunTests:
    def test_it_makes_one_invoice_per_account_with_aggregated_lines_and_no_numbers(self, alice, bob):
        make_cdr(account=alice, started_at=T0, billsec=60, zone="NL mobile", price=Decimal("0.10"))
        make_cdr(account=alice, started_at=T0 + timedelta(days=1), billsec=120, zone="NL mobile", price=Decimal("0.20"))
        make_cdr(account=alice, started_at=T0, billsec=30, zone="NL fixed", price=Decimal("0.015"))
        make_cdr(account=alice, started_at=T0, disposition="no_answer", billsec=0, rating="free")
        make_cdr(account=alice, started_at=datetime(2026, 4, 1, 0, 0, 1, tzinfo=timezone.utc))  # April: not billed
        make_cdr(account=bob, started_at=T0, price=Decimal("1.00"))
        made = _run()
        assert len(made) == 2
        invoice = Invoice.objects.get(account=alice, period=MARCH)
        lines = {(l.zone, l.calls, l.seconds, l.amount) for l in invoice.lines.all()}
        assert lines == {("NL mobile", 2, 180, Decimal("0.30")), ("NL fixed", 1, 30, Decimal("0.02"))}
        assert invoice.subtotal == Decimal("0.32")
        assert invoice.dispute_window_ends == localtime(invoice.issued_at).date() + timedelta(days=settings.INVOICE_DISPUTE_WINDOW_DAYS)
        assert Cdr.objects.filter(invoice=invoice).count() == 3
        line_fields = {f.name for f in InvoiceLine._meta.get_fields()}
        assert not line_fields & {"dst_enc", "src_enc", "number", "dst_index"}

    def test_it_is_idempotent(self, alice):
        make_cdr(account=alice, started_at=T0)
        assert len(_run()) == 1
        assert _run() == []
        assert Invoice.objects.count() == 1 and InvoiceLine.objects.count() == 1

    def test_a_call_priced_after_its_month_was_invoiced_goes_on_the_next_invoice_once(self, alice, client):
        from tests.factories import verified_client

        make_cdr(account=alice, started_at=T0, price=Decimal("0.10"), zone="NL mobile")
        late = make_cdr(account=alice, started_at=T0 + timedelta(days=2), rating="unrated", price=None, zone="")
        march = _run()[0]
        assert Cdr.objects.get(pk=late.pk).invoice_id is None  # no price yet: not on March's invoice
        # its tariff arrives in April (the hourly re-rating prices it); April's run bills it
        Cdr.objects.filter(pk=late.pk).update(rating="rated", price=Decimal("0.25"), zone="NL mobile")
        make_cdr(account=alice, started_at=T0 + timedelta(days=31), price=Decimal("0.05"), zone="NL fixed")

        april = invoicing.invoice_run(month=date(2026, 4, 1), today=date(2026, 5, 1))[0]

        assert Cdr.objects.get(pk=late.pk).invoice_id == april.pk
        assert {(line.month, line.zone, line.amount) for line in april.lines.all()} == {
            (MARCH, "NL mobile", Decimal("0.25")), (date(2026, 4, 1), "NL fixed", Decimal("0.05"))}
        assert april.subtotal == Decimal("0.30") and march.subtotal == Decimal("0.10")
        assert invoicing.invoice_run(month=date(2026, 5, 1), today=date(2026, 6, 1)) == []  # billed once
        page = verified_client(client, alice).get(f"/calls/invoices/{april.pk}/").content.decode()
        assert "calls of March 2026, priced later" in page

    def test_it_refuses_a_month_that_is_not_over(self, alice):
        with pytest.raises(ApplicationError):
            invoicing.invoice_run(month=MARCH, today=date(2026, 3, 31))

    def test_it_runs_from_the_beat_task(self, alice):
        from traffic.tasks import invoice_run

        make_cdr(account=alice, started_at=T0)
        assert invoice_run.delay("2026-03").get() == 1
        assert "invoice-run" in settings.CELERY_BEAT_SCHEDULE


class InvoiceTransitionTests:
    @pytest.fixture
    def invoice(self, alice):
        make_cdr(account=alice, started_at=T0)
        return _run()[0]

    def test_it_moves_through_paid_dispute_and_resolution(self, invoice, billing_staff):
        invoice = invoicing.invoice_mark_paid(invoice=invoice, actor=billing_staff)
        assert invoice.status == "paid" and invoice.paid_at
        with pytest.raises(ApplicationError):
            invoicing.invoice_mark_paid(invoice=invoice, actor=billing_staff)
        invoice = invoicing.invoice_dispute(invoice=invoice, actor=billing_staff)
        assert invoice.status == "disputed"
        invoice = invoicing.invoice_resolve_dispute(invoice=invoice, actor=billing_staff, resolution="rejected")
        assert invoice.status == "paid"
        with pytest.raises(ApplicationError):
            invoicing.invoice_void(invoice=invoice, actor=billing_staff)

    def test_it_refuses_a_dispute_after_the_window(self, invoice, billing_staff):
        with pytest.raises(ApplicationError) as info:
            invoicing.invoice_dispute(invoice=invoice, actor=billing_staff,
                                      today=invoice.dispute_window_ends + timedelta(days=1))
        assert "window" in info.value.message

    def test_it_voids_an_upheld_dispute(self, invoice, billing_staff):
        invoicing.invoice_dispute(invoice=invoice, actor=billing_staff)
        invoice = invoicing.invoice_resolve_dispute(invoice=invoice, actor=billing_staff, resolution="upheld")
        assert invoice.status == "void"
        with pytest.raises(ApplicationError):
            invoicing.invoice_resolve_dispute(invoice=invoice, actor=billing_staff, resolution="rejected")


class InvoiceAfterPurgeTests:
    """LEGAL.md row 3: the fiscal record outlives the called numbers. Once the dispute window of a paid invoice
    has passed, the purge removes its calls; the invoice, its totals and its lines stay (7 years) and still add up."""

    def test_totals_reproduce_from_the_lines_after_the_calls_are_purged(self, alice, billing_staff):
        from retention.purge.run import purge_expired
        from tests.retention.helpers import at

        make_cdr(account=alice, started_at=T0, billsec=60, zone="NL mobile", price=Decimal("0.10"))
        make_cdr(account=alice, started_at=T0 + timedelta(days=3), billsec=90, zone="NL fixed", price=Decimal("0.05"))
        invoice = _run()[0]
        invoicing.invoice_mark_paid(invoice=invoice, actor=billing_staff)
        before = Invoice.objects.get(pk=invoice.pk)
        lines_before = sorted((l.zone, l.calls, l.seconds, l.amount) for l in before.lines.all())
        window_ends = before.dispute_window_ends
        purge_expired(now=at(window_ends.year, window_ends.month, window_ends.day) + timedelta(days=2))
        assert not Cdr.objects.filter(account=alice).exists()  # the called numbers are gone
        after = Invoice.objects.get(pk=invoice.pk)
        assert sorted((l.zone, l.calls, l.seconds, l.amount) for l in after.lines.all()) == lines_before
        assert sum(l.amount for l in after.lines.all()) == after.subtotal == before.subtotal == Decimal("0.15")
        assert (after.vat_amount, after.total) == (before.vat_amount, before.total) != (0, 0)
