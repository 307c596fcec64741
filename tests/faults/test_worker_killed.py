"""A Celery worker killed (SIGKILL, the whole process group: no handler of ours runs) in the middle of
an import, of a data export and of a disclosure package build.

What an operator or a user would notice: the import is reaped by beat (failed, "re-run to finish") and
its re-run stores every call exactly once; the data export is built after all, and no unencrypted copy
of the person's data is left on disk; the disclosure request does not stay "producing" for ever.

To kill the worker at a known point the test holds a lock the task is about to need, waits until the
worker's database session waits for it, and kills the worker then. Beat's reapers run an hour later
by the clock of the process that runs them (tests/faults/world.py), past every lease.
"""
from __future__ import annotations

from typing import Callable

import pytest

from .cdr_files import master_csv
from .servers import App, wait_until

pytestmark = pytest.mark.faults

LATER = 60 * 60
ROWS, BATCH = 3000, 250


@pytest.fixture(scope="module")
def app(app_factory) -> App:
    app = app_factory("worker_killed")
    app.start_web()
    return app


def _kill_while_waiting(app: App, worker: str, lock: str, *, then: Callable[[], None] | None = None) -> None:
    """With `lock` held (and `then()` done, e.g. the request that queues the task), wait for the worker's
    session to block on it, kill the worker, release the lock, and wait until PostgreSQL has ended the
    dead worker's session (its open transaction rolled back)."""
    with app.locked(lock):
        if then is not None:
            then()
        wait_until(lambda: app.waiting_on_lock(worker), timeout=60, what=f"{worker} to wait for the lock")
        app.kill(worker)
    wait_until(lambda: not app.backends(worker), timeout=30, what="the killed worker's database session to end")


class WorkerKilledDuringImportTests:
    def test_the_import_is_reaped_and_its_re_run_stores_every_call_once(self, app):
        people = app.world("people", prefix="kill-import", number="+31205550101")
        billing, source = people["billing"], people["source"]
        app.start_worker(name="worker-import", batch_size=BATCH)
        upload = app.http("POST", "/api/v1/staff/cdr-imports/", token=billing["token"], data={"source": source["name"]},
                          files={"file": ("Master.csv", master_csv(ROWS, prefix="killed"), "text/csv")})
        assert upload.status_code == 202, upload.text[:300]
        import_id = upload.json()["id"]
        wait_until(lambda: app.value("SELECT imported FROM traffic_cdrimport WHERE id = %s", [import_id]) >= BATCH,
                   timeout=60, what="the first batch to land")
        # Killed while its next batch waits to renew the import's lease (that batch is rolled back).
        _kill_while_waiting(app, "worker-import",
                            f"SELECT 1 FROM traffic_cdrimport WHERE id = {int(import_id)} FOR UPDATE")

        status, imported = app.sql("SELECT status, imported FROM traffic_cdrimport WHERE id = %s", [import_id])[0]
        landed = app.value("SELECT count(*) FROM traffic_cdr WHERE import_batch_id = %s", [import_id])
        assert status == "running" and 0 < landed == imported < ROWS  # what landed is counted, no more

        app.start_worker(name="worker-import-2", batch_size=BATCH)
        app.world("reap", later=LATER)
        failed = app.http("GET", f"/api/v1/staff/cdr-imports/{import_id}/", token=billing["token"]).json()
        assert (failed["status"], failed["can_rerun"], failed["imported"]) == ("failed", True, landed)
        assert failed["error"].startswith("The worker stopped mid-run")

        rerun = app.http("POST", f"/api/v1/staff/cdr-imports/{import_id}/rerun/", token=billing["token"])
        assert rerun.status_code == 202, rerun.text[:300]
        rerun_id = rerun.json()["id"]
        wait_until(lambda: app.value("SELECT status FROM traffic_cdrimport WHERE id = %s", [rerun_id]) == "done",
                   timeout=60, what="the re-run to be done")
        assert app.sql("SELECT imported, duplicates, conflicts FROM traffic_cdrimport WHERE id = %s",
                       [rerun_id]) == [(ROWS - landed, landed, 0)]
        assert app.sql("SELECT count(*), count(DISTINCT unique_id) FROM traffic_cdr WHERE source_id = %s",
                       [source["id"]]) == [(ROWS, ROWS)]
        assert list((app.private_dir / "imports").iterdir()) == []  # the stored upload went with the re-run


