"""An invoice's itemised bill (the calls behind it) shows each call at the price the invoice charged it, so that it
always sums to the invoice's lines, whatever changed since it was issued.

A tariff change cannot move it: a call's price is fixed on it when rated (traffic.rating), and the re-rating prices
only calls still waiting. The billsec cap could: since it, a call stored before the import capped billsec is charged
price x duration / billsec (rating.BILLED_PRICE), and the call pages showed every such call so, also on the itemised
bill of an invoice issued before the cap, which had charged its stored price: that bill listed lower prices than the
invoice. An invoice now records which of the two it charged (Invoice.charged_for_duration; traffic 0027 and retention
0008 find it for the invoices issued before), and its calls are shown at that price."""
from __future__ import annotations

import importlib
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from django.apps import apps

from tests.factories import make_cdr, make_source, verified_client
from traffic.models import Cdr, Invoice, Tariff
from traffic.selectors.calls import cdr_list
from traffic.services import invoices as invoicing
from traffic.services.rating import cdr_rate_pending
from voipxs.privacy.purposes import Purpose

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 10, 9, 0, tzinfo=timezone.utc)
MARCH = date(2026, 3, 1)
MIGRATION = importlib.import_module("traffic.migrations.0027_invoice_charged_for_duration")


def _itemised(owner, invoice: Invoice) -> list[Decimal]:
    page = cdr_list(actor=owner, purpose=Purpose.SELF_SERVICE, invoice=invoice, limit=100)
    return sorted(row.price for row in page.rows)


@pytest.fixture
def pre_cap_calls(alice) -> None:
    """One cent a second: a call of 61 s, and one stored before the cap, 90 s billed of a 20 s call, priced 0.90."""
    make_cdr(account=alice, source=make_source("pbx-old"), started_at=T0, billsec=61, duration=66,
             price=Decimal("0.61"))
    make_cdr(account=alice, source=make_source("pbx-old"), started_at=T0.replace(hour=10), billsec=90, duration=20,
             price=Decimal("0.90"))


def _issued_before_the_cap(invoice: Invoice, amount: Decimal) -> Invoice:
    """The invoice as the run made it before the cap: the stored prices summed, the flag as the new column gives it."""
    invoice.lines.update(amount=amount)
    invoicing._invoice_set_amounts(invoice, subtotal=amount)
    invoice.charged_for_duration = True
    invoice.save(update_fields=["subtotal", "vat_rate", "vat_amount", "total", "charged_for_duration"])
    return invoice


class ItemisedBillAsInvoicedTests:
    def test_a_tariff_change_after_the_invoice_leaves_its_itemised_bill_summing_to_it(self, alice, billing_staff):
        tariff = Tariff.objects.create(prefix="316", zone="NL mobile", price_per_minute=Decimal("0.60"),
                                       increment_first=1, increment_next=1, valid_from=date(2020, 1, 1))
        make_cdr(account=alice, started_at=T0, billsec=30, duration=35, rating="pending", zone="")
        make_cdr(account=alice, started_at=T0.replace(hour=11), billsec=90, duration=20, rating="pending", zone="")
        assert cdr_rate_pending() == 2
        invoice = invoicing.invoice_run(month=MARCH, today=date(2026, 4, 2))[0]
        before = _itemised(alice, invoice)
        assert sum(before) == invoice.subtotal == Decimal("0.50")
        Tariff.objects.filter(pk=tariff.pk).update(price_per_minute=Decimal("0.06"))  # and a cheaper one beside it
        Tariff.objects.create(prefix="3169", zone="NL mobile", price_per_minute=Decimal("0.01"), increment_first=1,
                              increment_next=1, valid_from=date(2020, 1, 1))
        cdr_rate_pending()
        assert _itemised(alice, invoice) == before and sum(before) == invoice.lines.get().amount

    def test_an_invoice_issued_before_the_cap_lists_its_calls_at_the_prices_it_charged(self, client, alice,
                                                                                       pre_cap_calls):
        invoice = invoicing.invoice_run(month=MARCH, today=date(2026, 4, 2))[0]
        invoice = _issued_before_the_cap(invoice, Decimal("1.51"))
        MIGRATION.charged_as_found(apps, None)
        invoice.refresh_from_db()
        assert invoice.charged_for_duration is False
        assert _itemised(alice, invoice) == [Decimal("0.61"), Decimal("0.90")]  # 1.51, as its line and subtotal
        verified_client(client, alice)
        page = client.get(f"/calls/invoices/{invoice.pk}/").content.decode()
        assert "0.9000" in page and "0.2000" not in page
        # the call's other lists show the price it was billed, too (the call CSV)
        exported = client.get("/calls/export.csv?since=2026-03-01&until=2026-03-31")
        assert b"0.90000" in b"".join(exported.streaming_content)

    def test_an_invoice_issued_since_the_cap_keeps_listing_the_capped_price(self, alice, pre_cap_calls):
        invoice = invoicing.invoice_run(month=MARCH, today=date(2026, 4, 2))[0]
        assert invoice.charged_for_duration is True and invoice.subtotal == Decimal("0.81")
        MIGRATION.charged_as_found(apps, None)
        invoice.refresh_from_db()
        assert invoice.charged_for_duration is True
        assert _itemised(alice, invoice) == [Decimal("0.20"), Decimal("0.61")]

    def test_the_calls_are_not_rewritten(self, alice, pre_cap_calls):
        invoice = _issued_before_the_cap(invoicing.invoice_run(month=MARCH, today=date(2026, 4, 2))[0],
                                         Decimal("1.51"))
        MIGRATION.charged_as_found(apps, None)
        assert sorted(Cdr.objects.filter(invoice=invoice).values_list("billsec", "price")) == [
            (61, Decimal("0.61000")), (90, Decimal("0.90000"))]

    def test_an_invoice_whose_pre_cap_call_a_month_drop_moved_to_the_hold_table_is_found_too(self, alice,
                                                                                             pre_cap_calls):
        from retention.models import HeldCdr

        invoice = _issued_before_the_cap(invoicing.invoice_run(month=MARCH, today=date(2026, 4, 2))[0],
                                         Decimal("1.51"))
        old = Cdr.objects.get(invoice=invoice, billsec=90)
        HeldCdr.objects.create(cdr_id=old.pk, **{name: getattr(old, name) for name in (
            "started_at", "source_id", "unique_id", "fingerprint", "account_id", "direction", "disposition",
            "duration", "billsec", "src_enc", "dst_enc", "src_index", "dst_index", "rating", "zone", "price",
            "invoice_id")})
        Cdr.objects.filter(pk=old.pk).delete()  # as the drop of its month, the copy kept for the open invoice
        MIGRATION.charged_as_found(apps, None)
        invoice.refresh_from_db()
        assert invoice.charged_for_duration is True  # the CDR table alone shows no pre-cap call of it
        importlib.import_module("retention.migrations.0008_heldcdr_invoice_charged").held_charged_as_found(apps, None)
        invoice.refresh_from_db()
        assert invoice.charged_for_duration is False
