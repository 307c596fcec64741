"""Imports whose worker dies mid-run: the lease runs out, the reaper marks them failed with a reason
staff can act on, and a re-run lands exactly the rows that were missing. Plus the hourly rating of
calls left pending or unrated.

A worker "dies" here the way a killed process does: something that is not an Exception stops it
inside a batch, so no handler of ours runs and the import stays "running" (on PostgreSQL a real
worker process is also killed with SIGKILL). Batches are made tiny through traffic.ingest.run.BATCH_SIZE."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.utils.timezone import now

from tests.factories import verified_client
from traffic.ingest import run as ingest_run
from traffic.models import Cdr, CdrImport, Tariff
from traffic.services import imports as services
from traffic.services import rating, sources
from voipxs.models import AuditEntry

ROWS = 7
BATCH = 2
API = "/api/v1/staff/cdr-imports/"


class WorkerKilled(BaseException):
    """What kill -9 looks like from inside: nothing of ours gets to handle it."""


def master_csv(count: int, *, prefix: str = "r") -> bytes:
    lines = [
        f'"","0205550101","0612{n:06d}","ctx","""Alice"" <0205550101>","SIP/a-{n}","SIP/b-{n}","Dial","",'
        f'"2026-05-04 10:00:00","2026-05-04 10:00:05","2026-05-04 10:01:06",66,61,"ANSWERED","DOCUMENTATION","{prefix}.{n}",""'
        for n in range(count)
    ]
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture
def private_dir(tmp_path, settings):
    settings.PRIVATE_FILES_DIR = tmp_path
    settings.CDR_IMPORT_LEASE_SECONDS = 600
    return tmp_path


@pytest.fixture
def small_batches(monkeypatch):
    monkeypatch.setattr(ingest_run, "BATCH_SIZE", BATCH)


@pytest.fixture
def pbx(db):
    return sources.source_create(name="pbx-recover", format="asterisk-csv", timezone="Europe/Amsterdam")


def queued_upload(pbx, data: bytes, django_capture_on_commit_callbacks, actor=None) -> CdrImport:
    """An upload as the staff page makes it, with its task not run yet (the test runs it)."""
    from io import BytesIO

    with django_capture_on_commit_callbacks(execute=False):
        return services.cdr_import_upload(source=pbx, upload=BytesIO(data), file_name="Master.csv", actor=actor)


class _AtHeartbeat:
    """A database execute wrapper around an import's batch heartbeats (the last statement of each
    batch's transaction): run `then` right after the n-th one (every one without n). Our code is not
    touched; the database call is where it happens."""

    def __init__(self, then, *, n: int | None = None) -> None:
        self.then, self.n, self.seen, self.busy = then, n, 0, False

    def __call__(self, execute, sql, params, many, context):
        beat = (not self.busy and sql.lstrip().upper().startswith("UPDATE") and "heartbeat_at" in sql
                and '"imported"' in sql)
        if beat:
            self.seen += 1
        result = execute(sql, params, many, context)
        if beat and (self.n is None or self.seen == self.n):
            self.busy = True
            try:
                self.then()
            finally:
                self.busy = False
        return result


def die_in_batch(n: int) -> _AtHeartbeat:
    def kill():
        raise WorkerKilled

    return _AtHeartbeat(kill, n=n)


def run_until_killed(cdr_import: CdrImport, *, batch: int) -> None:
    with connection.execute_wrapper(die_in_batch(batch)), pytest.raises(WorkerKilled):
        services.cdr_import_run(cdr_import=cdr_import)


def later_than_lease() -> datetime:
    return now() + timedelta(seconds=django_settings.CDR_IMPORT_LEASE_SECONDS + 1)


def audit_actions(target_id: int) -> list[str]:
    return list(AuditEntry.objects.filter(target_type="cdr_import", target_id=str(target_id))
                .order_by("id").values_list("action", flat=True))


