"""Batching, a failure inside a batch, and the lock (imitates zulip's test_archiving_interrupted)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils.timezone import now

from retention.models import PurgeLock, PurgeReceipt, PurgeRun
from retention.purge.lock import ANOTHER_PURGE_RUNNING, PurgeBusy, PurgeLeaseLost, purge_lease
from retention.purge.run import purge_expired
from retention.purge.runs import RUN_FAILED_ACTION
from tests.factories import make_cdr
from tests.retention.helpers import at, make_invoice, surviving
from traffic.models import Cdr
from voipxs.models import AuditEntry


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
        # and of the step it died in, as far as it got: exactly the committed batch
        assert failed.receipts.get(category="cdr_unbilled").deleted == 2
        entry = AuditEntry.objects.get(action=RUN_FAILED_ACTION, target_id=str(failed.pk))
        assert entry.extra["cdr_unbilled"] == 2 and entry.extra["step"] == "cdr_unbilled"

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
    def test_it_refuses_to_run_while_another_purge_holds_the_lock_and_says_when_it_runs_out(
            self, seven_expired_and_two_kept):
        expired, _ = seven_expired_and_two_kept
        renewed = now() - timedelta(seconds=10)
        PurgeLock.objects.update_or_create(pk=1, defaults={"holder": "other", "renewed_at": renewed})
        with pytest.raises(PurgeBusy, match=ANOTHER_PURGE_RUNNING) as refused:
            purge_expired(now=at(2026, 7, 1))
        assert refused.value.expires_at == renewed + purge_lease()
        assert surviving(expired) == set(expired)
        assert not PurgeRun.objects.exists()  # a refused run leaves no run row

    def test_a_dry_run_is_never_refused(self, seven_expired_and_two_kept):
        PurgeLock.objects.update_or_create(pk=1, defaults={"holder": "other", "renewed_at": now()})
        assert purge_expired(now=at(2026, 7, 1), dry_run=True)["status"] == "done"

    @override_settings(PURGE_LEASE_SECONDS=60)
    def test_it_takes_over_the_lock_of_a_dead_run_once_its_lease_ran_out_and_marks_the_run_failed(
            self, seven_expired_and_two_kept):
        expired, _ = seven_expired_and_two_kept
        dead = PurgeRun.objects.create(as_of=at(2026, 7, 1), state={"step": "cdr_unbilled", "months": {}})
        PurgeReceipt.objects.create(run=dead, category="cdr_unbilled", deleted=3)
        silent = now() - timedelta(seconds=61)
        PurgeLock.objects.update_or_create(pk=1, defaults={"holder": "dead", "renewed_at": silent})
        purge_expired(now=at(2026, 7, 1))
        assert surviving(expired) == set()
        assert PurgeLock.objects.get(pk=1).renewed_at is None  # released at the end
        dead.refresh_from_db()
        assert dead.status == PurgeRun.Status.FAILED and "cdr_unbilled" in dead.error
        entry = AuditEntry.objects.get(action=RUN_FAILED_ACTION)
        assert entry.target_id == str(dead.pk) and entry.extra["cdr_unbilled"] == 3

    def test_it_releases_the_lock_when_a_run_fails(self, seven_expired_and_two_kept):
        def boom(step: str) -> None:
            raise WorkerDied()

        with pytest.raises(WorkerDied):
            purge_expired(now=at(2026, 7, 1), fault=boom)
        purge_expired(now=at(2026, 7, 1))  # not refused

    def test_a_stalled_run_whose_lease_was_taken_over_stops_and_its_batch_rolls_back(self, seven_expired_and_two_kept):
        expired, _ = seven_expired_and_two_kept
        batches = []

        def taken_over_in_second_batch(step: str) -> None:
            batches.append(step)
            if batches.count("batch:cdr_unbilled") == 2:  # meanwhile its lease ran out and another run took it
                PurgeLock.objects.filter(pk=1).update(holder="the next run")

        with pytest.raises(PurgeLeaseLost):
            purge_expired(now=at(2026, 7, 1), chunk_size=2, fault=taken_over_in_second_batch)
        assert len(surviving(expired)) == 5  # only the first batch committed
        run = PurgeRun.objects.get()
        assert run.status == PurgeRun.Status.FAILED
        assert {r.category: r.deleted for r in run.receipts.all()}["cdr_unbilled"] == 2


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
