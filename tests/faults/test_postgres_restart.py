"""PostgreSQL restarted under the app: during a request, during an import, during a purge.

What a user or an operator would notice: a request cut off by the restart answers a clear 503 ("try
again in a moment"), not a 500, and stored nothing half; while the database is down every page and
the API answer 503 and /healthz says which part is down; the first request after the restart is
served. An import cut off ends failed, and running the file again stores every call exactly once. A
purge cut off leaves every row whole or gone, and the next run finishes the job.

The restart is the private cluster's (`pg_ctl stop -m fast` / `start`: sessions are terminated, open
transactions rolled back), never the machine's PostgreSQL. To cut an operation off at a known point,
the test holds a lock the operation is about to need and restarts while the app waits for it.
"""
from __future__ import annotations

import threading

import pytest

from .cdr_files import master_csv
from .servers import App, wait_until

pytestmark = pytest.mark.faults

CDR_IMPORT_LEASE = 600  # CDR_IMPORT_LEASE_SECONDS' default: beat's reaper runs this much later


@pytest.fixture(scope="module")
def web(app_factory) -> App:
    app = app_factory("pg_restart_web")
    app.world_people = app.world("people", prefix="web", number="+31205550101")  # type: ignore[attr-defined]
    app.start_web()
    app.start_worker()
    return app


def _customer(web: App) -> dict:
    return web.world_people["customer"]  # type: ignore[attr-defined]


class RequestDuringRestartTests:
    def test_a_write_cut_off_by_a_restart_answers_503_stores_nothing_and_goes_through_when_sent_again(self, web, pg):
        customer = _customer(web)
        answer: dict = {}

        def ask() -> None:
            answer["response"] = web.http("POST", "/api/v1/me/privacy-requests/", token=customer["token"],
                                          json={"kind": "rectification", "details": "My name is spelled wrong."})

        # The request stores the privacy request, then waits for the audit log (locked by the test) in
        # the same transaction: the restart comes between the two writes.
        with web.locked("LOCK TABLE voipxs_auditentry IN SHARE MODE"):
            asking = threading.Thread(target=ask)
            asking.start()
            waiting = wait_until(lambda: web.waiting_on_lock("web"), timeout=30,
                                 what="the request to wait for the lock")
            assert web.sql("SELECT 1 FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE l.pid = %s "
                           "AND c.relname = 'accounts_datasubjectrequest' AND l.mode = 'RowExclusiveLock'",
                           [waiting[0]]), "the privacy request was not written before the restart"
            pg.stop("fast")
            asking.join(timeout=60)
        try:
            cut_off = answer["response"]
            assert cut_off.status_code == 503, cut_off.text[:500]
            assert cut_off.headers.get("Retry-After")
            assert "try again" in cut_off.json()["detail"].lower()
        finally:
            pg.start()

        assert web.value("SELECT count(*) FROM accounts_datasubjectrequest WHERE user_id = %s", [customer["id"]]) == 0
        again = web.http("POST", "/api/v1/me/privacy-requests/", token=customer["token"],
                         json={"kind": "rectification", "details": "My name is spelled wrong."})
        assert again.status_code == 201, again.text[:500]
        assert web.value("SELECT count(*) FROM accounts_datasubjectrequest WHERE user_id = %s", [customer["id"]]) == 1
        assert web.value("SELECT count(*) FROM voipxs_auditentry WHERE action = 'dsr.create' AND target_id = %s",
                         [str(again.json()["id"])]) == 1

    def test_while_the_database_is_down_pages_and_api_answer_503_and_healthz_says_the_database_is_down(self, web, pg):
        customer = _customer(web)
        pg.stop("fast")
        try:
            health = web.http("GET", "/healthz")
            page = web.http("GET", "/calls/", session=customer["session"])
            api = web.http("GET", "/api/v1/me/calls/", token=customer["token"])
            welcome = web.http("GET", "/")
        finally:
            pg.start()

        assert (health.status_code, health.json()) == (503, {"status": "degraded", "database": "down", "broker": "ok"})
        for response in (page, welcome):
            assert response.status_code == 503, response.text[:300]
            assert response.headers.get("Retry-After")
            assert "temporarily unavailable" in response.text.lower()
        assert api.status_code == 503 and "try again" in api.json()["detail"].lower()

        assert web.http("GET", "/calls/", session=customer["session"]).status_code == 200
        health = web.http("GET", "/healthz").json()  # and the operations fields (voipxs/ops.py), with the database up
        probe = {k: health[k] for k in ("status", "database", "broker")}
        assert probe == {"status": "ok", "database": "ok", "broker": "ok"}

    def test_the_first_request_after_a_restart_is_served(self, web, pg):
        """The web process keeps its database connection between requests (CONN_MAX_AGE); after a
        restart that connection is dead, and the next request must not be the one that finds out."""
        customer = _customer(web)
        assert web.http("GET", "/calls/", session=customer["session"]).status_code == 200
        pg.restart("fast")
        first = web.http("GET", "/calls/", session=customer["session"])
        assert first.status_code == 200, first.text[:300]
        pg.restart("fast")
        assert web.http("GET", "/api/v1/me/calls/", token=customer["token"]).status_code == 200


    def test_the_worker_s_first_task_after_a_restart_runs(self, web, pg):
        """The worker keeps database connections between tasks too: the first task after a restart runs."""
        billing, source = web.world_people["billing"], web.world_people["source"]  # type: ignore[attr-defined]

        def upload(prefix: str) -> int:
            response = web.http("POST", "/api/v1/staff/cdr-imports/", token=billing["token"],
                                data={"source": source["name"]},
                                files={"file": ("Master.csv", master_csv(5, prefix=prefix), "text/csv")})
            assert response.status_code == 202, response.text[:300]
            import_id = response.json()["id"]
            wait_until(lambda: web.value("SELECT status FROM traffic_cdrimport WHERE id = %s", [import_id])
                       not in ("queued", "running"), timeout=60, what="the worker to finish the import")
            return import_id

        before = upload("before-restart")
        pg.restart("fast")
        web.http("GET", "/healthz")  # the load balancer's probe comes first (the web side is the test above)
        after = upload("after-restart")
        assert web.sql("SELECT id, status, imported FROM traffic_cdrimport WHERE id IN (%s, %s) ORDER BY id",
                       [before, after]) == [(before, "done", 5), (after, "done", 5)]