@pytest.mark.usefixtures("small_batches")
class ImportReaperTests:
    def test_an_import_that_died_mid_run_stays_running_with_what_landed(self, alice, pbx, private_dir,
                                                                         django_capture_on_commit_callbacks):
        cdr_import = queued_upload(pbx, master_csv(ROWS), django_capture_on_commit_callbacks)
        run_until_killed(cdr_import, batch=2)

        cdr_import.refresh_from_db()
        # The first batch committed with its heartbeat; the second died before its transaction did.
        assert (cdr_import.status, cdr_import.imported) == ("running", BATCH)
        assert Cdr.objects.filter(source=pbx).count() == BATCH
        assert cdr_import.heartbeat_at is not None

    def test_the_reaper_marks_it_failed_with_the_reason_and_keeps_the_file(self, alice, pbx, private_dir,
                                                                         django_capture_on_commit_callbacks):
        cdr_import = queued_upload(pbx, master_csv(ROWS), django_capture_on_commit_callbacks)
        run_until_killed(cdr_import, batch=2)

        assert services.cdr_imports_reap() == []  # within the lease: not reaped
        assert services.cdr_imports_reap(at=later_than_lease()) == [cdr_import.pk]

        cdr_import.refresh_from_db()
        assert cdr_import.status == "failed"
        assert cdr_import.error == ("The worker stopped mid-run; re-run to finish: rows already landed are "
                                    "skipped as duplicates.")
        assert cdr_import.imported == BATCH and cdr_import.finished_at is not None
        assert cdr_import.can_rerun and (private_dir / "imports" / cdr_import.upload_name).exists()
        assert "cdr_import.reaped" in audit_actions(cdr_import.pk)
        reaped = AuditEntry.objects.get(action="cdr_import.reaped", target_id=str(cdr_import.pk))
        assert reaped.extra["landed"] == BATCH and reaped.extra["rerunnable"] is True
        assert services.cdr_imports_reap(at=later_than_lease()) == []  # once only

    def test_a_re_run_lands_exactly_the_missing_rows(self, client, alice, billing_staff, pbx, private_dir,
                                                    django_capture_on_commit_callbacks):
        failed = queued_upload(pbx, master_csv(ROWS), django_capture_on_commit_callbacks, actor=billing_staff)
        run_until_killed(failed, batch=3)
        services.cdr_imports_reap(at=later_than_lease())

        with django_capture_on_commit_callbacks(execute=True):
            response = verified_client(client, billing_staff).post(f"/calls/staff/imports/{failed.pk}/rerun/")

        rerun = CdrImport.objects.get(rerun_of=failed)
        assert response.status_code == 302 and response["Location"] == f"/calls/staff/imports/{rerun.pk}/"
        failed.refresh_from_db()
        assert (failed.status, failed.imported, failed.can_rerun) == ("failed", 2 * BATCH, False)
        assert (rerun.status, rerun.imported, rerun.duplicates, rerun.conflicts) == ("done", ROWS - 2 * BATCH, 2 * BATCH, 0)
        uids = list(Cdr.objects.filter(source=pbx).values_list("unique_id", flat=True))
        assert sorted(uids) == sorted(f"r.{n}" for n in range(ROWS))  # every call once, none twice
        assert Cdr.objects.filter(import_batch_id=failed.pk).count() == 2 * BATCH
        assert Cdr.objects.filter(import_batch_id=rerun.pk).count() == ROWS - 2 * BATCH
        assert list((private_dir / "imports").iterdir()) == []  # the file goes once the re-run is done
        assert "cdr_import.rerun" in audit_actions(rerun.pk)
        assert rerun.file_sha256 == failed.file_sha256 and rerun.imported_by == billing_staff

    def test_a_slow_import_that_keeps_heart_beating_is_never_reaped(self, alice, pbx, private_dir, settings,
                                                                    django_capture_on_commit_callbacks):
        settings.CDR_IMPORT_LEASE_SECONDS = 1
        cdr_import = queued_upload(pbx, master_csv(ROWS), django_capture_on_commit_callbacks)
        reaped: list[int] = []

        def slow_batch_then_reaper():
            # After each heartbeat the import is silent for 0.6 s (the whole import runs past the 1 s
            # lease), and the reaper runs at the end of that silence.
            time.sleep(0.6)
            reaped.extend(services.cdr_imports_reap())

        with connection.execute_wrapper(_AtHeartbeat(slow_batch_then_reaper)):
            services.cdr_import_run(cdr_import=cdr_import)

        cdr_import.refresh_from_db()
        assert reaped == []
        assert (cdr_import.status, cdr_import.imported) == ("done", ROWS)
        assert cdr_import.finished_at - cdr_import.created_at > timedelta(seconds=1)

    def test_a_stalled_worker_that_wakes_after_being_reaped_lands_nothing_more(self, alice, pbx, private_dir,
                                                                              django_capture_on_commit_callbacks):
        cdr_import = queued_upload(pbx, master_csv(ROWS), django_capture_on_commit_callbacks)
        # After its first batch the worker stalls past its lease and is reaped; then it resumes.
        with connection.execute_wrapper(_AtHeartbeat(lambda: services.cdr_imports_reap(at=later_than_lease()), n=1)):
            result = services.cdr_import_run(cdr_import=cdr_import)

        assert (result.status, result.imported) == ("failed", BATCH)
        assert Cdr.objects.filter(source=pbx).count() == BATCH  # its next batch was rolled back
        assert result.can_rerun and (private_dir / "imports" / result.upload_name).exists()

    def test_an_import_that_fails_on_an_internal_error_keeps_its_file_for_a_re_run(self, alice, pbx, private_dir,
                                                                                  django_capture_on_commit_callbacks):
        cdr_import = queued_upload(pbx, master_csv(ROWS), django_capture_on_commit_callbacks)

        def boom():
            raise RuntimeError("database went away")

        with connection.execute_wrapper(_AtHeartbeat(boom, n=2)), pytest.raises(RuntimeError):
            services.cdr_import_run(cdr_import=cdr_import)

        cdr_import.refresh_from_db()
        assert (cdr_import.status, cdr_import.can_rerun) == ("failed", True)
        # Not a row's fault (those are rejected alone), so no promise that a re-run completes the file.
        assert cdr_import.error == services.IMPORT_INTERNAL_ERROR
        assert "not on a row of the file" in cdr_import.error and "once the cause is fixed" in cdr_import.error
        assert services.cdr_import_rerun(cdr_import=cdr_import).rerun_of_id == cdr_import.pk

    def test_only_a_failed_import_with_its_file_can_be_re_run(self, alice, pbx, private_dir,
                                                              django_capture_on_commit_callbacks):
        from voipxs.exceptions import ApplicationError

        done = queued_upload(pbx, master_csv(1), django_capture_on_commit_callbacks)
        done = services.cdr_import_run(cdr_import=done)
        with pytest.raises(ApplicationError, match="Only a failed import"):
            services.cdr_import_rerun(cdr_import=done)

        failed = queued_upload(pbx, master_csv(ROWS, prefix="g"), django_capture_on_commit_callbacks)
        run_until_killed(failed, batch=2)
        services.cdr_imports_reap(at=later_than_lease())
        (private_dir / "imports" / CdrImport.objects.get(pk=failed.pk).upload_name).unlink()
        with pytest.raises(ApplicationError, match="stored file of this import is gone"):
            services.cdr_import_rerun(cdr_import=failed)


