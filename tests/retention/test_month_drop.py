"""PostgreSQL: a fully expired month goes by DETACH of its partitions and destruction of its month key in
one transaction (what must stay is copied to the hold table first), so every copy of the month is
unreadable from that commit; the DROP of the detached tables (the reclaim) comes after, and the next run
finishes it when a run died in between."""
from __future__ import annotations

from datetime import date

import pytest

from retention.models import Category, HeldCdr, PurgedMonth
from retention.purge.months import detached_tables
from retention.purge.run import purge_expired
from retention.selectors import held_cdr_list
from retention.services import legal_hold_place
from tests.factories import make_cdr
from tests.retention.helpers import at, make_invoice, surviving
from traffic.keys import MonthKeyDestroyed, decrypt_number
from traffic.models import MonthKey
from traffic.partitions import cdr_partitions_list_names
from voipxs.privacy.crypto import DecryptionError

JAN = date(2026, 1, 1)


class WorkerDied(Exception):
    pass


@pytest.fixture
def january(alice, bob, mallory):
    paid = make_invoice(account=alice, period=JAN, status="paid", window_ends=date(2026, 8, 1))
    disputed = make_invoice(account=bob, period=JAN, status="disputed", window_ends=date(2026, 8, 1))
    return {
        "paid": make_cdr(account=alice, src="+31205550101", dst="+31699993678", started_at=at(2026, 1, 10), invoice=paid,
                         technical={"ip": "192.0.2.7"}),
        "held": make_cdr(account=mallory, src="+31205550999", dst="+31699997321", started_at=at(2026, 1, 11),
                         rating="free", caller_name="Mallory"),
        "disputed": make_cdr(account=bob, src="+31205550201", started_at=at(2026, 1, 12), invoice=disputed),
        "free": make_cdr(account=alice, started_at=at(2026, 1, 13), rating="free"),
    }


def hold_mallory(dpo, **kwargs):
    return legal_hold_place(reason="disclosure_request", reference="disclosure:12", owner="disclosure", numbers=["+31205550999"],
                            categories=[Category.CDR_BILLED, Category.CDR_UNBILLED], window_start=at(2026, 1, 1),
                            window_end=at(2026, 2, 1), starts_at=at(2026, 6, 1), actor=dpo, **kwargs)


