"""The audit log checks itself every day (beat) and records the outcome in the log; the DPO's page says
when it was last checked and whether the chain held, and a break is an alert there and an error in the
operators' log (without any personal data)."""
from __future__ import annotations

import logging
from datetime import timedelta
from unittest import mock

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.factories import verified_client
from tests.voipxs.test_audit import _set_triggers
from voipxs.beat import SCHEDULE
from voipxs.models import AuditEntry
from voipxs.privacy.audit import audit_record, audit_seal
from voipxs.privacy.audit_check import audit_chain_check_latest
from voipxs.tasks import audit_verify as audit_verify_task

pytestmark = pytest.mark.django_db
DPO_HOME = "/privacy-requests/dpo/"


def _write(n: int) -> list[AuditEntry]:
    entries = [audit_record(actor="system:test", action="test.event", extra={"i": i}) for i in range(n)]
    audit_seal()
    return entries


class AuditChainCheckTests:
    def test_the_daily_task_records_an_intact_chain_and_the_dpo_page_says_so(self, client, dpo):
        assert SCHEDULE["audit-verify"]["task"] == "voipxs.tasks.audit_verify"
        page = verified_client(client, dpo).get(DPO_HOME).content.decode()
        assert "has not been checked yet" in page
        _write(3)
        assert audit_verify_task.apply().get() is True  # the task beat sends, run here
        check = audit_chain_check_latest()
        assert check.intact and check.checked >= 3 and not check.stale
        page = client.get(DPO_HOME).content.decode()
        assert "hash chain of its" in page and "is intact" in page

    def test_a_broken_chain_is_an_alert_on_the_dpo_page_and_an_error_in_the_log(self, client, dpo, caplog):
        entries = _write(4)
        _set_triggers(False)
        AuditEntry.objects.filter(pk=entries[1].pk).update(extra={"i": "altered-7Qz"})  # no id can contain it
        _set_triggers(True)
        with caplog.at_level(logging.ERROR), pytest.raises(CommandError):
            call_command("verify_audit_log")
        assert "audit chain broken at seq" in caplog.text and "altered-7Qz" not in caplog.text
        check = audit_chain_check_latest()
        assert not check.intact and f"entry id {entries[1].pk}" in check.problem
        page = verified_client(client, dpo).get(DPO_HOME).content.decode()
        assert 'role="alert" id="audit-chain"' in page and "treat it as a security incident" in page

    def test_a_check_that_stopped_running_is_flagged(self, client, dpo):
        _write(1)
        call_command("verify_audit_log")
        check = audit_chain_check_latest()
        assert not check.stale
        later = check.checked_at + timedelta(hours=37)  # the log is append-only: move the clock instead
        with mock.patch("voipxs.privacy.audit_check.now", return_value=later):
            assert audit_chain_check_latest().stale
            page = verified_client(client, dpo).get(DPO_HOME).content.decode()
        assert "the daily check has not run since" in page
