"""The purge's "today" is the Amsterdam day, the day the invoice's dispute window and the DPO's page count in: a
paid invoice's calls kept until 1 August go at 00:00 on 2 August in Amsterdam (22:00 UTC on 1 August in summer, 23:00
in winter), the day the keeper's page names, and not an hour or two later when the UTC day turns."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from retention.keeper import retention_keeper
from retention.purge.run import purge_expired
from tests.factories import make_cdr
from tests.retention.helpers import at, make_invoice, surviving


def _paid_calls(user, window_ends: date) -> list[int]:
    invoice = make_invoice(account=user, period=date(window_ends.year, 1, 1), status="paid", window_ends=window_ends)
    return [make_cdr(account=user, src="+31205550101", started_at=at(window_ends.year, 1, day), invoice=invoice).id
            for day in (5, 20)]


@pytest.mark.django_db
class PurgeAmsterdamDayTests:
    def test_the_page_names_the_day_the_calls_go_and_the_purge_removes_them_at_its_amsterdam_midnight(self, alice):
        calls = _paid_calls(alice, date(2026, 8, 1))
        before = datetime(2026, 8, 1, 21, 59, tzinfo=timezone.utc)  # 23:59 CEST on 1 August
        [kept] = [k for k in retention_keeper(alice, now=before) if k.category == "calls"]
        assert kept.until == date(2026, 8, 2)
        purge_expired(now=before)
        assert surviving(calls) == set(calls)
        purge_expired(now=datetime(2026, 8, 1, 22, 30, tzinfo=timezone.utc))  # 00:30 CEST on 2 August
        assert surviving(calls) == set()

    def test_in_winter_time_too(self, alice):
        calls = _paid_calls(alice, date(2026, 12, 1))
        purge_expired(now=datetime(2026, 12, 1, 22, 59, tzinfo=timezone.utc))  # 23:59 CET on 1 December
        assert surviving(calls) == set(calls)
        dry = purge_expired(now=datetime(2026, 12, 1, 23, 30, tzinfo=timezone.utc), dry_run=True)  # 00:30 CET
        assert surviving(calls) == set(calls)
        assert "2026-12-02" in str(dry)  # the dry run's report: windows ended before 2 December go
        purge_expired(now=datetime(2026, 12, 1, 23, 30, tzinfo=timezone.utc))
        assert surviving(calls) == set()
