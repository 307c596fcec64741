"""A void invoice is replaced by a corrected one for the same month, made from its calls (invoice_reissue),
through the service, the staff page and the staff API; the customer sees both, linked."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from django.conf import settings
from django.utils.timezone import localtime, now

from retention.purge.run import purge_expired
from tests.factories import make_cdr, verified_client
from traffic.services import invoices as invoicing
from traffic.models import Cdr, Invoice
from voipxs.exceptions import ApplicationError
from voipxs.models import AuditEntry

pytestmark = pytest.mark.django_db

MARCH, APRIL = date(2026, 3, 1), date(2026, 4, 1)
T0 = datetime(2026, 3, 10, 9, 0, tzinfo=timezone.utc)


def _lines(invoice: Invoice) -> set[tuple]:
    return {(line.month, line.zone, line.calls, line.seconds, line.amount) for line in invoice.lines.all()}


@pytest.fixture
def march(alice) -> list[Cdr]:
    return [make_cdr(account=alice, started_at=T0 + timedelta(days=day), billsec=billsec, zone=zone,
                     price=Decimal(price))
            for day, billsec, zone, price in ((0, 60, "NL mobile", "0.10"), (3, 120, "NL mobile", "0.20"),
                                              (5, 30, "NL fixed", "0.015"))]


@pytest.fixture
def void(march, billing_staff) -> Invoice:
    """March's invoice of alice, disputed, the dispute upheld: void."""
    invoice = invoicing.invoice_run(month=MARCH, today=APRIL)[0]
    invoicing.invoice_dispute(invoice=invoice, actor=billing_staff)
    return invoicing.invoice_resolve_dispute(invoice=invoice, actor=billing_staff, resolution="upheld")


