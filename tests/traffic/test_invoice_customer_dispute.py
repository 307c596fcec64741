"""A customer disputes their own invoice from its page (Tw 11.5(2)): a reason, a confirmation page, then the invoice
is disputed, billing staff are mailed (the number only) and the calls stay while the dispute runs. The window's last
day is Amsterdam's: 23:30 UTC on 31 December is already 1 January there, too late."""
from __future__ import annotations

import html
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from django.core import mail
from django.utils.timezone import now

from retention.purge.run import purge_expired
from tests.factories import make_cdr
from tests.retention.helpers import make_invoice, surviving
from traffic.models import Invoice
from traffic.services import invoice_disputes
from voipxs.privacy.models import AuditEntry

pytestmark = pytest.mark.django_db

REASON = "I never called +31699990042 on 3 March; that call is not mine."


@pytest.fixture
def paid(alice):
    """alice's paid invoice of a past month, its window ending in ten days, with two calls billed on it."""
    window_ends = now().date() + timedelta(days=10)
    period = (now().date() - timedelta(days=200)).replace(day=1)
    invoice = make_invoice(account=alice, period=period, status="paid", window_ends=window_ends)
    Invoice.objects.filter(pk=invoice.pk).update(calls_kept_until=window_ends)
    ids = [make_cdr(account=alice, started_at=datetime(period.year, period.month, d, 12, tzinfo=timezone.utc),
                    invoice=invoice, price=Decimal("0.10")).id for d in (4, 19)]
    return Invoice.objects.get(pk=invoice.pk), ids


def _url(invoice: Invoice) -> str:
    return f"/calls/invoices/{invoice.pk}/dispute/"


def _page(client, invoice: Invoice) -> str:
    return html.unescape(client.get(f"/calls/invoices/{invoice.pk}/").content.decode())


class CustomerDisputeTests:
    def test_the_invoice_page_offers_the_dispute_form_within_the_window(self, client, alice, paid):
        client.force_login(alice)
        page = _page(client, paid[0])
        assert "Dispute this invoice" in page and f'action="{_url(paid[0])}"' in page
        assert 'name="reason"' in page

    def test_the_first_post_only_asks_for_confirmation(self, client, alice, paid, billing_staff):
        client.force_login(alice)
        response = client.post(_url(paid[0]), {"reason": REASON})
        page = html.unescape(response.content.decode())
        assert response.status_code == 200 and "Dispute invoice" in page and 'name="confirm"' in page
        assert "kept until the dispute is decided" in page and "billing staff" in page
        assert Invoice.objects.get(pk=paid[0].pk).status == "paid" and not mail.outbox

    def test_confirmed_the_invoice_is_disputed_with_the_reason_billing_mailed_and_the_calls_kept(
            self, client, alice, paid, billing_staff, django_capture_on_commit_callbacks):
        invoice, ids = paid
        client.force_login(alice)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(_url(invoice), {"reason": REASON, "confirm": "yes"})
        assert response.status_code == 302 and response["Location"] == f"/calls/invoices/{invoice.pk}/"
        invoice.refresh_from_db()
        assert invoice.status == "disputed" and invoice.dispute_reason == REASON and invoice.settled_at is None
        entry = AuditEntry.objects.get(action="invoice.dispute", target_id=str(invoice.pk))
        assert entry.purpose == "dispute" and "never called" not in str(entry.extra)
        assert not AuditEntry.objects.filter(extra__icontains="never called").exists()
        assert [m.to for m in mail.outbox] == [[billing_staff.email]]
        assert invoice.number in mail.outbox[0].body and "never called" not in mail.outbox[0].body + \
            mail.outbox[0].subject
        assert "Billing staff will answer you" in _page(client, invoice)
        purge_expired(now=datetime.combine(invoice.dispute_window_ends + timedelta(days=30), datetime.min.time(),
                                           tzinfo=timezone.utc))
        assert surviving(ids) == set(ids)  # disputed: kept past the window

    def test_billing_staff_read_the_reason_where_they_decide_the_dispute(self, client, alice, paid, billing_staff):
        invoice_disputes.invoice_customer_dispute(invoice=paid[0], actor=alice, reason=REASON)
        from tests.factories import verified_client
        verified_client(client, billing_staff)
        page = html.unescape(client.get("/calls/staff/invoices/").content.decode())
        assert REASON in page and "Uphold dispute" in page

    def test_without_a_reason_the_form_says_so_and_nothing_changes(self, client, alice, paid):
        client.force_login(alice)
        for reason in ("", "   "):
            response = client.post(_url(paid[0]), {"reason": reason, "confirm": "yes"})
            assert response.status_code == 400
            assert "Say what is wrong with this invoice." in html.unescape(response.content.decode())
        response = client.post(_url(paid[0]), {"reason": "x" * 2001, "confirm": "yes"})
        assert response.status_code == 400 and "2000" in response.content.decode()
        assert Invoice.objects.get(pk=paid[0].pk).status == "paid"

    def test_another_customers_invoice_is_not_found(self, client, bob, paid):
        client.force_login(bob)
        assert client.post(_url(paid[0]), {"reason": REASON, "confirm": "yes"}).status_code == 404
        assert Invoice.objects.get(pk=paid[0].pk).status == "paid"

    def test_the_service_refuses_anyone_but_the_invoices_account(self, bob, billing_staff, paid):
        from django.http import Http404
        for someone in (bob, billing_staff):
            with pytest.raises(Http404):
                invoice_disputes.invoice_customer_dispute(invoice=paid[0], actor=someone, reason=REASON)
        assert Invoice.objects.get(pk=paid[0].pk).status == "paid"

    def test_only_a_csrf_checked_post_disputes(self, alice, paid):
        from django.test import Client
        client = Client(enforce_csrf_checks=True)
        client.force_login(alice)
        assert client.get(_url(paid[0])).status_code == 405
        assert client.post(_url(paid[0]), {"reason": REASON, "confirm": "yes"}).status_code == 403
        assert Invoice.objects.get(pk=paid[0].pk).status == "paid"

    @pytest.mark.parametrize("status, says", [("void", "A void invoice cannot be disputed."),
                                              ("disputed", "You disputed this invoice")])
    def test_a_void_or_disputed_invoice_says_why_there_is_no_form(self, client, alice, paid, status, says):
        Invoice.objects.filter(pk=paid[0].pk).update(status=status, disputed_at=now())
        client.force_login(alice)
        assert says in _page(client, paid[0]) and 'name="reason"' not in _page(client, paid[0])
        asked = client.post(_url(paid[0]), {"reason": REASON})  # refused at once, not after a confirmation page
        assert asked.status_code == 400 and 'name="confirm"' not in asked.content.decode()
        response = client.post(_url(paid[0]), {"reason": REASON, "confirm": "yes"})
        assert response.status_code == 400 and Invoice.objects.get(pk=paid[0].pk).dispute_reason == ""


