"""A purge SIGKILLed mid-run, for real (issue 16, item 7): a purge runs in a process of its own
(tests/retention/purge_child.py), commits three batches, stops inside the fourth and is killed there.

Before the fix a rerun and the DPO's dry run exited 0 saying another purge runs, for the 40 minutes of
the old lease; the run stayed `running` forever; its deletions had no receipt and no audit entry. Now
the lease runs out PURGE_LEASE_SECONDS after the last committed batch, the rerun is refused until then
(exit 1, saying when), a dry run is never refused, the receipts say exactly what the killed run
removed, and whoever takes over (the next purge, or the reaper) marks it failed with an audit entry.

On SQLite the test database lives in memory, which another process cannot open: the test copies it to
a file for the child (sqlite3's backup API) and copies the file back once the child is dead.
"""
from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Callable
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection
from django.test import override_settings
from django.utils.timezone import now

from retention.models import PurgeLock, PurgeReceipt, PurgeRun
from retention.purge.lock import ANOTHER_PURGE_RUNNING, PurgeBusy, purge_lease
from retention.purge.run import purge_expired
from retention.purge.runs import RUN_FAILED_ACTION, purge_runs_reap
from tests.factories import make_cdrs
from tests.retention.helpers import at
from traffic.models import Cdr
from voipxs.models import AuditEntry

ROOT = Path(settings.BASE_DIR)
AS_OF = at(2026, 7, 20)  # unbilled calls before 20 April go; April itself is not a whole expired month
ROWS, CHUNK, STOP_IN = 400, 50, 4
COMMITTED = CHUNK * (STOP_IN - 1)  # three batches committed; the fourth was deleted but not committed


@dataclass
class Child:
    """The database as the child process sees it, and the purge process itself."""

    env: dict
    bring_back: Callable[[], None]  # SQLite: copy the child's database file back into the test's database
    process: subprocess.Popen | None = None

    def manage(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True,
                              text=True, timeout=120, check=False)

    def start_purge(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.retention.purge_child", AS_OF.isoformat(), str(CHUNK), str(STOP_IN)],
            cwd=ROOT, env=self.env, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout.readline().strip() == "stopped"  # inside batch 4: 3 batches committed

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(10)


def child_for_this_database(tmp_path: Path) -> Child:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "PURGE_LEASE_SECONDS"}}
    env["DJANGO_SETTINGS_MODULE"] = "voipxs.settings_test"
    if connection.vendor == "postgresql":
        s = connection.settings_dict
        env["DATABASE_URL"] = (f"postgres://{quote(s['USER'] or '')}:{quote(s['PASSWORD'] or '')}"
                               f"@{s['HOST'] or 'localhost'}:{s['PORT'] or 5432}/{s['NAME']}")
        return Child(env=env, bring_back=lambda: None)
    path = tmp_path / "child.sqlite3"
    connection.ensure_connection()
    target = sqlite3.connect(path)
    connection.connection.backup(target)
    target.close()
    env["DATABASE_URL"] = f"sqlite:///{path}"

    def bring_back() -> None:
        source = sqlite3.connect(path)  # a hot journal left by the killed child is rolled back here
        source.backup(connection.connection)
        source.close()

    return Child(env=env, bring_back=bring_back)


# Under --clock (tests/clock.py) the test's wall clock is travelled, the child purge's is not.
ONE_CLOCK = pytest.mark.real_clock("the purge runs in a child process, at the real time; the lease it renews and "
                                   "the test's reaper must read one clock")


@pytest.fixture
def expired_calls(alice, audit_log_flushable, partitions_restored):
    make_cdrs(account=alice, n=ROWS, first=at(2026, 4, 19), step=timedelta(minutes=20))


@pytest.fixture
def killed(expired_calls, tmp_path):
    """A purge killed inside its fourth batch, after three batches committed."""
    child = child_for_this_database(tmp_path)
    child.start_purge()
    child.kill()
    return child


@pytest.fixture
def paused(expired_calls, tmp_path):
    """A live purge, stopped inside its fourth batch (its lease renewed by the three before)."""
    child = child_for_this_database(tmp_path)
    child.start_purge()
    yield child
    child.kill()


def the_killed_run() -> PurgeRun:
    return PurgeRun.objects.filter(dry_run=False).order_by("pk").first()


def removed(run: PurgeRun) -> dict[str, int]:
    return {r.category: r.deleted for r in run.receipts.all() if r.deleted}