class InvoiceReissueTests:
    def test_it_makes_an_open_invoice_for_the_same_month_from_the_void_ones_calls(self, alice, march, void,
                                                                                  billing_staff):
        void_lines, void_total = _lines(void), void.subtotal
        # the void invoice was issued long ago: the corrected one gets its own due date and dispute window
        Invoice.objects.filter(pk=void.pk).update(issued_at=datetime(2026, 4, 1, tzinfo=timezone.utc),
                                                  due_date=date(2026, 4, 15), dispute_window_ends=date(2026, 10, 1))

        new = invoicing.invoice_reissue(invoice=void, actor=billing_staff)

        assert new.status == "open" and new.period == MARCH and new.account_id == alice.pk
        assert new.number == f"INV-202603-{alice.pk:06d}-2" and new.replaces_id == void.pk
        assert _lines(new) == void_lines and new.subtotal == void_total == Decimal("0.32")
        assert new.due_date == localtime(new.issued_at).date() + timedelta(days=invoicing.PAYMENT_TERM_DAYS)
        assert new.dispute_window_ends == localtime(new.issued_at).date() + timedelta(days=settings.INVOICE_DISPUTE_WINDOW_DAYS)
        assert new.dispute_window_ends > date(2026, 10, 1)
        assert set(Cdr.objects.filter(invoice=new).values_list("id", flat=True)) == {c.id for c in march}
        void.refresh_from_db()
        assert void.status == "void" and void.subtotal == void_total and _lines(void) == void_lines
        assert void.number == f"INV-202603-{alice.pk:06d}" and void.replaced_by == new
        entry = AuditEntry.objects.get(action="invoice.reissue")
        assert entry.target_id == str(void.pk) and entry.extra["replaced_by"] == new.pk

    def test_it_bills_the_calls_at_their_current_price(self, march, void, billing_staff):
        Cdr.objects.filter(pk=march[1].pk).update(price=Decimal("0.05"))  # billing corrected the price
        new = invoicing.invoice_reissue(invoice=void, actor=billing_staff)
        assert new.subtotal == Decimal("0.17") and void.subtotal == Decimal("0.32")

    def test_it_bills_only_the_void_invoices_calls_and_the_next_run_bills_the_rest_once(self, alice, march, void,
                                                                                         billing_staff):
        late = make_cdr(account=alice, started_at=T0 + timedelta(days=7), price=Decimal("1.00"), zone="NL fixed")
        older = make_cdr(account=alice, started_at=T0 - timedelta(days=30), price=Decimal("2.00"), zone="NL fixed")

        new = invoicing.invoice_reissue(invoice=void, actor=billing_staff)

        assert new.subtotal == Decimal("0.32")
        assert Cdr.objects.filter(pk__in=[late.pk, older.pk], invoice__isnull=True).count() == 2
        assert invoicing.invoice_run(month=MARCH, today=APRIL) == []  # March is invoiced: no third one
        april = invoicing.invoice_run(month=APRIL, today=date(2026, 5, 1))[0]
        assert april.subtotal == Decimal("3.00")
        assert set(Cdr.objects.filter(invoice=april).values_list("id", flat=True)) == {late.pk, older.pk}
        assert Cdr.objects.filter(invoice=new).count() == 3 and not Cdr.objects.filter(invoice=void).exists()
        assert invoicing.invoice_run(month=date(2026, 5, 1), today=date(2026, 6, 1)) == []

    def test_it_releases_calls_it_cannot_bill_again_and_keeps_restricted_ones_on_the_void_invoice(
            self, march, void, billing_staff):
        Cdr.objects.filter(pk=march[0].pk).update(rating="unrated", price=None)
        Cdr.objects.filter(pk=march[2].pk).update(restricted_at=now())
        new = invoicing.invoice_reissue(invoice=void, actor=billing_staff)
        assert _lines(new) == {(MARCH, "NL mobile", 1, 120, Decimal("0.20"))}
        assert Cdr.objects.get(pk=march[0].pk).invoice_id is None  # back to the re-rating and the next run
        assert Cdr.objects.get(pk=march[2].pk).invoice_id == void.pk

    def test_it_refuses_a_second_reissue_naming_the_field(self, void, billing_staff):
        invoicing.invoice_reissue(invoice=void, actor=billing_staff)
        with pytest.raises(ApplicationError) as info:
            invoicing.invoice_reissue(invoice=void, actor=billing_staff)
        assert info.value.message == invoicing.INVOICE_ALREADY_REPLACED and info.value.extra == {"field": "replaced_by"}
        assert Invoice.objects.filter(period=MARCH).count() == 2

    def test_it_refuses_an_invoice_that_is_not_void(self, march, billing_staff):
        invoice = invoicing.invoice_run(month=MARCH, today=APRIL)[0]
        for make_state in (lambda i: i, lambda i: invoicing.invoice_dispute(invoice=i, actor=billing_staff)):
            invoice = make_state(invoice)
            with pytest.raises(ApplicationError) as info:
                invoicing.invoice_reissue(invoice=invoice, actor=billing_staff)
            assert info.value.extra == {"field": "status"}
        assert Invoice.objects.count() == 1 and Cdr.objects.filter(invoice=invoice).count() == 3

    def test_a_void_corrected_invoice_can_be_replaced_again(self, alice, void, billing_staff):
        second = invoicing.invoice_reissue(invoice=void, actor=billing_staff)
        invoicing.invoice_void(invoice=second, actor=billing_staff)
        third = invoicing.invoice_reissue(invoice=second, actor=billing_staff)
        assert third.number == f"INV-202603-{alice.pk:06d}-3" and third.replaces == second
        assert third.subtotal == Decimal("0.32")


class InvoiceReissueRetentionTests:
    """Between the void and the reissue the calls stay tied to the void invoice, which protects them: an
    upheld dispute's until its appeal period ends (tests/retention/test_purge_decided_disputes.py); one
    voided while open until its dispute window ends (retention.purge: a void invoice is settled)."""

    def test_a_purge_between_void_and_reissue_keeps_the_calls_inside_the_window(self, march, void, billing_staff):
        purge_expired(now=now() + timedelta(days=1))  # March's calls are past the 3 months of unbilled calls
        assert Cdr.objects.filter(invoice=void).count() == 3
        assert invoicing.invoice_reissue(invoice=void, actor=billing_staff).subtotal == Decimal("0.32")

    def test_after_the_window_an_invoice_voided_while_open_has_lost_its_calls_and_the_reissue_is_refused(
            self, march, billing_staff):
        void = invoicing.invoice_void(invoice=invoicing.invoice_run(month=MARCH, today=APRIL)[0], actor=billing_staff)
        window_ended = now().date() - timedelta(days=2)  # issued long ago
        Invoice.objects.filter(pk=void.pk).update(dispute_window_ends=window_ended, calls_kept_until=window_ended)
        purge_expired(now=now())
        assert not Cdr.objects.filter(pk__in=[c.pk for c in march]).exists()
        with pytest.raises(ApplicationError) as info:
            invoicing.invoice_reissue(invoice=void, actor=billing_staff)
        assert info.value.extra == {"field": "calls"}
        assert not Invoice.objects.filter(replaces=void).exists()


