"""Celery: a real worker on Redis runs our tasks through the broker; tasks take ids, never personal data."""
from __future__ import annotations

import inspect
import time

import pytest
from django.conf import settings

from voipxs.privacy.audit import audit_record, audit_verify
from voipxs.celery import app
from voipxs.models import AuditEntry

OUR_APPS = ("voipxs.", "accounts.", "traffic.", "retention.", "disclosures.")
# Parameter names that would carry personal data into the broker and the worker's logs.
PERSONAL = {"number", "phone", "phone_number", "e164", "msisdn", "email", "e_mail", "username", "login",
            "name", "caller", "caller_name", "caller_id", "cli", "src", "dst", "address", "password"}


def our_tasks() -> dict:
    app.loader.import_default_modules()  # autodiscover every app's tasks.py
    return {name: task for name, task in app.tasks.items() if name.startswith(OUR_APPS)}


class TaskRegistryTests:
    def test_it_registers_every_task_of_the_beat_schedule(self):
        tasks = our_tasks()
        missing = [entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values() if entry["task"] not in tasks]
        assert missing == []

    def test_it_gives_every_beat_entry_a_schedule(self):
        for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
            assert entry.get("schedule"), name

    def test_it_takes_no_personal_data_in_task_arguments(self):
        offenders = []
        for name, task in our_tasks().items():
            for param in inspect.signature(task.run).parameters.values():
                if param.name.lower() in PERSONAL or param.name.lower().endswith(("_number", "_email", "_name")):
                    offenders.append(f"{name}({param.name})")
        assert offenders == []

    def test_it_speaks_only_json_on_the_broker(self):
        assert app.conf.task_serializer == "json"
        assert list(app.conf.accept_content) == ["json"]



@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
class CeleryWorkerTests:
    def test_it_seals_the_audit_log_through_the_broker(self, audit_log_flushable, real_worker):
        from voipxs.tasks import audit_seal

        for i in range(3):
            audit_record(actor=None, action="test.worker", target_type="invoice", target_id=i, extra={"i": i})
        assert AuditEntry.objects.filter(seq__isnull=True).count() >= 3

        result = audit_seal.delay()
        assert result.id  # queued on Redis, not run right here
        deadline = time.monotonic() + 20
        while AuditEntry.objects.filter(seq__isnull=True).exists() and time.monotonic() < deadline:
            time.sleep(0.1)

        assert not AuditEntry.objects.filter(seq__isnull=True).exists()
        checked, problem = audit_verify()
        assert problem is None
        assert checked == AuditEntry.objects.count()
