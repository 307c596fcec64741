"""Redis (the Celery broker and the cache) down, and back.

What a user or an operator would notice: with Redis down the pages and the API still answer, signing
in works, /healthz says the broker is down, and work asked for in the meantime (a CDR upload, a data
export, a disclosure package) is accepted, not answered with a 500; once Redis is back (empty: a
cache-only Redis keeps no queue across a restart) beat's reapers send that work again and the worker
does it.

Only the private Redis is stopped (tests/faults/servers.py), never the machine's.
"""
from __future__ import annotations

import time

import pytest

from .cdr_files import master_csv
from .servers import App, wait_until

pytestmark = pytest.mark.faults

LATER = 60 * 60  # beat's reapers an hour later: past every lease (imports 10 min, exports 40 min)
ROWS = 40


@pytest.fixture(scope="module")
def app(app_factory) -> App:
    app = app_factory("redis_outage")
    app.start_web()
    app.start_worker()
    return app


def _back(app: App, redis_server) -> None:
    """Redis starts again, empty; the worker that lost it reconnects on its own."""
    redis_server.start()
    worker = app.processes["worker"]
    assert worker.poll() is None, "the worker exited when Redis went away"
    wait_until(lambda: app.http("GET", "/healthz").status_code == 200, timeout=30, what="/healthz to be ok again")


class RedisDownTests:
    def test_pages_and_sign_in_still_work_and_healthz_says_the_broker_is_down(self, app, redis_server):
        people = app.world("people", prefix="pages", number="+31205550101", calls=3)
        customer = people["customer"]
        redis_server.stop()
        try:
            started = time.monotonic()
            health = app.http("GET", "/healthz")
            page = app.http("GET", "/calls/", session=customer["session"])
            api = app.http("GET", "/api/v1/me/calls/", token=customer["token"])
            login = app.http("POST", "/api/v1/auth/login/",
                             json={"username": customer["username"], "password": customer["password"]})
            elapsed = time.monotonic() - started
        finally:
            _back(app, redis_server)

        probe = {k: health.json()[k] for k in ("status", "database", "broker")}  # and the ops fields (ops_status)
        assert (health.status_code, probe) == (503, {"status": "degraded", "database": "ok", "broker": "down"})
        assert page.status_code == 200 and "<h1>My calls</h1>" in page.text
        assert api.status_code == 200 and len(api.json()) >= 1
        assert login.status_code == 200 and login.json()["token"], login.text[:300]  # its throttle reads the cache
        assert elapsed < 15  # a dead cache costs a request its connect timeout, not a hang

    def test_a_cdr_upload_made_while_redis_is_down_is_imported_once_redis_is_back(self, app, redis_server):
        people = app.world("people", prefix="upload", number="+31205550102")
        billing, source = people["billing"], people["source"]
        redis_server.stop()
        try:
            upload = app.http("POST", "/api/v1/staff/cdr-imports/", token=billing["token"],
                              data={"source": source["name"]},
                              files={"file": ("Master.csv", master_csv(ROWS, prefix="outage"), "text/csv")})
        finally:
            _back(app, redis_server)
        assert upload.status_code == 202, upload.text[:500]
        import_id = upload.json()["id"]
        assert app.value("SELECT status FROM traffic_cdrimport WHERE id = %s", [import_id]) == "queued"

        app.world("reap", later=LATER)
        wait_until(lambda: app.value("SELECT status FROM traffic_cdrimport WHERE id = %s", [import_id]) == "done",
                   timeout=60, what="the re-sent import to be done")
        assert app.sql("SELECT count(*), count(DISTINCT unique_id) FROM traffic_cdr WHERE source_id = %s",
                       [source["id"]]) == [(ROWS, ROWS)]

    def test_a_data_export_asked_for_while_redis_is_down_is_accepted_and_built_once_redis_is_back(self, app,
                                                                                                   redis_server):
        customer = app.world("people", prefix="export", number="+31205550103", calls=3)["customer"]
        redis_server.stop()
        try:
            asked = app.http("POST", "/api/v1/me/privacy-requests/", token=customer["token"], json={"kind": "access"})
        finally:
            _back(app, redis_server)
        assert asked.status_code == 201, asked.text[:300]

        app.world("reap", later=LATER)
        wait_until(lambda: app.value("SELECT status FROM accounts_exportfile WHERE user_id = %s",
                                     [customer["id"]]) == "ready", timeout=20, what="the export to be built")
        assert app.value("SELECT status FROM accounts_datasubjectrequest WHERE user_id = %s",
                         [customer["id"]]) == "completed"

    def test_a_package_production_started_while_redis_is_down_is_accepted_and_built_once_redis_is_back(
            self, app, redis_server):
        people = app.world("people", prefix="produce", number="+31205550104", calls=3)
        disclosure = app.world("disclosure", prefix="produce", number=people["customer"]["number"])
        request_id, officer = disclosure["request"], disclosure["officer"]
        redis_server.stop()
        try:
            produce = app.http("POST", f"/api/v1/staff/disclosures/requests/{request_id}/produce/",
                               token=officer["token"])
        finally:
            _back(app, redis_server)
        assert produce.status_code in (200, 202), produce.text[:300]

        app.world("reap", later=LATER)
        wait_until(lambda: app.value("SELECT status FROM disclosures_disclosurerequest WHERE id = %s",
                                     [request_id]) == "produced", timeout=20, what="the package to be built")
