"""PostgreSQL: a partition is a UTC month, an invoice Amsterdam's. January's partition ends with February's first
hour in Amsterdam (23:00-24:00 UTC on 31 January), whose calls February's invoice bills. Dropping January's
partition once January's invoices are out of their window keeps those calls while February's invoice still needs
them (open or disputed, or inside its window: copied to the hold table, still on that invoice), and removes
January's own calls that no longer need keeping."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from retention.models import HeldCdr
from retention.purge.run import purge_expired
from tests.factories import make_cdr
from tests.retention.helpers import at, make_invoice, surviving
from traffic.partitions import cdr_partitions_list_names

FIRST_FEB_0030 = datetime(2026, 1, 31, 23, 30, tzinfo=timezone.utc)  # 1 February 00:30 in Amsterdam


@pytest.mark.postgres
@pytest.mark.django_db
class AmsterdamHourInTheUtcPartitionTests:
    def test_februarys_first_hour_stays_with_its_disputed_invoice_when_januarys_partition_goes(self, alice, bob):
        january = make_invoice(account=alice, period=date(2026, 1, 1), status="paid", window_ends=date(2026, 8, 1))
        february = make_invoice(account=bob, period=date(2026, 2, 1), status="disputed", window_ends=date(2026, 9, 1))
        own = make_cdr(account=alice, started_at=at(2026, 1, 10), invoice=january)
        first_hour = make_cdr(account=bob, src="+31205550201", started_at=FIRST_FEB_0030, invoice=february)
        purge_expired(now=at(2026, 8, 2))
        assert "traffic_cdr_y2026m01" not in cdr_partitions_list_names()  # the UTC partition went whole
        assert surviving([own.id]) == set()
        assert surviving([first_hour.id]) == {first_hour.id}
        assert HeldCdr.objects.get(cdr_id=first_hour.id).invoice_id == february.pk  # still February's, for a reissue

    def test_februarys_first_hour_goes_with_a_paid_invoice_out_of_its_window(self, alice, bob):
        january = make_invoice(account=alice, period=date(2026, 1, 1), status="paid", window_ends=date(2026, 8, 1))
        february = make_invoice(account=bob, period=date(2026, 2, 1), status="paid", window_ends=date(2026, 8, 1))
        make_cdr(account=alice, started_at=at(2026, 1, 10), invoice=january)
        first_hour = make_cdr(account=bob, src="+31205550201", started_at=FIRST_FEB_0030, invoice=february)
        purge_expired(now=at(2026, 8, 2))
        assert "traffic_cdr_y2026m01" not in cdr_partitions_list_names()
        assert surviving([first_hour.id]) == set()
