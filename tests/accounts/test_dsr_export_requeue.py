"""The reaper of DSR exports whose build never arrived, asking again for a stuck one, and the build that
runs at most once however often it is sent (issue 16, item 4).

Tasks run in-process here (no REDIS_URL in the test settings): a "sent" export is built at once.
The broker-outage tests with a real broker and worker are test_dsr_broker_outage.py.
"""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test import TestCase
from django.utils.timezone import now

from accounts.dsr.export import dsr_export_build, dsr_exports_requeue
from accounts.dsr.models import DataSubjectRequest, ExportFile
from accounts.dsr.services import ALREADY_OPEN, RESENT, dsr_request_create
from accounts.support.services import support_request_open
from accounts.tasks import dsr_export_build_task
from tests.broker import broker_outage
from voipxs.exceptions import ApplicationError
from voipxs.models import AuditEntry
from voipxs.privacy.audit import actor_ref

Kind = DataSubjectRequest.Kind
LATER = timedelta(minutes=10)  # past TASK_RESEND_AFTER_SECONDS (5 minutes)


@pytest.fixture(autouse=True)
def _private_dir(settings, tmp_path):
    settings.PRIVATE_FILES_DIR = tmp_path


def unsent_export(user, kind=Kind.ACCESS, *, age=timedelta(0)) -> ExportFile:
    """A request made while the broker was down: stored, its export pending and never built."""
    with broker_outage(), TestCase.captureOnCommitCallbacks(execute=True):  # the send after the commit fails
        req = dsr_request_create(user=user, kind=kind)
    export = ExportFile.objects.get(request=req)
    ExportFile.objects.filter(pk=export.pk).update(created_at=now() - age)
    return ExportFile.objects.get(pk=export.pk)


@pytest.mark.django_db
class ExportRequeueSelectionTests:
    def test_it_sends_only_exports_pending_longer_than_the_resend_delay(self, alice, bob, settings):
        settings.TASK_RESEND_AFTER_SECONDS = 300
        old = unsent_export(alice, age=timedelta(minutes=6))
        young = unsent_export(bob, age=timedelta(minutes=4))
        assert dsr_exports_requeue() == [old.pk]
        assert ExportFile.objects.get(pk=old.pk).status == ExportFile.Status.READY
        assert ExportFile.objects.get(pk=young.pk).status == ExportFile.Status.PENDING
        assert dsr_exports_requeue(at=now() + LATER) == [young.pk]

    def test_it_leaves_ready_failed_and_deleted_exports_alone(self, alice, bob, carol):
        for user, status in ((alice, ExportFile.Status.READY), (bob, ExportFile.Status.FAILED),
                             (carol, ExportFile.Status.DELETED)):
            ExportFile.objects.filter(pk=unsent_export(user).pk).update(status=status)
        assert dsr_exports_requeue(at=now() + LATER) == []

    def test_it_sends_nothing_and_keeps_them_pending_while_the_broker_is_down(self, alice, bob):
        exports = [unsent_export(alice), unsent_export(bob)]
        with broker_outage():
            assert dsr_exports_requeue(at=now() + LATER) == []
        assert {e.status for e in ExportFile.objects.filter(pk__in=[e.pk for e in exports])} == {"pending"}
        assert sorted(dsr_exports_requeue(at=now() + LATER)) == sorted(e.pk for e in exports)

    def test_a_second_delivery_of_a_built_export_does_nothing(self, alice):
        export = unsent_export(alice, age=LATER)
        dsr_export_build_task(export.pk)
        built = ExportFile.objects.get(pk=export.pk)
        dsr_export_build_task(export.pk)  # the reaper's send, or a redelivery, after the build
        again = ExportFile.objects.get(pk=export.pk)
        assert (again.status, again.file_name, again.ready_at) == ("ready", built.file_name, built.ready_at)
        assert AuditEntry.objects.filter(action="dsr.export_ready").count() == 1
        assert dsr_exports_requeue(at=now() + LATER) == []


