"""A production started while Redis is down (issue 16, item 4).

The fault, found by a probe: the request moved to `producing` and committed, then queueing the package
build failed after the commit and the page answered 500; nothing ever built the package and no step
leads out of `producing`. Now the page answers as usual with the request `producing`, and the reaper
(beat) sends the build again once the broker is back.

No mock of Redis or Celery: tests/broker.py points the broker at a port where nothing listens, with
tasks really published; the test marked `redis` then brings the real broker back with a real worker.
"""
from __future__ import annotations

import time
from datetime import timedelta

import pytest

from disclosures.models import DisclosureRequest, Package, Status
from tests.broker import broker_outage
from tests.disclosures.conftest import receive, to_state
from tests.factories import verified_client

STUCK = timedelta(minutes=10)  # longer than TASK_RESEND_AFTER_SECONDS: the build's task was lost


@pytest.fixture
def approved(legal1, legal2, legal3, authority, audit_log_flushable) -> DisclosureRequest:
    return to_state(receive(legal1, authority), "approved", intake=legal1, approvers=[legal2, legal3])


def wait_for(condition, seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


@pytest.mark.django_db(transaction=True)
class ProductionWhileBrokerDownTests:
    def test_the_page_answers_and_the_request_stays_producing(self, client, legal1, approved, broker_down):
        client.raise_request_exception = False  # see the status a browser would get, 500 included
        verified_client(client, legal1)
        response = client.post(f"/disclosures/requests/{approved.pk}/produce/")
        assert response.status_code == 302
        assert DisclosureRequest.objects.get(pk=approved.pk).status == Status.PRODUCING
        assert not Package.objects.exists()

    def test_the_api_answers_200_and_the_request_stays_producing(self, client, legal1, approved, broker_down):
        client.raise_request_exception = False
        verified_client(client, legal1)
        response = client.post(f"/api/v1/staff/disclosures/requests/{approved.pk}/produce/", {},
                               content_type="application/json")
        assert response.status_code == 200
        assert DisclosureRequest.objects.get(pk=approved.pk).status == Status.PRODUCING

    def test_the_reaper_builds_the_package_once_the_broker_is_back(self, client, legal1, approved):
        from disclosures.services.packages import disclosure_productions_requeue

        client.raise_request_exception = False
        verified_client(client, legal1)
        with broker_outage():
            assert client.post(f"/disclosures/requests/{approved.pk}/produce/").status_code == 302
            assert disclosure_productions_requeue(at=_stuck(approved)) == []  # still down: nothing sent
        # Broker back (tasks in-process here, as without REDIS_URL): the reaper's send builds it.
        assert disclosure_productions_requeue(at=_stuck(approved)) == [approved.pk]
        assert DisclosureRequest.objects.get(pk=approved.pk).status == Status.PRODUCED
        assert Package.objects.filter(request=approved).count() == 1
        assert disclosure_productions_requeue(at=_stuck(approved)) == []  # produced: nothing left to send


def _stuck(req: DisclosureRequest):
    return DisclosureRequest.objects.get(pk=req.pk).production_started_at + STUCK


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
class BrokerBackWorkerTests:
    def test_the_reaper_sends_the_build_again_and_a_real_worker_produces_it(self, client, legal1, approved,
                                                                            real_worker):
        from disclosures.services.packages import disclosure_productions_requeue

        client.raise_request_exception = False
        verified_client(client, legal1)
        with broker_outage():
            assert client.post(f"/disclosures/requests/{approved.pk}/produce/").status_code == 302
        assert DisclosureRequest.objects.get(pk=approved.pk).status == Status.PRODUCING
        # Redis is back (REDIS_URL) with a worker on it: the next reaper run sends the build again.
        assert disclosure_productions_requeue(at=_stuck(approved)) == [approved.pk]
        assert wait_for(lambda: DisclosureRequest.objects.get(pk=approved.pk).status == Status.PRODUCED)
        assert Package.objects.filter(request=approved).count() == 1
