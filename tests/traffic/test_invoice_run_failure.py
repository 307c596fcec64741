"""The monthly invoice run (beat, 02:00 on the 1st) when an account cannot be invoiced: the other accounts are
still invoiced, the run is tried again (it is idempotent), and when it still does not finish billing is told by
e-mail and the log records it; not just a line in the worker's log that nobody reads until next month."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from celery.exceptions import Retry
from django.core import mail

from tests.factories import make_cdr
from traffic.models import Invoice
from traffic.services import invoices as invoicing
from traffic.tasks import invoice_run
from voipxs.privacy.models import AuditEntry

pytestmark = pytest.mark.django_db

MARCH = date(2026, 3, 1)
T0 = datetime(2026, 3, 10, 9, 0, tzinfo=timezone.utc)


LINES = invoicing._invoice_lines


def _fault(monkeypatch, account, times: int) -> list[int]:
    """A fault in the account's invoice (say, a database error on its rows), the first `times` tries."""
    tries = []

    def failing(*, account_id, **kwargs):
        if account_id == account.pk and len(tries) < times:
            tries.append(account_id)
            raise RuntimeError("fault injected")
        return LINES(account_id=account_id, **kwargs)

    monkeypatch.setattr(invoicing, "_invoice_lines", failing)
    return tries


@pytest.fixture
def alice_fails(monkeypatch, alice):
    return _fault(monkeypatch, alice, times=100)


class InvoiceRunFailureTests:
    def test_one_failing_account_does_not_hold_back_the_others(self, alice, bob, alice_fails):
        make_cdr(account=alice, started_at=T0)
        make_cdr(account=bob, started_at=T0)

        with pytest.raises(invoicing.InvoiceRunIncomplete):
            invoicing.invoice_run(month=MARCH, today=date(2026, 4, 1))

        assert list(Invoice.objects.values_list("account_id", flat=True)) == [bob.pk]

    def test_a_failed_run_is_tried_again_later_and_tells_nobody_yet(self, alice, bob, billing_staff, alice_fails):
        make_cdr(account=alice, started_at=T0)
        make_cdr(account=bob, started_at=T0)

        with pytest.raises(Retry) as retry:
            invoice_run.apply(args=("2026-03",))

        assert retry.value.when == 600 and retry.value.sig.args == ("2026-03",)
        assert Invoice.objects.filter(account=bob).count() == 1
        assert mail.outbox == [] and not AuditEntry.objects.filter(action="invoice.run_failed").exists()

    def test_the_last_try_failing_tells_billing_and_the_log(self, alice, bob, billing_staff, alice_fails):
        make_cdr(account=alice, started_at=T0)
        make_cdr(account=bob, started_at=T0)
        for tries in range(invoice_run.max_retries):
            with pytest.raises(Retry):
                invoice_run.apply(args=("2026-03",), retries=tries)

        with pytest.raises(invoicing.InvoiceRunIncomplete):
            invoice_run.apply(args=("2026-03",), retries=invoice_run.max_retries)

        assert len(alice_fails) == 1 + invoice_run.max_retries
        assert Invoice.objects.filter(account=bob).count() == 1  # made once, not on every try
        [message] = mail.outbox
        assert message.to == [billing_staff.email]
        assert "2026-03" in message.subject and "RuntimeError" in message.body and "4 tries" in message.body
        assert alice.email not in message.body and "fault injected" not in message.body
        [entry] = AuditEntry.objects.filter(action="invoice.run_failed")
        assert entry.extra == {"month": "2026-03", "error": "InvoiceRunIncomplete", "failed": 1,
                               "causes": ["RuntimeError"]}

    def test_a_run_that_succeeds_on_a_retry_tells_nobody(self, alice, bob, billing_staff, monkeypatch):
        make_cdr(account=alice, started_at=T0)
        tries = _fault(monkeypatch, alice, times=1)
        with pytest.raises(Retry):
            invoice_run.apply(args=("2026-03",))

        invoice_run.apply(args=("2026-03",), retries=1)

        assert tries == [alice.pk]
        assert Invoice.objects.filter(account=alice).count() == 1
        assert mail.outbox == [] and not AuditEntry.objects.filter(action="invoice.run_failed").exists()