@ONE_CLOCK
@pytest.mark.django_db(transaction=True)
class KilledPurgeTests:
    def test_a_rerun_is_refused_saying_when_the_lease_runs_out_and_a_dry_run_is_not(self, killed):
        rerun = killed.manage("purge_expired")
        assert rerun.returncode == 1  # an operator's cron sees it
        assert ANOTHER_PURGE_RUNNING in rerun.stderr and "lease expires at" in rerun.stderr
        dry = killed.manage("purge_expired", "--dry-run", "--json")
        assert dry.returncode == 0, dry.stderr
        preview = json.loads(dry.stdout)
        assert preview["status"] == "done"
        would = {r["category"]: r["deleted"] for r in preview["receipts"]}
        # As of today (the command's clock) all of April may go, by batches or (PostgreSQL) with its month.
        assert would.get("cdr_unbilled", 0) + would.get("cdr_month_drop", 0) == ROWS - COMMITTED

        killed.bring_back()
        run = the_killed_run()
        assert run.status == PurgeRun.Status.RUNNING  # its lease has not run out yet
        # The receipt is written as the run goes: exactly the three committed batches, nothing of the fourth.
        assert ROWS - Cdr.objects.count() == COMMITTED
        assert removed(run) == {"cdr_unbilled": COMMITTED}

    def test_once_the_lease_ran_out_the_next_purge_fails_the_dead_run_and_finishes_the_job(self, killed):
        killed.bring_back()
        dead = the_killed_run()
        renewed_at = PurgeLock.objects.get(pk=1).renewed_at
        with override_settings(PURGE_LEASE_SECONDS=1):  # a short lease instead of minutes of waiting
            time.sleep(max(0.0, (renewed_at + purge_lease() - now()).total_seconds()) + 0.05)
            result = purge_expired(now=AS_OF)
        dead.refresh_from_db()
        assert dead.status == PurgeRun.Status.FAILED and dead.finished_at is not None
        assert "cdr_unbilled" in dead.error  # the step it died in
        assert removed(dead) == {"cdr_unbilled": COMMITTED}
        entry = AuditEntry.objects.get(action=RUN_FAILED_ACTION, target_id=str(dead.pk))
        assert entry.extra["cdr_unbilled"] == COMMITTED and entry.extra["step"] == "cdr_unbilled"

        assert result["status"] == "done"
        finished = {r["category"]: r["deleted"] for r in result["receipts"] if r["deleted"]}
        assert finished == {"cdr_unbilled": ROWS - COMMITTED}  # nothing deleted twice: the receipts add up
        assert Cdr.objects.count() == 0
        total = PurgeReceipt.objects.filter(dry_run=False, category="cdr_unbilled")
        assert sum(total.values_list("deleted", flat=True)) == ROWS
        again = purge_expired(now=AS_OF)
        assert all(r["deleted"] == 0 for r in again["receipts"])

    def test_the_reaper_fails_the_dead_run_once_its_lease_ran_out_and_not_before(self, killed):
        killed.bring_back()
        dead = the_killed_run()
        assert purge_runs_reap() == []  # the lease is still live
        renewed_at = PurgeLock.objects.get(pk=1).renewed_at
        assert purge_runs_reap(at=renewed_at + purge_lease() + timedelta(seconds=1)) == [dead.pk]
        dead.refresh_from_db()
        assert dead.status == PurgeRun.Status.FAILED
        assert AuditEntry.objects.filter(action=RUN_FAILED_ACTION, target_id=str(dead.pk)).count() == 1
        assert purge_runs_reap(at=renewed_at + purge_lease() + timedelta(seconds=2)) == []  # once
        assert purge_expired(now=AS_OF)["status"] == "done"  # the reaper freed the lease


@pytest.mark.postgres  # SQLite has one writer at a time: the paused batch holds it, so any write waits
@ONE_CLOCK
@pytest.mark.django_db(transaction=True)
class LivePurgeTests:
    def test_a_dry_run_runs_while_a_purge_is_inside_a_batch_and_a_second_purge_is_refused(self, paused):
        preview = purge_expired(now=AS_OF, dry_run=True)
        assert preview["status"] == "done"
        would = {r["category"]: r["deleted"] for r in preview["receipts"]}
        assert would["cdr_unbilled"] == ROWS - COMMITTED  # the paused batch's deletes are not committed
        with pytest.raises(PurgeBusy, match="lease expires at") as refused:
            purge_expired(now=AS_OF)
        assert refused.value.expires_at > now()
        assert purge_runs_reap() == []  # a live lease is left alone
        assert PurgeRun.objects.get(dry_run=False).status == PurgeRun.Status.RUNNING