@pytest.mark.usefixtures("small_batches")
class ImportRecoveryPagesTests:
    @pytest.fixture
    def reaped(self, alice, billing_staff, pbx, private_dir, django_capture_on_commit_callbacks) -> CdrImport:
        cdr_import = queued_upload(pbx, master_csv(ROWS), django_capture_on_commit_callbacks, actor=billing_staff)
        run_until_killed(cdr_import, batch=2)
        services.cdr_imports_reap(at=later_than_lease())
        return CdrImport.objects.get(pk=cdr_import.pk)

    def test_the_staff_pages_show_the_failure_and_offer_a_re_run(self, client, billing_staff, reaped):
        staff = verified_client(client, billing_staff)
        listing = staff.get("/calls/staff/imports/").content.decode()
        detail = staff.get(f"/calls/staff/imports/{reaped.pk}/").content.decode()

        for page in (listing, detail):
            assert "worker stopped mid-run; re-run to finish" in page
            assert f'action="/calls/staff/imports/{reaped.pk}/rerun/"' in page
        assert "Re-run this file" in detail

    def test_the_re_run_page_shows_which_import_it_completes(self, client, billing_staff, reaped,
                                                             django_capture_on_commit_callbacks):
        staff = verified_client(client, billing_staff)
        with django_capture_on_commit_callbacks(execute=True):
            page = staff.post(f"/calls/staff/imports/{reaped.pk}/rerun/", follow=True).content.decode()

        assert f'href="/calls/staff/imports/{reaped.pk}/"' in page and "Re-run of" in page
        assert f"Import #{reaped.pk} is run again as import" in page
        # The failed one no longer offers a re-run: its file went to the new import.
        again = staff.get(f"/calls/staff/imports/{reaped.pk}/").content.decode()
        assert f'action="/calls/staff/imports/{reaped.pk}/rerun/"' not in again and "Run again as" in again

    def test_a_customer_cannot_re_run_an_import(self, client, alice, reaped):
        response = verified_client(client, alice).post(f"/calls/staff/imports/{reaped.pk}/rerun/")
        assert response.status_code == 403
        assert not CdrImport.objects.filter(rerun_of=reaped).exists()

    def test_the_api_shows_the_failure_and_re_runs_it(self, client, billing_staff, reaped,
                                                      django_capture_on_commit_callbacks):
        staff = verified_client(client, billing_staff)
        body = staff.get(f"{API}{reaped.pk}/").json()
        assert (body["status"], body["can_rerun"], body["imported"]) == ("failed", True, BATCH)
        assert body["error"].startswith("The worker stopped mid-run")

        with django_capture_on_commit_callbacks(execute=True):
            response = staff.post(f"{API}{reaped.pk}/rerun/")
        assert response.status_code == 202
        rerun = staff.get(f"{API}{response.json()['id']}/").json()
        assert (rerun["status"], rerun["rerun_of"], rerun["imported"], rerun["duplicates"]) == (
            "done", reaped.pk, ROWS - BATCH, BATCH)

        second = staff.post(f"{API}{reaped.pk}/rerun/")
        assert second.status_code == 400  # its file now belongs to the re-run


