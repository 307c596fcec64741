"""`manage.py purge_expired` and the Celery task, including a real worker on Redis."""
from __future__ import annotations

import json
import time
from datetime import timedelta
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.utils.timezone import now

from retention.models import PurgeLock, PurgeReceipt, PurgeRun
from retention.purge.lock import ANOTHER_PURGE_RUNNING
from tests.factories import make_cdr
from traffic.models import Cdr


@pytest.fixture
def old_free_call(alice):
    return make_cdr(account=alice, started_at=now() - timedelta(days=120), rating="free")


# The old call goes in a batch (cdr_unbilled), or with its whole month (cdr_month_drop) on PostgreSQL when
# every day of its month is past retention, which depends on today's date.
REMOVED_WITH = ("cdr_unbilled", "cdr_month_drop")


@pytest.mark.django_db
class PurgeCommandTests:
    def test_it_prints_the_receipt_as_json_and_deletes_nothing_on_a_dry_run(self, old_free_call):
        out = StringIO()
        call_command("purge_expired", "--dry-run", "--json", stdout=out)
        receipt = json.loads(out.getvalue())
        assert receipt["dry_run"] is True
        assert sum(r["deleted"] for r in receipt["receipts"] if r["category"] in REMOVED_WITH) == 1
        assert Cdr.objects.filter(id=old_free_call.id).exists()

    @pytest.mark.parametrize("size", ["0", "-5"])
    def test_it_refuses_a_batch_size_below_one_rather_than_report_a_run_that_deleted_nothing(self, old_free_call, size):
        # 0 left every batch step empty and the run "done" with the expired call still there; -5 crashed mid-run.
        with pytest.raises(CommandError, match="--chunk-size"):
            call_command("purge_expired", "--yes", "--chunk-size", size, stdout=StringIO())
        assert not PurgeRun.objects.exists() and Cdr.objects.filter(id=old_free_call.id).exists()

    def test_it_purges_and_prints_counts(self, old_free_call):
        out = StringIO()
        call_command("purge_expired", stdout=out)
        assert "cdr_unbilled" in out.getvalue() and "removed" in out.getvalue()
        assert not Cdr.objects.filter(id=old_free_call.id).exists()
        receipts = PurgeReceipt.objects.filter(category__in=REMOVED_WITH, dry_run=False)
        assert sum(receipts.values_list("deleted", flat=True)) == 1

    def test_it_fails_saying_another_purge_is_running_and_when_its_lease_runs_out(self, old_free_call):
        renewed = now() - timedelta(minutes=1)
        PurgeLock.objects.update_or_create(pk=1, defaults={"holder": "x", "renewed_at": renewed})
        # CommandError: `manage.py purge_expired` exits 1 with the message, so an operator's cron sees it.
        with pytest.raises(CommandError, match=ANOTHER_PURGE_RUNNING) as refused:
            call_command("purge_expired", stdout=StringIO(), stderr=StringIO())
        assert f"{renewed + timedelta(seconds=settings.PURGE_LEASE_SECONDS):%Y-%m-%d %H:%M:%S}" in str(refused.value)
        assert Cdr.objects.filter(id=old_free_call.id).exists()

    def test_a_dry_run_runs_while_another_purge_holds_the_lease(self, old_free_call):
        PurgeLock.objects.update_or_create(pk=1, defaults={"holder": "x", "renewed_at": now()})
        out = StringIO()
        call_command("purge_expired", "--dry-run", "--json", stdout=out)
        assert json.loads(out.getvalue())["status"] == "done"
        assert PurgeLock.objects.get(pk=1).holder == "x"  # a dry run takes no lease


@pytest.mark.django_db
class PurgeTaskTests:
    def test_it_runs_the_purge_and_returns_counts_only(self, old_free_call):
        from retention.tasks import purge_expired_task

        result = purge_expired_task()
        assert sum(result["deleted"][category] for category in REMOVED_WITH) == 1
        assert json.dumps(result)  # JSON only

    def test_it_is_scheduled_daily_at_three_in_amsterdam(self):
        entry = settings.CELERY_BEAT_SCHEDULE["retention-purge-expired"]
        assert entry["task"] == "retention.tasks.purge_expired_task"
        assert entry["schedule"].hour == {3} and entry["schedule"].minute == {0}
        assert settings.CELERY_TIMEZONE == "Europe/Amsterdam"

    def test_it_answers_busy_with_the_end_of_the_lease(self, old_free_call):
        from retention.tasks import purge_expired_task

        PurgeLock.objects.update_or_create(pk=1, defaults={"holder": "x", "renewed_at": now()})
        result = purge_expired_task()
        assert result["busy"] is True and result["lease_expires_at"]
        assert purge_expired_task(dry_run=True)["run"]  # a dry run is never busy

    def test_the_reaper_runs_every_five_minutes(self):
        from retention.tasks import purge_runs_reap_task

        entry = settings.CELERY_BEAT_SCHEDULE["purge-runs-reap"]
        assert entry["task"] == purge_runs_reap_task.name == "retention.tasks.purge_runs_reap"
        assert entry["schedule"].minute == set(range(0, 60, 5))
        assert purge_runs_reap_task() == 0



@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
class PurgeWorkerTests:
    def test_a_real_worker_on_redis_runs_the_purge(self, committed, old_free_call, real_worker):
        from retention.tasks import purge_expired_task

        async_result = purge_expired_task.delay()
        assert async_result.id
        deadline = time.monotonic() + 30
        done = PurgeRun.objects.filter(status=PurgeRun.Status.DONE)
        while done.count() < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert done.filter(dry_run=False).count() == 1
        assert done.filter(dry_run=True).count() == 1  # tomorrow's preview for the DPO's page
        assert not Cdr.objects.filter(id=old_free_call.id).exists()