@pytest.mark.postgres
class InvoiceReissueKeptCopiesTests:
    """A dispute outlives its window, the month of its calls is dropped meanwhile (its calls are copied to the
    hold table, tied to the disputed invoice), and then the dispute is upheld: the corrected invoice still
    bills them (it said there was nothing to reissue) and the copies follow it."""

    def test_it_bills_the_void_invoices_calls_kept_in_the_hold_table(self, march, alice, billing_staff):
        from retention.models import HeldCdr, PurgedMonth

        invoice = invoicing.invoice_run(month=MARCH, today=APRIL)[0]
        invoicing.invoice_dispute(invoice=invoice, actor=billing_staff)
        Invoice.objects.filter(pk=invoice.pk).update(dispute_window_ends=now().date() - timedelta(days=2))
        purge_expired(now=now())
        assert PurgedMonth.objects.filter(month=MARCH).exists() and not Cdr.objects.filter(account=alice).exists()
        assert HeldCdr.objects.filter(invoice_id=invoice.pk).count() == 3

        void = invoicing.invoice_resolve_dispute(invoice=invoice, actor=billing_staff, resolution="upheld")
        new = invoicing.invoice_reissue(invoice=void, actor=billing_staff)
        assert new.subtotal == Decimal("0.32") and _lines(new) == _lines(void)
        assert HeldCdr.objects.filter(invoice_id=new.pk).count() == 3 and not HeldCdr.objects.filter(invoice_id=void.pk)
        assert AuditEntry.objects.get(action="invoice.create", target_id=str(new.pk)).extra["calls"] == 3
        from traffic.selectors.calls import cdr_list
        itemised = cdr_list(actor=alice, purpose="self_service", invoice=new).rows  # the corrected bill's calls
        assert sorted(row.id for row in itemised) == sorted(c.pk for c in march)
        purge_expired(now=now())  # the corrected invoice is open: it keeps its calls
        assert HeldCdr.objects.filter(invoice_id=new.pk).count() == 3

    def test_kept_copies_it_cannot_bill_leave_the_void_invoice(self, march, alice, billing_staff):
        from retention.models import HeldCdr

        invoice = invoicing.invoice_run(month=MARCH, today=APRIL)[0]
        invoicing.invoice_dispute(invoice=invoice, actor=billing_staff)
        Invoice.objects.filter(pk=invoice.pk).update(dispute_window_ends=now().date() - timedelta(days=2))
        purge_expired(now=now())
        HeldCdr.objects.filter(cdr_id=march[2].pk).update(rating=Cdr.Rating.FREE)
        void = invoicing.invoice_resolve_dispute(invoice=invoice, actor=billing_staff, resolution="upheld")
        new = invoicing.invoice_reissue(invoice=void, actor=billing_staff)
        assert new.subtotal == Decimal("0.30")
        assert HeldCdr.objects.get(cdr_id=march[2].pk).invoice_id is None


