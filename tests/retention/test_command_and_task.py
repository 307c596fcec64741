"""`manage.py purge_expired` and the Celery task, including a real worker on Redis."""
from __future__ import annotations

import json
import time
from datetime import timedelta
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
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

    def test_it_purges_and_prints_counts(self, old_free_call):
        out = StringIO()
        call_command("purge_expired", stdout=out)
        assert "cdr_unbilled" in out.getvalue() and "removed" in out.getvalue()
        assert not Cdr.objects.filter(id=old_free_call.id).exists()
        receipts = PurgeReceipt.objects.filter(category__in=REMOVED_WITH, dry_run=False)
        assert sum(receipts.values_list("deleted", flat=True)) == 1

    def test_it_says_another_purge_is_running_and_does_nothing(self, old_free_call):
        PurgeLock.objects.update_or_create(pk=1, defaults={"holder": "x", "held_until": now() + timedelta(minutes=5)})
        err = StringIO()
        call_command("purge_expired", stdout=StringIO(), stderr=err)
        assert ANOTHER_PURGE_RUNNING in err.getvalue()
        assert Cdr.objects.filter(id=old_free_call.id).exists()


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



@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
class PurgeWorkerTests:
    def test_a_real_worker_on_redis_runs_the_purge(self, old_free_call, real_worker):
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
