"""The reaper of productions whose package build never arrived, and the build that runs at most once
however often it is sent (issue 16, item 4).

Tasks run in-process here (no REDIS_URL in the test settings): a "sent" build runs at once. The
broker-outage tests with a real broker and worker are test_production_broker_outage.py.
"""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test import TestCase
from django.utils.timezone import now

from disclosures.models import DisclosureRequest, Package, Status
from disclosures.services.packages import disclosure_package_build, disclosure_productions_requeue
from disclosures.services.transitions import disclosure_production_start
from disclosures.tasks import disclosure_package_build_task
from tests.broker import broker_outage
from tests.disclosures.conftest import receive, to_state
from voipxs.models import AuditEntry

LATER = timedelta(minutes=10)  # past TASK_RESEND_AFTER_SECONDS (5 minutes)


def unsent_production(legal1, legal2, legal3, authority, *, age=timedelta(0), reference=None) -> DisclosureRequest:
    """A production started while the broker was down: stored as producing, its build never sent."""
    req = to_state(receive(legal1, authority, reference=reference), "approved", intake=legal1, approvers=[legal2, legal3])
    with broker_outage(), TestCase.captureOnCommitCallbacks(execute=True):  # the send after the commit fails
        disclosure_production_start(actor=legal1, request=req)
    DisclosureRequest.objects.filter(pk=req.pk).update(production_started_at=now() - age)
    return DisclosureRequest.objects.get(pk=req.pk)


@pytest.mark.django_db
class ProductionRequeueSelectionTests:
    def test_it_sends_only_productions_started_longer_ago_than_the_resend_delay(self, legal1, legal2, legal3,
                                                                                authority, settings):
        settings.TASK_RESEND_AFTER_SECONDS = 300
        old = unsent_production(legal1, legal2, legal3, authority, age=timedelta(minutes=6))
        young = unsent_production(legal1, legal2, legal3, authority, age=timedelta(minutes=4))
        assert old.status == young.status == Status.PRODUCING
        assert disclosure_productions_requeue() == [old.pk]
        assert DisclosureRequest.objects.get(pk=old.pk).status == Status.PRODUCED
        assert DisclosureRequest.objects.get(pk=young.pk).status == Status.PRODUCING
        assert disclosure_productions_requeue(at=now() + LATER) == [young.pk]

    def test_a_production_left_by_older_code_without_a_start_time_counts_as_late(self, legal1, legal2, legal3,
                                                                                  authority):
        req = unsent_production(legal1, legal2, legal3, authority)
        DisclosureRequest.objects.filter(pk=req.pk).update(production_started_at=None)
        assert disclosure_productions_requeue() == [req.pk]

    def test_it_leaves_requests_in_any_other_state_alone(self, legal1, legal2, legal3, authority):
        approved = to_state(receive(legal1, authority), "approved", intake=legal1, approvers=[legal2, legal3])
        produced = to_state(receive(legal1, authority), "produced", intake=legal1, approvers=[legal2, legal3])
        assert {approved.status, produced.status} == {Status.APPROVED, Status.PRODUCED}
        assert disclosure_productions_requeue(at=now() + LATER) == []

    def test_it_sends_nothing_and_they_stay_producing_while_the_broker_is_down(self, legal1, legal2, legal3,
                                                                               authority):
        reqs = [unsent_production(legal1, legal2, legal3, authority, age=LATER) for _ in range(2)]
        with broker_outage():
            assert disclosure_productions_requeue() == []
        assert {DisclosureRequest.objects.get(pk=r.pk).status for r in reqs} == {Status.PRODUCING}
        assert disclosure_productions_requeue() == [r.pk for r in reqs]

    def test_a_second_delivery_of_a_built_package_does_nothing(self, legal1, legal2, legal3, authority):
        req = unsent_production(legal1, legal2, legal3, authority, age=LATER)
        assert disclosure_package_build_task(req.pk, legal1.pk)["package"] is not None
        # The reaper's send, or a redelivery, after the build: no second package, no error.
        assert disclosure_package_build_task(req.pk, legal1.pk) == {"request": req.pk, "ok": True, "package": None}
        assert Package.objects.filter(request=req).count() == 1
        assert DisclosureRequest.objects.get(pk=req.pk).status == Status.PRODUCED
        assert AuditEntry.objects.filter(action="disclosure.produce", target_id=req.pk).count() == 1
        assert AuditEntry.objects.filter(action="disclosure.production_failed").count() == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
class ProductionBeingBuiltTests:
    """A build holds the request's row lock until PRODUCED: while it does, neither the reaper nor a second
    delivery of the task touches the request (PostgreSQL row locks; SQLite has none to hold)."""

    def test_a_package_being_built_is_neither_sent_again_nor_built_twice(self, legal1, legal2, legal3, authority,
                                                                         audit_log_flushable):
        req = unsent_production(legal1, legal2, legal3, authority, age=LATER)
        locked, release = threading.Event(), threading.Event()

        def build_in_progress():  # another worker's build, holding the row as disclosure_package_build does
            try:
                with transaction.atomic():
                    DisclosureRequest.objects.select_for_update().get(pk=req.pk)
                    locked.set()
                    release.wait(20)
            finally:
                connection.close()

        worker = threading.Thread(target=build_in_progress)
        worker.start()
        try:
            assert locked.wait(20)
            assert disclosure_productions_requeue() == []
            assert disclosure_package_build(request_id=req.pk, actor=legal1) is None  # left to the other
        finally:
            release.set()
            worker.join()
        assert not Package.objects.exists()
        assert disclosure_productions_requeue() == [req.pk]  # the other build ended without finishing
        assert DisclosureRequest.objects.get(pk=req.pk).status == Status.PRODUCED