class RatePendingScheduleTests:
    def test_beat_rates_pending_calls_hourly_and_reaps_imports_every_few_minutes(self):
        schedule = {entry["task"]: entry["schedule"] for entry in django_settings.CELERY_BEAT_SCHEDULE.values()}
        assert schedule["traffic.tasks.cdr_rate_pending"].minute == {40}
        assert len(schedule["traffic.tasks.cdr_rate_pending"].hour) == 24
        assert schedule["traffic.tasks.cdr_imports_reap"].minute == set(range(0, 60, 5))

    def test_an_imported_call_without_a_tariff_is_rated_by_the_task_once_one_appears(
            self, alice, pbx, private_dir, django_capture_on_commit_callbacks):
        from traffic.tasks import cdr_rate_pending

        cdr_import = services.cdr_import_run(cdr_import=queued_upload(pbx, master_csv(3), django_capture_on_commit_callbacks))
        assert cdr_import.imported == 3
        assert set(Cdr.objects.values_list("rating", flat=True)) == {"unrated"}
        assert cdr_rate_pending() == 0  # still no tariff: nothing changes, nothing fails

        Tariff.objects.create(prefix="316", zone="NL mobile", price_per_minute=Decimal("0.12"), valid_from=date(2020, 1, 1))
        assert cdr_rate_pending() == 3
        rows = list(Cdr.objects.values_list("rating", "zone", "price", "flags"))
        assert rows == [("rated", "NL mobile", Decimal("0.24000"), "")] * 3  # 61 s at 60/60 is two minutes
        assert cdr_rate_pending() == 0  # idempotent: a second hourly run finds nothing to do

    def test_it_works_through_pending_calls_in_batches(self, alice):
        from tests.factories import make_cdr

        when = datetime(2026, 5, 3, 12, tzinfo=UTC)
        for n in range(5):
            make_cdr(account=alice, dst=f"+4930123{n:03d}", started_at=when, rating="pending")
        make_cdr(account=alice, started_at=when, rating="pending", direction="in")
        Tariff.objects.create(prefix="49", zone="Germany", price_per_minute=Decimal("0.60"), valid_from=date(2020, 1, 1))

        assert rating.cdr_rate_pending(batch_size=2) == 5
        assert sorted(Cdr.objects.values_list("rating", flat=True)) == ["free"] + ["rated"] * 5