@pytest.mark.django_db
class ExportRetryTests:
    def test_asking_again_for_an_export_not_yet_late_is_refused_as_before(self, alice):
        unsent_export(alice, age=timedelta(minutes=1))
        with pytest.raises(ApplicationError, match=ALREADY_OPEN):
            dsr_request_create(user=alice, kind=Kind.ACCESS)

    def test_asking_again_for_a_late_export_sends_it_and_answers_the_open_request(self, alice):
        export = unsent_export(alice, age=LATER)
        first = DataSubjectRequest.objects.get(user=alice)
        with TestCase.captureOnCommitCallbacks(execute=True):
            assert dsr_request_create(user=alice, kind=Kind.ACCESS).pk == first.pk
        assert ExportFile.objects.get(pk=export.pk).status == ExportFile.Status.READY
        assert DataSubjectRequest.objects.get(pk=first.pk).deadline == first.deadline  # the first clock runs on
        assert AuditEntry.objects.filter(action="dsr.export_retry", target_id=first.pk).count() == 1

    def test_asking_again_after_a_failed_build_makes_a_new_export(self, alice):
        failed = unsent_export(alice, kind=Kind.PORTABILITY)
        ExportFile.objects.filter(pk=failed.pk).update(status=ExportFile.Status.FAILED, error="OSError")
        with TestCase.captureOnCommitCallbacks(execute=True):
            req = dsr_request_create(user=alice, kind=Kind.PORTABILITY)
        assert list(req.exports.order_by("pk").values_list("status", flat=True)) == ["failed", "ready"]

    @pytest.mark.parametrize("who, purpose, on_behalf", [("person", "self_service", None),
                                                          ("support", "legal_obligation", True)])
    def test_the_retry_entry_names_the_purpose_of_who_asked_again(self, alice, support, who, purpose, on_behalf):
        """The person asking again is self-service (as the export's other entries); support asking again for them
        acts on the request the controller must answer (GDPR art. 12(3)), as the request's own entries do."""
        unsent_export(alice, age=LATER)
        first = DataSubjectRequest.objects.get(user=alice)
        with TestCase.captureOnCommitCallbacks(execute=True):
            if who == "person":
                again = dsr_request_create(user=alice, kind=Kind.ACCESS)
            else:
                again = support_request_open(actor=support, user=alice, kind=Kind.ACCESS)
        assert again.pk == first.pk and again.open_outcome == RESENT
        entry = AuditEntry.objects.get(action="dsr.export_retry", target_id=first.pk)
        assert entry.purpose == purpose and entry.extra.get("on_behalf") is on_behalf
        assert entry.actor == actor_ref(alice if who == "person" else support)

    def test_asking_again_once_it_is_ready_opens_a_new_request(self, alice):
        unsent_export(alice, age=LATER)
        dsr_exports_requeue(at=now() + LATER)
        assert DataSubjectRequest.objects.get(user=alice).status == DataSubjectRequest.Status.COMPLETED
        dsr_request_create(user=alice, kind=Kind.ACCESS)
        assert DataSubjectRequest.objects.filter(user=alice).count() == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
class ExportBeingBuiltTests:
    """A build holds the export's row lock until `ready`: while it does, neither the reaper nor a second
    delivery of the task touches the export (PostgreSQL row locks; SQLite has none to hold)."""

    def test_an_export_being_built_is_neither_sent_again_nor_built_twice(self, alice, audit_log_flushable):
        export = unsent_export(alice, age=LATER)
        locked, release = threading.Event(), threading.Event()

        def build_in_progress():  # another worker's build, holding the row as dsr_export_build does
            try:
                with transaction.atomic():
                    ExportFile.objects.select_for_update().get(pk=export.pk)
                    locked.set()
                    release.wait(20)
            finally:
                connection.close()

        worker = threading.Thread(target=build_in_progress)
        worker.start()
        try:
            assert locked.wait(20)
            assert dsr_exports_requeue(at=now() + LATER) == []
            assert dsr_export_build(export_id=export.pk).status == ExportFile.Status.PENDING  # left to the other
        finally:
            release.set()
            worker.join()
        assert ExportFile.objects.get(pk=export.pk).file_name == ""
        assert dsr_exports_requeue(at=now() + LATER) == [export.pk]  # the other build ended without finishing
        assert ExportFile.objects.get(pk=export.pk).status == ExportFile.Status.READY
