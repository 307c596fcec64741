"""Batching, a failure inside a batch, and the lock (imitates zulip's test_archiving_interrupted)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils.timezone import now

from retention.models import PurgeLock, PurgeRun
from retention.purge.lock import ANOTHER_PURGE_RUNNING, PurgeBusy
from retention.purge.run import purge_expired
from tests.factories import make_cdr
from tests.retention.helpers import at, make_invoice, surviving
from traffic.models import Cdr


class WorkerDied(Exception):
    pass


@pytest.fixture
def seven_expired_and_two_kept(alice):
    from datetime import date

    expired = [make_cdr(account=alice, started_at=at(2026, 3, 1 + i), rating="free").id for i in range(7)]
    invoice = make_invoice(account=alice, period=date(2026, 3, 1), status="open")
    kept = [make_cdr(account=alice, started_at=at(2026, 3, 20 + i), invoice=invoice).id for i in range(2)]
    return expired, kept


@pytest.mark.django_db
class PurgeBatchingTests:
    def test_it_deletes_in_batches_of_chunk_size_until_a_batch_finds_nothing(self, seven_expired_and_two_kept):
        expired, kept = seven_expired_and_two_kept
        batches = []
        result = purge_expired(now=at(2026, 7, 1), chunk_size=2, fault=batches.append)
        assert batches.count("batch:cdr_unbilled") == 4  # 2 + 2 + 2 + 1
        assert surviving(expired) == set()
        assert surviving(kept) == set(kept)
        assert next(r for r in result["receipts"] if r["category"] == "cdr_unbilled")["deleted"] == 7


@pytest.mark.django_db
class PurgeInterruptedTests:
    def test_it_loses_only_the_failed_batch_and_the_next_run_finishes(self, seven_expired_and_two_kept):
        expired, kept = seven_expired_and_two_kept
        seen = []

        def die_in_second_batch(step: str) -> None:
            seen.append(step)
            if step == "batch:cdr_unbilled" and seen.count(step) == 2:
                raise WorkerDied()

        with pytest.raises(WorkerDied):
            purge_expired(now=at(2026, 7, 1), chunk_size=2, fault=die_in_second_batch)
        # The first batch is committed, the second rolled back, the rest untouched.
        assert len(surviving(expired)) == 5
        assert surviving(kept) == set(kept)
        failed = PurgeRun.objects.latest("started_at")
        assert failed.status == PurgeRun.Status.FAILED and "WorkerDied" in failed.error
        assert "cdr_unbilled" in failed.error  # the step it died in
        assert failed.receipts.filter(category="cdr_billed").exists()  # receipts of the steps it finished

        result = purge_expired(now=at(2026, 7, 1), chunk_size=2)
        assert surviving(expired) == set()
        assert surviving(kept) == set(kept)
        assert next(r for r in result["receipts"] if r["category"] == "cdr_unbilled")["deleted"] == 5

    def test_it_is_idempotent(self, seven_expired_and_two_kept):
        purge_expired(now=at(2026, 7, 1))
        count = Cdr.objects.count()
        again = purge_expired(now=at(2026, 7, 1))
        assert Cdr.objects.count() == count
        assert all(r["deleted"] == 0 for r in again["receipts"])


@pytest.mark.django_db
class PurgeLockTests:
    def test_it_refuses_to_run_while_another_purge_holds_the_lock(self, seven_expired_and_two_kept):
        expired, _ = seven_expired_and_two_kept
        PurgeLock.objects.update_or_create(pk=1, defaults={"holder": "other", "held_until": now() + timedelta(minutes=5)})
        with pytest.raises(PurgeBusy, match=ANOTHER_PURGE_RUNNING):
            purge_expired(now=at(2026, 7, 1))
        assert surviving(expired) == set(expired)

    def test_it_takes_over_the_lock_of_a_dead_run_once_its_lease_ran_out(self, seven_expired_and_two_kept):
        expired, _ = seven_expired_and_two_kept
        PurgeLock.objects.update_or_create(pk=1, defaults={"holder": "dead", "held_until": now() - timedelta(seconds=1)})
        purge_expired(now=at(2026, 7, 1))
        assert surviving(expired) == set()
        assert PurgeLock.objects.get(pk=1).held_until is None  # released at the end

    def test_it_releases_the_lock_when_a_run_fails(self, seven_expired_and_two_kept):
        def boom(step: str) -> None:
            raise WorkerDied()

        with pytest.raises(WorkerDied):
            purge_expired(now=at(2026, 7, 1), fault=boom)
        purge_expired(now=at(2026, 7, 1))  # not refused


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
class PurgeConcurrentRunsTests:
    def test_a_second_run_on_another_connection_exits_while_the_first_is_inside_a_batch(self, seven_expired_and_two_kept):
        import threading

        from django.db import connection

        inside, release, outcome = threading.Event(), threading.Event(), {}

        def hold_the_batch(step: str) -> None:
            if step == "batch:cdr_unbilled" and not inside.is_set():
                inside.set()
                release.wait(10)

        def first_run() -> None:
            try:
                outcome["first"] = purge_expired(now=at(2026, 7, 1), fault=hold_the_batch)
            finally:
                connection.close()

        worker = threading.Thread(target=first_run)
        worker.start()
        try:
            assert inside.wait(10)
            with pytest.raises(PurgeBusy):
                purge_expired(now=at(2026, 7, 1))
        finally:
            release.set()
            worker.join(20)
        assert outcome["first"]["status"] == "done"
        expired, kept = seven_expired_and_two_kept
        assert surviving(expired) == set() and surviving(kept) == set(kept)