@pytest.mark.postgres
@pytest.mark.django_db
class MonthDropTests:
    def test_it_drops_the_partitions_and_destroys_the_month_key(self, january, dpo):
        hold_mallory(dpo, expires_at=at(2026, 12, 1))
        copy_of_src = bytes(january["paid"].src_enc)  # e.g. from a backup
        result = purge_expired(now=at(2026, 8, 2))
        drop = next(r for r in result["receipts"] if r["category"] == "cdr_month_drop")
        [month] = drop["details"]["months"]
        assert month["month"] == "2026-01"
        assert drop["deleted"] == 2 and drop["kept"] == 2
        # The key went with the detach (the month drop's receipt says when), not in the later key step.
        keys = next(r for r in result["receipts"] if r["category"] == "month_key")
        assert keys["details"]["months"] == []
        purged = PurgedMonth.objects.get(month=JAN)
        assert purged.method == PurgedMonth.Method.DETACHED
        assert purged.shredded_at == MonthKey.objects.get(month=JAN).destroyed_at
        assert month["shredded_at"] == purged.shredded_at.isoformat()
        assert month["reclaimed_at"] == purged.reclaimed_at.isoformat() and purged.reclaimed_at > purged.shredded_at
        reclaim = next(r for r in result["receipts"] if r["category"] == "cdr_month_reclaim")
        assert [(m["month"], m["reclaimed_at"]) for m in reclaim["details"]["months"]] == [
            ("2026-01", purged.reclaimed_at.isoformat())]
        names = cdr_partitions_list_names()
        assert "traffic_cdr_y2026m01" not in names and "traffic_cdrtechnical_y2026m01" not in names
        assert MonthKey.objects.get(month=JAN).wrapped_key is None
        with pytest.raises(MonthKeyDestroyed):
            decrypt_number(copy_of_src, started_at=at(2026, 1, 10))

    def test_it_keeps_a_held_numbers_calls_readable_from_the_hold_table_until_the_hold_ends(self, january, dpo, legal1):
        hold_mallory(dpo, expires_at=at(2026, 9, 1))
        purge_expired(now=at(2026, 8, 2))
        calls = held_cdr_list(actor=legal1, purpose="legal_obligation", number="+31205550999")
        assert [(c.cdr_id, c.src, c.dst) for c in calls] == [(january["held"].id, "+31205550999", "+31699997321")]
        assert surviving([january["disputed"].id]) == {january["disputed"].id}  # disputed: copied as well
        assert surviving([january["paid"].id, january["free"].id]) == set()

        purge_expired(now=at(2026, 9, 2))  # first run after the hold expired
        assert held_cdr_list(actor=legal1, purpose="legal_obligation", number="+31205550999") == []
        assert surviving([january["disputed"].id]) == {january["disputed"].id}  # still disputed

    def test_it_keeps_the_month_intact_when_the_run_dies_before_the_detach_commits(self, january, dpo):
        hold_mallory(dpo)

        def die(step: str) -> None:
            if step == "month:copied":
                raise WorkerDied()

        with pytest.raises(WorkerDied):
            purge_expired(now=at(2026, 8, 2), fault=die)
        assert "traffic_cdr_y2026m01" in cdr_partitions_list_names()
        assert HeldCdr.objects.count() == 0
        assert decrypt_number(january["paid"].src_enc, started_at=january["paid"].started_at) == "+31205550101"
        purge_expired(now=at(2026, 8, 2))
        assert "traffic_cdr_y2026m01" not in cdr_partitions_list_names()
        assert HeldCdr.objects.count() == 2

    def test_the_month_is_unreadable_before_its_tables_are_dropped_and_the_next_run_drops_them(self, january, dpo):
        copy_of_src = bytes(january["paid"].src_enc)

        def die(step: str) -> None:
            if step == "month:dropped":  # inside the reclaim's transaction: the DROP rolls back
                raise WorkerDied()

        with pytest.raises(WorkerDied):
            purge_expired(now=at(2026, 8, 2), fault=die)
        assert "traffic_cdr_y2026m01" not in cdr_partitions_list_names()
        assert detached_tables() == ["retention_detached_traffic_cdr_y2026m01",
                                      "retention_detached_traffic_cdrtechnical_y2026m01"]
        assert MonthKey.objects.get(month=JAN).wrapped_key is None  # shredded with the detach
        with pytest.raises(MonthKeyDestroyed):
            decrypt_number(copy_of_src, started_at=at(2026, 1, 10))
        assert PurgedMonth.objects.get(month=JAN).reclaimed_at is None
        purge_expired(now=at(2026, 8, 2))
        assert detached_tables() == []
        assert PurgedMonth.objects.get(month=JAN).reclaimed_at is not None

    def test_a_run_that_died_right_after_the_shred_leaves_the_month_unreadable_and_the_next_run_reclaims_it(
            self, january, dpo):
        def die(step: str) -> None:
            if step == "month:shredded":
                raise WorkerDied()

        with pytest.raises(WorkerDied):
            purge_expired(now=at(2026, 8, 2), fault=die)
        assert MonthKey.objects.get(month=JAN).wrapped_key is None
        assert len(detached_tables()) == 2
        result = purge_expired(now=at(2026, 8, 2))
        reclaim = next(r for r in result["receipts"] if r["category"] == "cdr_month_reclaim")
        assert [m["month"] for m in reclaim["details"]["months"]] == ["2026-01"]
        assert detached_tables() == []

    def test_it_does_not_drop_a_month_whose_invoices_are_inside_their_window(self, january):
        purge_expired(now=at(2026, 7, 30))
        assert "traffic_cdr_y2026m01" in cdr_partitions_list_names()
        assert surviving([january["free"].id]) == set()  # by batch: unbilled and 3 months old


@pytest.mark.django_db
class EmptiedMonthKeyTests:
    def test_it_destroys_the_key_of_a_month_that_batches_emptied(self, alice):
        cdr = make_cdr(account=alice, started_at=at(2026, 2, 10), rating="free")
        copy = bytes(cdr.src_enc)
        purge_expired(now=at(2026, 6, 1))
        with pytest.raises(DecryptionError):
            decrypt_number(copy, started_at=at(2026, 2, 10))

    def test_it_keeps_the_key_while_a_row_of_the_month_remains(self, alice):
        invoice = make_invoice(account=alice, period=date(2026, 2, 1), status="open")
        make_cdr(account=alice, started_at=at(2026, 2, 10), rating="free")
        kept = make_cdr(account=alice, started_at=at(2026, 2, 11), invoice=invoice)
        purge_expired(now=at(2026, 6, 1))
        assert decrypt_number(kept.src_enc, started_at=kept.started_at) == "+31205550101"