class ImportDuringRestartTests:
    ROWS, BATCH = 3000, 250

    def test_an_import_cut_off_by_a_restart_ends_failed_and_the_re_run_stores_every_call_once(self, make_app, pg):
        app = make_app("pg_restart_import")
        world = app.world("people", prefix="imp", number="+31205550101")
        source = world["source"]["name"]
        cdr_file = app.workdir / "Master.csv"
        cdr_file.write_bytes(master_csv(self.ROWS, prefix="restart"))

        importing = app.manage_start("import_cdrs", "--source", source, "--batch-size", str(self.BATCH), str(cdr_file),
                                     role="import")
        import_id = wait_until(lambda: app.value("SELECT id FROM traffic_cdrimport WHERE imported >= %s", [self.BATCH]),
                               timeout=60, what="the first batch to land")
        # The next batch waits for the import's row (its heartbeat), and PostgreSQL restarts under it.
        with app.locked(f"SELECT 1 FROM traffic_cdrimport WHERE id = {int(import_id)} FOR UPDATE"):
            wait_until(lambda: app.waiting_on_lock("import"), timeout=30, what="the import to wait for its row")
            pg.stop("fast")
        try:
            importing.wait(timeout=60)  # it stops; it does not hang waiting for the database
        finally:
            pg.start()
        assert importing.returncode != 0

        landed = app.value("SELECT count(*) FROM traffic_cdr WHERE import_batch_id = %s", [import_id])
        status, imported = app.sql("SELECT status, imported FROM traffic_cdrimport WHERE id = %s", [import_id])[0]
        assert 0 < landed < self.ROWS and imported == landed  # whole batches only, and counted
        if status == "running":  # its own handler could not reach the database: beat's reaper ends it
            app.world("reap", later=CDR_IMPORT_LEASE + 60)
        status, error = app.sql("SELECT status, error FROM traffic_cdrimport WHERE id = %s", [import_id])[0]
        assert status == "failed" and error

        rerun = app.manage("import_cdrs", "--source", source, str(cdr_file))
        assert rerun.returncode == 0, rerun.stderr[-2000:]
        assert f"imported {self.ROWS - landed}, duplicates {landed}, conflicts 0" in rerun.stdout
        assert app.sql("SELECT count(*), count(DISTINCT unique_id) FROM traffic_cdr WHERE source_id = %s",
                       [world["source"]["id"]]) == [(self.ROWS, self.ROWS)]


# --- the purge -------------------------------------------------------------------------------------------

PURGE_LEASE_PASSED = 15 * 60  # "within minutes": the next run a quarter of an hour later


def _surviving(app: App, ids: list[int]) -> dict[str, set[int]]:
    return {
        "cdr": {i for (i,) in app.sql("SELECT id FROM traffic_cdr WHERE id = ANY(%s)", [ids])},
        "held": {i for (i,) in app.sql("SELECT cdr_id FROM retention_heldcdr WHERE cdr_id = ANY(%s)", [ids])},
    }