# --- PostgreSQL: a real worker process killed in the middle of a threaded COPY import ----------------

def _test_database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


WORKER = """
import django, sys
from pathlib import Path
django.setup()
from django.conf import settings
from traffic.ingest import run as ingest_run
from traffic.models import CdrImport
from traffic.services import imports as services
ingest_run.BATCH_SIZE = int(sys.argv[2])
settings.PRIVATE_FILES_DIR = Path(sys.argv[3])  # the test settings pick a directory per process
services.cdr_import_run(cdr_import=CdrImport.objects.get(pk=int(sys.argv[1])))
"""


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("partitions_restored")
class KilledWorkerTests:
    def test_a_worker_killed_mid_copy_is_reaped_and_the_re_run_completes_the_file(self, private_dir):
        from tests.factories import make_user

        rows, batch = 30_000, 500
        make_user("alice-k", numbers=["+31205550101"])
        pbx = sources.source_create(name="pbx-killed", format="asterisk-csv", timezone="Europe/Amsterdam")
        upload = services.imports_dir() / "killed-upload"
        upload.write_bytes(master_csv(rows, prefix="k"))
        cdr_import = CdrImport.objects.create(source=pbx, file_name="Master.csv", file_sha256="0" * 64,
                                              report={"upload": upload.name})

        env = {**os.environ, "DATABASE_URL": _test_database_url(), "DJANGO_SETTINGS_MODULE": "voipxs.settings_test",
               "REDIS_URL": ""}
        worker = subprocess.Popen([sys.executable, "-c", WORKER, str(cdr_import.pk), str(batch), str(private_dir)],
                                  cwd=Path(__file__).resolve().parents[2], env=env)
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and worker.poll() is None:
                if CdrImport.objects.get(pk=cdr_import.pk).imported > 0:
                    break
                time.sleep(0.01)
            assert worker.poll() is None, "the worker finished before it could be killed"
            os.kill(worker.pid, signal.SIGKILL)
        finally:
            worker.wait(timeout=30)

        killed = CdrImport.objects.get(pk=cdr_import.pk)
        landed = Cdr.objects.filter(source=pbx).count()
        assert killed.status == "running" and 0 < killed.imported == landed < rows

        assert services.cdr_imports_reap(at=later_than_lease()) == [cdr_import.pk]
        rerun = services.cdr_import_rerun(cdr_import=killed)  # its task runs in-process (no broker here)
        rerun.refresh_from_db()
        assert (rerun.status, rerun.imported, rerun.duplicates) == ("done", rows - landed, landed)
        assert Cdr.objects.filter(source=pbx).count() == rows
        assert Cdr.objects.filter(source=pbx).values("unique_id").distinct().count() == rows
        assert not upload.exists()


class ImportRequeueTests:
    def test_an_import_left_queued_while_the_broker_was_down_is_sent_again_after_a_lease(
            self, alice, pbx, private_dir, django_capture_on_commit_callbacks):
        cdr_import = queued_upload(pbx, master_csv(3), django_capture_on_commit_callbacks)  # its task never ran

        assert services.cdr_imports_requeue() == []  # younger than a lease: its task may still be on its way
        assert services.cdr_imports_requeue(at=later_than_lease()) == [cdr_import.pk]

        cdr_import.refresh_from_db()  # tests run tasks in-process: the re-sent task imported the file
        assert (cdr_import.status, cdr_import.imported) == ("done", 3)
        assert services.cdr_imports_requeue(at=later_than_lease()) == []  # claimed: nothing to send twice
