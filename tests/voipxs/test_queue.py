"""voipxs/queue.py: work handed to Celery after a commit never fails the request when the broker is down.

The broker is really unreachable here (tests/broker.py: a port where nothing listens, or one that
accepts and never answers), with tasks really published; no mock of Celery or Redis.
"""
from __future__ import annotations

import logging
import socket
import time
from contextlib import contextmanager
from typing import Iterator

import pytest
from django.db import transaction

from accounts.tasks import dsr_export_build_task
from tests.broker import broker_outage
from voipxs.celery import app
from voipxs.models import AuditEntry
from voipxs.privacy.audit import audit_record
from voipxs.queue import enqueue_after_commit, task_send, tasks_resend
from voipxs.tasks import audit_seal

# A task that takes an id; with the broker down it is never delivered, so the ids here are made up.
EXPORT_BUILD = dsr_export_build_task.name


@contextmanager
def hung_broker() -> Iterator[None]:
    """A broker that accepts connections and never answers (a hung Redis, a half-open route)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)  # the kernel completes the handshakes; nobody ever reads or writes
    url = f"redis://127.0.0.1:{server.getsockname()[1]}/0"
    try:
        with broker_outage():
            app.conf.broker_url = url
            yield
    finally:
        server.close()


class TaskSendBrokerDownTests:
    def test_it_answers_false_and_logs_the_task_and_ids_only(self, caplog):
        with broker_outage(), caplog.at_level(logging.WARNING, logger="voipxs.queue"):
            assert task_send(dsr_export_build_task, 41) is False
        assert [r.getMessage() for r in caplog.records] == [
            f"task {EXPORT_BUILD}[41] not sent: the broker is unreachable (OperationalError); its reaper sends it again"]

    def test_a_hung_broker_costs_seconds_not_minutes(self):
        with hung_broker():
            started = time.monotonic()
            assert task_send(dsr_export_build_task, 41) is False
        # Socket timeouts of CELERY_BROKER_TRANSPORT_OPTIONS (2 s, one reconnection); without them the
        # publish waits for ever on a broker that never answers.
        assert time.monotonic() - started < 8

    def test_it_takes_ids_only(self):
        with pytest.raises(TypeError, match="ids"):
            task_send(dsr_export_build_task, "+31205550101")
        with pytest.raises(TypeError, match="ids"):
            enqueue_after_commit(dsr_export_build_task, 1, "alice@example.org")

    def test_the_reapers_send_stops_at_the_first_refusal(self, caplog):
        with broker_outage(), caplog.at_level(logging.WARNING, logger="voipxs.queue"):
            assert tasks_resend(dsr_export_build_task, [(1,), (2,), (3,)]) == []
        assert len(caplog.records) == 1  # one try per reaper run while the broker is down, not one per row


@pytest.mark.django_db(transaction=True)
class EnqueueAfterCommitTests:
    def test_the_commit_stands_and_nothing_raises_when_the_broker_is_down(self, audit_log_flushable, caplog):
        with broker_outage(), caplog.at_level(logging.WARNING, logger="voipxs.queue"):
            with transaction.atomic():
                audit_record(actor=None, action="test.queue", target_type="dsr", target_id=7)
                enqueue_after_commit(dsr_export_build_task, 7)
                assert caplog.records == []  # nothing is sent before the commit
        assert AuditEntry.objects.filter(action="test.queue").count() == 1
        assert "[7] not sent" in caplog.records[0].getMessage()

    def test_without_a_broker_the_task_runs_in_process_after_the_commit(self, audit_log_flushable):
        assert app.conf.task_always_eager  # the test settings: no REDIS_URL, tasks run where they are queued
        with transaction.atomic():
            audit_record(actor=None, action="test.queue", target_type="dsr", target_id=8)
            enqueue_after_commit(audit_seal)
            assert AuditEntry.objects.filter(seq__isnull=True).exists()
        assert not AuditEntry.objects.filter(seq__isnull=True).exists()  # sealed by the task, after the commit