def _snapshot(app: App, world: dict) -> dict:
    ids = world["ids"]
    return {
        "groups": {name: _surviving(app, group) for name, group in ids.items()},
        "technical_orphans": app.value("SELECT count(*) FROM traffic_cdrtechnical t WHERE NOT EXISTS "
                                       "(SELECT 1 FROM traffic_cdr c WHERE c.id = t.cdr_id)"),
        "keys": dict(app.sql("SELECT month::text, wrapped_key IS NOT NULL FROM traffic_monthkey")),
        "months_with_rows": {m for (m,) in app.sql("SELECT DISTINCT date_trunc('month', started_at)::date::text "
                                                   "FROM traffic_cdr")},
        "ancient_invoice": app.value("SELECT count(*) FROM traffic_invoice WHERE id = %s",
                                     [world["invoices"]["ancient"]]),
        "runs": app.sql("SELECT id, status, state->>'step' FROM retention_purgerun ORDER BY id"),
    }


@pytest.fixture(scope="module")
def cut_off_purge(app_factory, pg) -> dict:
    """A purge cut off by a restart in its invoice step, after the month drop, the batched deletes of
    calls and the month key destruction have committed."""
    app = app_factory("pg_restart_purge")
    world = app.world("purge_world", prefix="purge", number="+31205550303")
    ancient = int(world["invoices"]["ancient"])
    with app.locked(f"SELECT 1 FROM traffic_invoice WHERE id = {ancient} FOR UPDATE"):  # its DELETE will wait
        purging = app.manage_start("purge_expired", "--chunk-size", "20", role="purge")
        wait_until(lambda: app.waiting_on_lock("purge"), timeout=60, what="the purge to reach the invoice step")
        step = app.value("SELECT state->>'step' FROM retention_purgerun ORDER BY id DESC LIMIT 1")
        pg.stop("fast")
    try:
        purging.wait(timeout=60)
    finally:
        pg.start()
    output = app.log("purge").read_text()
    return {"app": app, "world": world, "step": step, "returncode": purging.returncode, "output": output,
            "after": _snapshot(app, world)}


class PurgeDuringRestartTests:
    def test_a_purge_cut_off_by_a_restart_says_so_and_leaves_every_row_whole_or_gone(self, cut_off_purge):
        after, world = cut_off_purge["after"], cut_off_purge["world"]
        assert cut_off_purge["step"] == "invoice"  # where the restart hit
        assert cut_off_purge["returncode"] != 0  # the operator sees it fail; it does not claim success

        groups = after["groups"]
        assert groups["a_free"] == {"cdr": set(), "held": set()}  # month A dropped whole...
        # ...its unpaid call kept, in the hold table
        assert groups["a_open"]["cdr"] == set() and groups["a_open"]["held"] == set(world["ids"]["a_open"])
        assert groups["b_free"]["cdr"] == set()  # the batched deletes committed
        assert groups["b_paid"]["cdr"] == set(world["ids"]["b_paid"])  # inside the dispute window
        assert groups["recent"]["cdr"] == set(world["ids"]["recent"])
        assert after["technical_orphans"] == 0  # no technical row outlived its call
        assert after["ancient_invoice"] == 1  # the batch in flight was rolled back whole
        # A month key is destroyed only once no row of its month is left.
        assert after["keys"][world["month_a"]] is False
        assert after["keys"][world["month_b"]] is True and world["month_b"] in after["months_with_rows"]

    def test_the_next_purge_minutes_later_finishes_the_job_and_the_cut_off_run_is_marked_failed(self, cut_off_purge):
        app, world = cut_off_purge["app"], cut_off_purge["world"]
        cut_off_run = cut_off_purge["after"]["runs"][-1][0]

        dry = app.manage("purge_expired", "--dry-run", later=PURGE_LEASE_PASSED)  # the DPO's preview
        assert dry.returncode == 0 and "Another purge" not in dry.stdout + dry.stderr
        done = app.manage("purge_expired", "--chunk-size", "20", later=PURGE_LEASE_PASSED + 60)
        assert done.returncode == 0, done.stderr[-2000:]
        assert "Another purge" not in done.stdout + done.stderr
        assert _snapshot(app, world)["ancient_invoice"] == 0

        status, error = app.sql("SELECT status, error FROM retention_purgerun WHERE id = %s", [cut_off_run])[0]
        assert status == "failed" and error
        receipts = dict(app.sql("SELECT category, deleted FROM retention_purgereceipt WHERE run_id = %s",
                                [cut_off_run]))
        # What the cut-off run removed before the restart has its receipt.
        assert receipts.get("cdr_month_drop") == len(world["ids"]["a_free"])
        assert receipts.get("cdr_unbilled") == len(world["ids"]["b_free"])
