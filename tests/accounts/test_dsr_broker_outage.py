"""A privacy request made while Redis is down (issue 16, item 4).

The fault, found by a probe: the request committed, then queueing its export failed after the commit and
the page answered 500; the export stayed `pending` for ever and asking again was refused ("already
open"). Now the request answers as usual with the export waiting `pending`; the reaper (beat) sends it
again once the broker is back, and asking again sends a stuck export again instead of refusing.

No mock of Redis or Celery: tests/broker.py points the broker at a port where nothing listens, with
tasks really published; the tests marked `redis` then bring the real broker back with a real worker.
"""
from __future__ import annotations

import time
from datetime import timedelta

import pytest

from accounts.dsr.models import DataSubjectRequest, ExportFile
from tests.broker import broker_outage
from tests.factories import verified_client

Kind = DataSubjectRequest.Kind
STUCK = timedelta(minutes=10)  # longer than TASK_RESEND_AFTER_SECONDS: the export's task was lost


@pytest.fixture(autouse=True)
def _private_dir(settings, tmp_path):
    settings.PRIVATE_FILES_DIR = tmp_path


def wait_for(condition, seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


@pytest.mark.django_db(transaction=True)
class RequestWhileBrokerDownTests:
    def test_the_page_answers_and_the_export_waits_pending(self, client, alice, audit_log_flushable, broker_down):
        client.raise_request_exception = False  # see the status a browser would get, 500 included
        verified_client(client, alice)
        response = client.post("/privacy-requests/new/", {"kind": Kind.ACCESS})
        assert response.status_code == 302
        req = DataSubjectRequest.objects.get(user=alice)
        assert req.status == DataSubjectRequest.Status.IN_PROGRESS
        assert ExportFile.objects.get(request=req).status == ExportFile.Status.PENDING
        assert "is registered" in client.get("/privacy-requests/").content.decode()

    def test_the_api_answers_201_and_the_export_waits_pending(self, client, alice, audit_log_flushable, broker_down):
        client.raise_request_exception = False
        client.force_login(alice)
        response = client.post("/api/v1/me/privacy-requests/", {"kind": Kind.PORTABILITY},
                               content_type="application/json")
        assert response.status_code == 201
        assert response.json()["status"] == DataSubjectRequest.Status.IN_PROGRESS
        assert ExportFile.objects.get(request_id=response.json()["id"]).status == ExportFile.Status.PENDING

    def test_asking_again_for_a_stuck_export_builds_it_once_the_broker_is_back(self, client, alice,
                                                                              audit_log_flushable):
        client.raise_request_exception = False
        verified_client(client, alice)
        with broker_outage():
            assert client.post("/privacy-requests/new/", {"kind": Kind.ACCESS}).status_code == 302
        export = ExportFile.objects.get(user=alice)
        ExportFile.objects.filter(pk=export.pk).update(created_at=export.created_at - STUCK)
        # Broker back (tasks in-process here, as without REDIS_URL): asking again is not refused as
        # "already open", and it does not open a second request: the stuck export is built.
        again = client.post("/privacy-requests/new/", {"kind": Kind.ACCESS})
        assert again.status_code == 302
        assert DataSubjectRequest.objects.filter(user=alice).count() == 1
        export.refresh_from_db()
        assert export.status == ExportFile.Status.READY
        assert DataSubjectRequest.objects.get(user=alice).status == DataSubjectRequest.Status.COMPLETED


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
class BrokerBackWorkerTests:
    def test_the_reaper_sends_the_export_again_and_a_real_worker_builds_it(self, client, alice, audit_log_flushable,
                                                                           real_worker):
        from accounts.dsr.export import dsr_exports_requeue

        client.raise_request_exception = False
        verified_client(client, alice)
        with broker_outage():
            assert client.post("/privacy-requests/new/", {"kind": Kind.ACCESS}).status_code == 302
            export = ExportFile.objects.get(user=alice)
            assert dsr_exports_requeue(at=export.created_at + STUCK) == []  # still down: nothing sent
        assert ExportFile.objects.get(pk=export.pk).status == ExportFile.Status.PENDING
        # Redis is back (REDIS_URL) with a worker on it: the next reaper run sends the export again.
        assert dsr_exports_requeue(at=export.created_at + STUCK) == [export.pk]
        assert wait_for(lambda: ExportFile.objects.get(pk=export.pk).status == ExportFile.Status.READY)
        assert DataSubjectRequest.objects.get(user=alice).status == DataSubjectRequest.Status.COMPLETED

