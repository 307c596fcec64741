"""The invoice run, billing's reissue reminder and the erasure's invoice check count days as the business does, in
Amsterdam: at 23:30 UTC on 31 January it is already 1 February there (winter, UTC+1). The run started then (beat's,
or a retry) invoices January, not December, and is not refused as "the month is not over"; the reminder counts its
30 days from 1 February; an invoice whose calls were kept until 31 January no longer keeps them."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from django.core import mail

from tests.factories import make_cdr
from traffic import sections
from traffic.models import Cdr, Invoice
from traffic.services import invoices as invoicing
from traffic.tasks import invoice_run as invoice_run_task
from voipxs.privacy.registry import Kept

pytestmark = pytest.mark.django_db

LATE_ON_THE_31ST = datetime(2026, 1, 31, 23, 30, tzinfo=timezone.utc)  # 1 February 00:30 in Amsterdam


@pytest.fixture
def amsterdam_1_february(monkeypatch):
    monkeypatch.setattr(invoicing, "now", lambda: LATE_ON_THE_31ST)
    monkeypatch.setattr(sections, "now", lambda: LATE_ON_THE_31ST)


class InvoiceRunAmsterdamDayTests:
    @pytest.mark.audit_guard_exempt("before the fix the run reads December's calls, finds none and audits nothing")
    def test_the_run_late_on_the_last_utc_day_invoices_the_month_just_ended_in_amsterdam(self, alice,
                                                                                      amsterdam_1_february):
        make_cdr(account=alice, started_at=datetime(2026, 1, 10, 9, 0, tzinfo=timezone.utc))
        assert invoice_run_task.apply().get() == 1
        invoice = Invoice.objects.get(account=alice)
        assert invoice.period == date(2026, 1, 1) and invoice.number == f"INV-202601-{alice.pk:06d}"

    def test_invoicing_january_then_is_not_refused_as_a_month_not_over(self, alice, amsterdam_1_february):
        make_cdr(account=alice, started_at=datetime(2026, 1, 12, 9, 0, tzinfo=timezone.utc))
        [invoice] = invoicing.invoice_run(month=date(2026, 1, 1))
        assert invoice.period == date(2026, 1, 1)


class ReissueReminderAmsterdamDayTests:
    def test_the_thirty_days_count_from_the_amsterdam_day(self, alice, billing_staff, settings, amsterdam_1_february):
        settings.INVOICE_REISSUE_REMIND_DAYS = 30
        make_cdr(account=alice, started_at=datetime(2025, 12, 10, 9, 0, tzinfo=timezone.utc))
        invoice = invoicing.invoice_run(month=date(2025, 12, 1), today=date(2026, 1, 2))[0]
        # an upheld dispute's void invoice whose calls go after 3 March: 30 days after 1 February, 31 after 31 January
        Invoice.objects.filter(pk=invoice.pk).update(status=Invoice.Status.VOID, dispute_resolved_at=LATE_ON_THE_31ST,
                                                     calls_kept_until=date(2026, 3, 3))
        mail.outbox.clear()
        assert invoicing.invoice_reissues_remind() == 1
        assert invoice.number in mail.outbox[0].body


class ErasureInvoiceDayTests:
    @pytest.mark.audit_guard_exempt("it calls erasure's calls section alone; the erasure service that calls it "
                                     "(dsr_erasure_perform) records its purpose, dsr.erase")
    def test_an_invoice_whose_calls_were_kept_until_yesterday_in_amsterdam_keeps_none(self, alice,
                                                                                      amsterdam_1_february):
        cdr = make_cdr(account=alice, started_at=datetime(2025, 6, 10, 9, 0, tzinfo=timezone.utc))
        invoice = invoicing.invoice_run(month=date(2025, 6, 1), today=date(2025, 7, 2))[0]
        Invoice.objects.filter(pk=invoice.pk).update(status=Invoice.Status.PAID, calls_kept_until=date(2026, 1, 31))
        done = sections.calls_erase(alice, [Kept(category="calls", reason="an invoice", legal_basis="Tw 11.5(2)")])
        assert done["deleted"] == 1 and not Cdr.objects.filter(pk=cdr.pk).exists()
