"""traffic 0017: an upheld dispute's void invoice that waited with no end date for its corrected invoice gets one,
the end of its appeal period counted from the decision, and never less than 30 days from the upgrade, so that
billing is reminded and can still reissue it."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils.timezone import now

BEFORE, AFTER = [("traffic", "0016_cdr_annotation")], [("traffic", "0017_invoice_reissue_deadline")]


@pytest.mark.postgres  # migrating back and forth; SQLite's append-only audit trigger refuses the flush after it
@pytest.mark.django_db(transaction=True)
def test_void_invoices_waiting_with_no_end_get_the_end_of_their_appeal_period(alice, settings):
    settings.INVOICE_DISPUTE_APPEAL_DAYS = 365
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    Invoice = executor.loader.project_state(BEFORE).apps.get_model("traffic", "Invoice")
    window = now().date() - timedelta(days=100)

    def void(number: str, decided_days_ago: int | None, period: date) -> int:
        decided = now() - timedelta(days=decided_days_ago) if decided_days_ago is not None else None
        return Invoice.objects.create(
            number=number, account_id=alice.pk, period=period, due_date=window, dispute_window_ends=window,
            status="void", dispute_resolved_at=decided, settled_at=decided, calls_kept_until=None).pk

    recent = void("INV-1", 10, date(2026, 1, 1))  # decided ten days ago: 355 days to go
    old = void("INV-2", 350, date(2026, 2, 1))  # 15 days to go: at least 30 from the upgrade
    dated = Invoice.objects.create(number="INV-3", account_id=alice.pk, period=date(2026, 3, 1), due_date=window,
                                   dispute_window_ends=window, status="paid", calls_kept_until=window).pk

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(AFTER)
    Invoice = executor.loader.project_state(AFTER).apps.get_model("traffic", "Invoice")
    kept = dict(Invoice.objects.values_list("pk", "calls_kept_until"))
    today = now().date()
    assert kept[recent] == today - timedelta(days=10) + timedelta(days=365)
    assert kept[old] == today + timedelta(days=30)
    assert kept[dated] == window  # untouched

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())  # the test database as the other tests expect it
