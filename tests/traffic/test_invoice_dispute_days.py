"""An invoice's dispute window and the appeal period after a decision are counted in Amsterdam days, the days the
invoice page shows: a dispute at 00:30 on the day after the window's last day (22:30 UTC on that last day) is too
late, and a decision taken at 00:30 on 1 July counts its appeal period from 1 July, not from 30 June (UTC), so the
calls are not deleted a day before the customer's appeal period ends."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from tests.factories import make_cdr
from traffic.models import Invoice
from traffic.services import invoices as invoicing
from voipxs.exceptions import ApplicationError

pytestmark = pytest.mark.django_db

AMS = ZoneInfo("Europe/Amsterdam")


@pytest.fixture
def invoice(alice) -> Invoice:
    make_cdr(account=alice, started_at=datetime(2026, 3, 10, 9, 0, tzinfo=timezone.utc))
    made = invoicing.invoice_run(month=date(2026, 3, 1), today=date(2026, 4, 1))[0]
    Invoice.objects.filter(pk=made.pk).update(dispute_window_ends=date(2026, 9, 30), calls_kept_until=date(2026, 9, 30))
    return Invoice.objects.get(pk=made.pk)


def _at(monkeypatch, moment: datetime) -> None:
    monkeypatch.setattr(invoicing, "now", lambda: moment.astimezone(timezone.utc))


class DisputeDaysTests:
    def test_a_dispute_after_midnight_following_the_windows_last_day_is_refused(self, invoice, billing_staff,
                                                                                monkeypatch):
        _at(monkeypatch, datetime(2026, 10, 1, 0, 30, tzinfo=AMS))  # 30 September 22:30 UTC
        with pytest.raises(ApplicationError) as info:
            invoicing.invoice_dispute(invoice=invoice, actor=billing_staff)
        assert "window" in info.value.message
        assert Invoice.objects.get(pk=invoice.pk).status == Invoice.Status.OPEN

    def test_a_dispute_late_on_the_windows_last_day_is_taken(self, invoice, billing_staff, monkeypatch):
        _at(monkeypatch, datetime(2026, 9, 30, 23, 30, tzinfo=AMS))
        assert invoicing.invoice_dispute(invoice=invoice, actor=billing_staff).status == Invoice.Status.DISPUTED

    @pytest.mark.parametrize("resolution", ["rejected", "upheld"])
    def test_the_appeal_period_counts_from_the_day_of_the_decision_in_amsterdam(self, settings, invoice,
                                                                                billing_staff, monkeypatch, resolution):
        settings.INVOICE_DISPUTE_APPEAL_DAYS = 365
        _at(monkeypatch, datetime(2026, 6, 20, 12, 0, tzinfo=AMS))
        invoicing.invoice_dispute(invoice=invoice, actor=billing_staff)
        _at(monkeypatch, datetime(2026, 7, 1, 0, 30, tzinfo=AMS))  # 30 June 22:30 UTC
        decided = invoicing.invoice_resolve_dispute(invoice=invoice, actor=billing_staff, resolution=resolution)
        assert decided.calls_kept_until == date(2026, 7, 1) + timedelta(days=365)