@pytest.fixture(scope="module")
def killed_export(app) -> dict:
    """A data export whose worker is killed mid-build (while it waits to read the invoices, the calls
    already written), then a new worker and beat's reapers an hour later."""
    customer = app.world("people", prefix="kill-export", number="+31205550102", calls=120)["customer"]
    app.start_worker(name="worker-export")

    def ask() -> None:
        asked = app.http("POST", "/api/v1/me/privacy-requests/", token=customer["token"], json={"kind": "access"})
        assert asked.status_code == 201, asked.text[:300]

    _kill_while_waiting(app, "worker-export", "LOCK TABLE traffic_invoice IN ACCESS EXCLUSIVE MODE", then=ask)

    app.start_worker(name="worker-export-2")
    app.world("reap", later=LATER)
    try:
        wait_until(lambda: app.value("SELECT status FROM accounts_exportfile WHERE user_id = %s",
                                     [customer["id"]]) != "pending", timeout=30, what="the export to leave 'pending'")
    except AssertionError:
        pass  # the test says what it expected
    return {"customer": customer, "left_at_end": _files(app),
            "export": app.sql("SELECT status, file_name FROM accounts_exportfile WHERE user_id = %s", [customer["id"]]),
            "request": app.value("SELECT status FROM accounts_datasubjectrequest WHERE user_id = %s", [customer["id"]])}


def _files(app: App) -> dict[str, bytes]:
    """Every file the worker may have left: PRIVATE_FILES_DIR/exports and the worker's TMPDIR."""
    found = {}
    for base in (app.private_dir / "exports", app.tmp_dir):
        if base.exists():
            found.update({str(path.relative_to(app.workdir)): path.read_bytes()
                          for path in base.rglob("*") if path.is_file()})
    return found


class WorkerKilledDuringExportTests:
    def test_the_export_is_built_after_all(self, killed_export):
        assert killed_export["export"][0][0] == "ready"
        assert killed_export["request"] == "completed"

    @pytest.mark.xfail(strict=True, reason="found here (accounts/dsr/export.py, H8's area): the plaintext ZIP "
                                           "(PRIVATE_FILES_DIR/exports/tmp*.zip) and the section CSVs (TMPDIR) of a "
                                           "killed build stay on disk; nothing deletes them")
    def test_no_unencrypted_copy_of_the_data_is_left_on_disk(self, killed_export):
        number = killed_export["customer"]["number"].encode()
        leftovers = {name: data for name, data in killed_export["left_at_end"].items()
                     if not name.endswith(".zip.enc") or number in data}
        assert leftovers == {}, sorted(leftovers)


class WorkerKilledDuringPackageBuildTests:
    def test_the_request_does_not_stay_producing(self, app):
        people = app.world("people", prefix="kill-package", number="+31205550103", calls=5)
        disclosure = app.world("disclosure", prefix="kill-package", number=people["customer"]["number"])
        request_id, officer = disclosure["request"], disclosure["officer"]
        app.start_worker(name="worker-package")

        def produce() -> None:
            started = app.http("POST", f"/api/v1/staff/disclosures/requests/{request_id}/produce/",
                               token=officer["token"])
            assert started.status_code in (200, 202), started.text[:300]

        # The build reads the calls in scope: it waits for them, and the worker is killed there.
        _kill_while_waiting(app, "worker-package", "LOCK TABLE traffic_cdr IN ACCESS EXCLUSIVE MODE", then=produce)
        assert app.value("SELECT status FROM disclosures_disclosurerequest WHERE id = %s", [request_id]) == "producing"

        app.start_worker(name="worker-package-2")
        app.world("reap", later=LATER)
        status = wait_until(lambda: (s := app.value("SELECT status FROM disclosures_disclosurerequest WHERE id = %s",
                                                     [request_id])) != "producing" and s,
                            timeout=30, what="the request to leave 'producing'")
        # Built after all, or back to approved with the reason, so that an officer can start it again.
        assert status in ("produced", "approved")
        if status == "approved":
            assert app.value("SELECT production_error FROM disclosures_disclosurerequest WHERE id = %s", [request_id])