class InvoiceReissuePagesTests:
    def test_billing_reissues_from_the_staff_page(self, client, billing_staff, void):
        verified_client(client, billing_staff)
        page = client.get("/calls/staff/invoices/").content.decode()
        assert f"/calls/staff/invoices/{void.pk}/reissue/" in page
        response = client.post(f"/calls/staff/invoices/{void.pk}/reissue/", {"confirm": "yes"}, follow=True)
        new = Invoice.objects.get(replaces=void)
        page = response.content.decode()
        assert f"Corrected invoice {new.number} made." in page
        assert f"/calls/staff/invoices/{void.pk}/reissue/" not in page  # replaced: no second button
        assert f'replaced by</span> <span class="number">{new.number}</span>' in page  # never broken at a hyphen
        again = client.post(f"/calls/staff/invoices/{void.pk}/reissue/", {"confirm": "yes"},
                            follow=True).content.decode()
        assert invoicing.INVOICE_ALREADY_REPLACED in again

    def test_the_customer_sees_both_linked_and_another_customer_neither(self, client, alice, mallory, void,
                                                                        billing_staff):
        new = invoicing.invoice_reissue(invoice=void, actor=billing_staff)
        verified_client(client, alice)
        listing = client.get("/calls/invoices/").content.decode()
        assert void.number in listing and new.number in listing
        void_page = client.get(f"/calls/invoices/{void.pk}/").content.decode()
        assert f'replaced by</span> <a class="number" href="/calls/invoices/{new.pk}/">{new.number}</a>' in void_page
        new_page = client.get(f"/calls/invoices/{new.pk}/").content.decode()
        assert f'replaces</span> <a class="number" href="/calls/invoices/{void.pk}/">{void.number}</a>' in new_page
        assert new_page.count("+31699993") == 3  # its itemised bill: the three calls (masked)
        detail = client.get(f"/api/v1/me/invoices/{void.pk}/").json()
        assert detail["replaced_by"] == new.pk and detail["replaces"] is None
        assert client.get(f"/api/v1/me/invoices/{new.pk}/").json()["replaces"] == void.pk
        client.logout()
        verified_client(client, mallory)
        for invoice in (void, new):
            assert client.get(f"/calls/invoices/{invoice.pk}/").status_code == 404
            assert client.get(f"/api/v1/me/invoices/{invoice.pk}/").status_code == 404
        listing = client.get("/calls/invoices/").content.decode()
        assert void.number not in listing and new.number not in listing


class InvoiceReissueApiTests:
    def test_billing_reissues_through_the_api(self, client, billing_staff, void):
        verified_client(client, billing_staff)
        response = client.post(f"/api/v1/staff/invoices/{void.pk}/reissue/")
        assert response.status_code == 201
        body = response.json()
        assert body["replaces"] == void.pk and body["status"] == "open" and body["subtotal"] == "0.32"
        again = client.post(f"/api/v1/staff/invoices/{void.pk}/reissue/")
        assert again.status_code == 400 and again.json()["field"] == "replaced_by"
        not_void = client.post(f"/api/v1/staff/invoices/{body['id']}/reissue/")
        assert not_void.status_code == 400 and not_void.json()["field"] == "status"
        assert client.post("/api/v1/staff/invoices/999999/reissue/").status_code == 404

    def test_it_refuses_customers(self, client, alice, void):
        verified_client(client, alice)
        assert client.post(f"/api/v1/staff/invoices/{void.pk}/reissue/").status_code == 403
        assert client.post(f"/calls/staff/invoices/{void.pk}/reissue/").status_code == 403
        assert not Invoice.objects.filter(replaces=void).exists()

    def test_the_schema_documents_it(self, client, alice):
        verified_client(client, alice)
        schema = client.get("/api/schema/?format=json").json()
        assert "post" in schema["paths"]["/api/v1/staff/invoices/{invoice_id}/reissue/"]


class ReissuedAtNightTests:
    def test_a_corrected_invoice_made_after_midnight_in_amsterdam_gets_the_full_payment_term(
            self, client, alice, void, billing_staff, monkeypatch):
        # 23:30 UTC on 7 December is 00:30 on 8 December in Amsterdam: the invoice is dated the 8th
        monkeypatch.setattr(invoicing, "now", lambda: datetime(2026, 12, 7, 23, 30, tzinfo=timezone.utc))
        new = invoicing.invoice_reissue(invoice=void, actor=billing_staff)
        verified_client(client, alice)
        page = client.get(f"/calls/invoices/{new.pk}/").content.decode()
        assert "8 December 2026" in page  # issued
        assert "22 December 2026" in page  # due: 14 days later, not 13
        assert new.due_date == date(2026, 12, 22)
        assert new.dispute_window_ends == date(2026, 12, 8) + timedelta(days=settings.INVOICE_DISPUTE_WINDOW_DAYS)