class CustomerDisputeWindowTests:
    @pytest.fixture
    def last_day(self, paid):
        Invoice.objects.filter(pk=paid[0].pk).update(dispute_window_ends=date(2026, 12, 31))
        return Invoice.objects.get(pk=paid[0].pk)

    def _at(self, monkeypatch, moment: datetime) -> None:
        monkeypatch.setattr(invoice_disputes, "now", lambda: moment)

    def test_at_2330_utc_on_the_last_winter_day_it_is_the_next_day_in_amsterdam_and_refused(
            self, client, alice, last_day, monkeypatch):
        self._at(monkeypatch, datetime(2026, 12, 31, 23, 30, tzinfo=timezone.utc))  # 1 January 00:30 there
        client.force_login(alice)
        assert "The dispute window of this invoice has ended." in _page(client, last_day)
        response = client.post(_url(last_day), {"reason": REASON, "confirm": "yes"})
        assert response.status_code == 400
        assert "The dispute window of this invoice has ended." in html.unescape(response.content.decode())
        assert Invoice.objects.get(pk=last_day.pk).status == "paid"

    def test_at_2230_utc_on_the_last_day_it_is_taken(self, client, alice, last_day, monkeypatch):
        self._at(monkeypatch, datetime(2026, 12, 31, 22, 30, tzinfo=timezone.utc))  # 23:30 in Amsterdam
        client.force_login(alice)
        response = client.post(_url(last_day), {"reason": REASON, "confirm": "yes"})
        assert response.status_code == 302 and Invoice.objects.get(pk=last_day.pk).status == "disputed"


class CustomerDisputeServiceTests:
    @pytest.mark.parametrize("reason", ["", "  \n ", "x" * 2001])
    def test_it_refuses_a_missing_or_too_long_reason(self, alice, paid, reason):
        from voipxs.exceptions import ApplicationError
        with pytest.raises(ApplicationError) as info:
            invoice_disputes.invoice_customer_dispute(invoice=paid[0], actor=alice, reason=reason)
        assert info.value.extra["field"] == "reason"
        assert Invoice.objects.get(pk=paid[0].pk).status == "paid"
