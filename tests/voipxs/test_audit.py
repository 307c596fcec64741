from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from voipxs.privacy.audit import audit_record, audit_seal, audit_verify
from voipxs.models import AuditEntry


def _set_triggers(enabled: bool) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"ALTER TABLE voipxs_auditentry {'ENABLE' if enabled else 'DISABLE'} TRIGGER USER")
        else:
            if enabled:
                return
            cursor.execute("DROP TRIGGER IF EXISTS voipxs_audit_no_update")
            cursor.execute("DROP TRIGGER IF EXISTS voipxs_audit_no_delete")


@pytest.mark.django_db
class AuditChainTests:
    def _write(self, n: int) -> list[AuditEntry]:
        entries = [audit_record(actor="system:test", action="test.event", extra={"i": i}) for i in range(n)]
        audit_seal()
        return entries

    def test_it_verifies_an_intact_chain(self, capsys):
        self._write(5)
        call_command("verify_audit_log")
        assert "5 entries verified" in capsys.readouterr().out

    def test_it_refuses_update_and_delete_in_the_database(self):
        entry = self._write(1)[0]
        with pytest.raises(DatabaseError), transaction.atomic():
            AuditEntry.objects.filter(pk=entry.pk).update(action="forged")
        with pytest.raises(DatabaseError), transaction.atomic():
            AuditEntry.objects.filter(pk=entry.pk).delete()

    def test_it_names_the_first_altered_entry(self):
        entries = self._write(5)
        _set_triggers(False)
        AuditEntry.objects.filter(pk=entries[2].pk).update(extra={"i": 99})
        _set_triggers(True)
        with pytest.raises(CommandError, match=f"entry id {entries[2].pk}.*altered"):
            call_command("verify_audit_log")

    def test_it_names_a_missing_entry(self):
        entries = self._write(5)
        _set_triggers(False)
        AuditEntry.objects.filter(pk=entries[1].pk).delete()
        _set_triggers(True)
        checked, problem = audit_verify()
        assert problem is not None and problem.seq == 2 and "missing" in problem.reason

    def test_it_detects_reordered_entries(self):
        entries = self._write(4)
        _set_triggers(False)
        a, b = AuditEntry.objects.get(pk=entries[1].pk), AuditEntry.objects.get(pk=entries[2].pk)
        AuditEntry.objects.filter(pk=a.pk).update(seq=-1)
        AuditEntry.objects.filter(pk=b.pk).update(seq=a.seq)
        AuditEntry.objects.filter(pk=a.pk).update(seq=b.seq)
        _set_triggers(True)
        _, problem = audit_verify()
        assert problem is not None and problem.seq == 2

    def test_it_seals_entries_that_commit_after_a_seal(self):
        self._write(2)
        audit_record(actor="system:test", action="late")
        assert audit_seal() == 1
        assert audit_verify() == (3, None)
