"""An upheld dispute's void invoice waits for its corrected invoice only until the dispute's appeal period ends
(then its calls go: tests/retention/test_purge_decided_disputes.py). Billing is told in time, once, by mail
(traffic.services.invoices.invoice_reissues_remind, Celery beat daily), and sees the day on the staff page and
on the confirmation before upholding."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from django.core import mail
from django.utils.formats import date_format
from django.utils.timezone import localdate

from tests.factories import make_cdr, verified_client
from traffic.models import Invoice
from traffic.services import invoices as invoicing
from traffic.tasks import invoice_reissues_remind
from voipxs.models import AuditEntry

pytestmark = pytest.mark.django_db

MARCH, APRIL = date(2026, 3, 1), date(2026, 4, 1)
APPEAL_DAYS = 40


@pytest.fixture(autouse=True)
def appeal_days(settings):
    settings.INVOICE_DISPUTE_APPEAL_DAYS = APPEAL_DAYS


@pytest.fixture
def disputed(alice, billing_staff) -> Invoice:
    make_cdr(account=alice, started_at=datetime(2026, 3, 10, 9, tzinfo=timezone.utc))
    invoice = invoicing.invoice_run(month=MARCH, today=APRIL)[0]
    ended = localdate() - timedelta(days=5)  # a dispute decided after the window: the appeal period counts
    Invoice.objects.filter(pk=invoice.pk).update(dispute_window_ends=ended, calls_kept_until=ended)
    invoice.refresh_from_db()
    return invoicing.invoice_dispute(invoice=invoice, actor=billing_staff, today=localdate() - timedelta(days=6))


@pytest.fixture
def void(disputed, billing_staff) -> Invoice:
    return invoicing.invoice_resolve_dispute(invoice=disputed, actor=billing_staff, resolution="upheld")


def _days_left(invoice: Invoice) -> int:
    return (invoice.calls_kept_until - localdate()).days


class ReissueDeadlineTests:
    def test_upholding_sets_the_end_of_the_appeal_period_as_the_last_day(self, void):
        assert void.status == "void" and _days_left(void) in (APPEAL_DAYS, APPEAL_DAYS - 1)

    def test_billing_is_reminded_once_when_the_calls_go_within_thirty_days(self, void, billing_staff, settings):
        mail.outbox.clear()
        assert invoicing.invoice_reissues_remind(today=void.calls_kept_until - timedelta(days=31)) == 0
        assert mail.outbox == []

        assert invoice_reissues_remind.apply().get() == 0  # today: 40 days left, not yet
        day = void.calls_kept_until - timedelta(days=30)
        assert invoicing.invoice_reissues_remind(today=day) == 1
        assert [m.to for m in mail.outbox] == [[billing_staff.email]]
        body = mail.outbox[0].body
        assert void.number in body and date_format(void.calls_kept_until, "DATE_FORMAT") in body  # "4 December 2026"
        assert void.account.username not in body and void.account.email not in body
        entry = AuditEntry.objects.get(action="invoice.reissue_reminder")
        assert entry.target_id == str(void.pk) and entry.extra == {"calls_kept_until": void.calls_kept_until.isoformat()}

        assert invoicing.invoice_reissues_remind(today=day + timedelta(days=1)) == 0  # once
        assert len(mail.outbox) == 1

    def test_a_reissued_or_past_invoice_is_not_reminded(self, void, billing_staff):
        until = void.calls_kept_until
        assert invoicing.invoice_reissues_remind(today=until + timedelta(days=1)) == 0  # its calls are gone
        invoicing.invoice_reissue(invoice=void, actor=billing_staff)
        assert invoicing.invoice_reissues_remind(today=until - timedelta(days=3)) == 0
        assert mail.outbox == []

    def test_an_invoice_voided_while_open_is_not_reminded(self, alice, billing_staff):
        make_cdr(account=alice, started_at=datetime(2026, 3, 11, 9, tzinfo=timezone.utc))
        invoice = invoicing.invoice_void(invoice=invoicing.invoice_run(month=MARCH, today=APRIL)[0], actor=billing_staff)
        assert invoicing.invoice_reissues_remind(today=invoice.calls_kept_until - timedelta(days=1)) == 0


class ReissueDeadlinePagesTests:
    def test_the_staff_page_gives_the_last_day_beside_reissue(self, client, billing_staff, void):
        verified_client(client, billing_staff)
        page = client.get("/calls/staff/invoices/").content.decode()
        day = date_format(void.calls_kept_until, "DATE_FORMAT")
        assert f"by {day}: its calls are deleted after that day" in page

    def test_the_uphold_confirmation_says_until_when_the_calls_wait(self, client, billing_staff, disputed):
        verified_client(client, billing_staff)
        page = client.post(f"/calls/staff/invoices/{disputed.pk}/uphold-dispute/").content.decode()
        day = date_format(localdate() + timedelta(days=APPEAL_DAYS), "DATE_FORMAT")
        assert f"kept for the corrected invoice until {day}" in page
        assert Invoice.objects.get(pk=disputed.pk).status == "disputed"  # asked first, nothing done
