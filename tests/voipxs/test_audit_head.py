"""The audit log's head witness (voipxs/privacy/audit_head.py, LEGAL.md row 21): deleting the NEWEST sealed
entries, with the append-only triggers lifted, is noticed, because a file outside the database remembers how
far the chain had reached. Retention's trim raises no alarm; a witness of another database is never written
over and is reported plainly; an altered witness does not verify."""
from __future__ import annotations

import json
import logging
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction

from tests.factories import verified_client
from tests.voipxs.test_audit import _set_triggers
from tests.voipxs.test_audit_trim import CUTOFF, _old
from voipxs.models import AuditEntry
from voipxs.privacy import audit_head
from voipxs.privacy.audit import audit_record, audit_seal, audit_trim, audit_verify
from voipxs.privacy.audit_check import audit_chain_check_latest

pytestmark = pytest.mark.django_db
DPO_HOME = "/privacy-requests/dpo/"
MARKER = "witness-marker-5Kq"  # in an entry's extra; must never reach the witness


@pytest.fixture
def sealing(django_capture_on_commit_callbacks):
    """Seal as the beat task does: the witness is written once the seal has committed."""
    def seal(n: int) -> list[AuditEntry]:
        entries = [audit_record(actor="system:test", action="test.event", extra={"i": i, "m": MARKER})
                   for i in range(n)]
        with django_capture_on_commit_callbacks(execute=True):
            audit_seal()
        return entries
    return seal


def _witness() -> dict:
    return json.loads(settings.AUDIT_HEAD_FILE.read_text())


def _other_databases_witness(monkeypatch, seq: int | None = None) -> None:
    """Production's witness; at this chain's head unless `seq` (this database then is a copy of production's)."""
    with monkeypatch.context() as m:
        m.setattr(audit_head, "database_identity", lambda: "postgresql:production")
        if seq is not None:
            m.setattr(audit_head, "chain_head", lambda: (seq, "ab" * 32))
        audit_head.audit_head_restart(started_by="a test")


class AuditHeadWitnessTests:
    def test_each_seal_moves_the_witness_to_the_chains_head_without_personal_data(self, sealing):
        sealing(3)
        head = AuditEntry.objects.get(seq=3)
        assert _witness()["witness"]["seq"] == 3 and _witness()["witness"]["entry_hash"] == head.entry_hash
        sealing(2)
        body = _witness()["witness"]
        assert (body["seq"], body["since_seq"], body["started_by"]) == (5, 3, "the sealer")
        assert set(body) == {"database", "seq", "entry_hash", "recorded_at", "since_seq", "since", "started_by"}
        assert MARKER not in settings.AUDIT_HEAD_FILE.read_text()
        assert audit_verify() == (5, None)

    def test_removing_the_newest_entries_is_reported_naming_the_seq(self, sealing):
        sealing(5)
        _set_triggers(False)
        AuditEntry.objects.filter(seq__gt=3).delete()  # the tail: what someone just did
        _set_triggers(True)
        checked, problem = audit_verify()
        assert checked == 3 and problem.seq == 4
        assert "entries after seq 3 removed" in str(problem) and "had reached seq 5" in str(problem)
        with pytest.raises(CommandError, match="entries after seq 3 removed"):
            call_command("verify_audit_log", stdout=StringIO())

    def test_the_sealer_keeps_the_evidence_when_new_entries_pass_the_witnessed_seq(self, sealing, caplog):
        sealing(5)
        _set_triggers(False)
        AuditEntry.objects.filter(seq__gt=3).delete()
        _set_triggers(True)
        with caplog.at_level(logging.ERROR):
            sealing(4)  # sealed as seq 4..7: the chain is longer again, but not the one the witness saw
        assert _witness()["witness"]["seq"] == 5
        assert "no longer holds the witnessed head at seq 5" in caplog.text
        checked, problem = audit_verify()
        assert problem.seq == 5 and "the chain was rewritten at seq 5" in str(problem)

    def test_an_altered_witness_does_not_verify_and_is_kept(self, sealing, caplog):
        sealing(5)
        data = _witness()
        data["witness"]["seq"] = 3  # moved back, as someone who deleted the tail would want
        settings.AUDIT_HEAD_FILE.write_text(json.dumps(data))
        _set_triggers(False)
        AuditEntry.objects.filter(seq__gt=3).delete()
        _set_triggers(True)
        _, problem = audit_verify()
        assert str(problem).startswith("the head witness: ") and "altered or forged" in str(problem)
        with caplog.at_level(logging.ERROR):
            sealing(1)
        assert _witness()["witness"]["seq"] == 3 and "does not verify" in caplog.text

    def test_a_stale_writer_never_moves_the_witness_back(self, sealing):
        sealing(5)
        with pytest.raises(RuntimeError), transaction.atomic():
            sealing(2)  # a seal that another process committed: the witness saw seq 7 ...
            assert _witness()["witness"]["seq"] == 7
            raise RuntimeError  # ... and this process still sees the chain at seq 5
        assert audit_head.audit_head_record() is None
        assert _witness()["witness"]["seq"] == 7

    def test_the_trim_raises_no_alarm(self, django_capture_on_commit_callbacks):
        _old(4)
        with django_capture_on_commit_callbacks(execute=True):
            audit_trim(before=CUTOFF)  # seals 1..4 (the witness: 4), anchors at 4, deletes them
        assert _witness()["witness"]["seq"] == 4 and not AuditEntry.objects.filter(seq__lte=4).exists()
        assert audit_verify() == (0, None)
        with django_capture_on_commit_callbacks(execute=True):
            audit_seal()  # the trim's own entry: the witnessed seq 4 now lives on in the anchor only
        assert _witness()["witness"]["seq"] == 5
        assert audit_verify() == (1, None)

    def test_a_witness_the_trim_overtook_moves_on(self, sealing, django_capture_on_commit_callbacks):
        _old(2)
        with django_capture_on_commit_callbacks(execute=True):
            audit_seal()
        _old(2)
        audit_seal()  # sealed, but the witness not told yet (the sealer's write comes after the trim here)
        assert _witness()["witness"]["seq"] == 2
        audit_trim(before=CUTOFF)  # anchors at 4: the witnessed seq 2 is gone with the prefix, no anchor at 2
        assert audit_verify() == (0, None)
        sealing(1)
        assert _witness()["witness"]["seq"] == 6  # the trim's entry and this one
        assert audit_verify() == (2, None)


class AuditHeadNoticeTests:
    def test_a_missing_witness_is_said_plainly_and_is_not_a_break(self, client, dpo):
        audit_record(actor="system:test", action="test.event")
        call_command("verify_audit_log", no_seal=True, stdout=(out := StringIO()))
        assert "audit chain intact" in out.getvalue()
        assert "not compared with a head witness: there is no head witness" in out.getvalue()
        call_command("verify_audit_log", stdout=StringIO())  # the recorded check: the DPO page shows it
        page = verified_client(client, dpo).get(DPO_HOME).content.decode()
        assert 'id="audit-head"' in page and "there is no head witness" in page and "is intact" in page

    def test_another_databases_witness_is_never_written_over_and_is_said_plainly(self, sealing, monkeypatch,
                                                                               client, dpo):
        for i in range(3):  # a trial restore of production: the same chain, sealed as far as production's witness
            audit_record(actor="system:test", action="test.event", extra={"i": i})
        audit_seal()
        _other_databases_witness(monkeypatch)
        theirs = _witness()["witness"]["seq"]
        sealing(2)  # this database's chain goes on past production's witnessed head, which it still holds
        assert _witness()["witness"]["database"] == "postgresql:production" and _witness()["witness"]["seq"] == theirs
        assert AuditEntry.objects.get(seq=theirs).entry_hash == _witness()["witness"]["entry_hash"]
        call_command("verify_audit_log", stdout=(out := StringIO()))  # no false alarm: not this chain's witness
        said = out.getvalue()
        assert "audit chain intact" in said and "belongs to the database postgresql:production" in said
        check = audit_chain_check_latest()
        assert check.intact and "--replace-witness" in check.witness
        page = verified_client(client, dpo).get(DPO_HOME).content.decode()
        assert "belongs to the database postgresql:production" in page

    def test_replace_witness_takes_it_over_and_records_it(self, sealing, monkeypatch):
        _other_databases_witness(monkeypatch, seq=99)
        sealing(3)
        call_command("verify_audit_log", replace_witness=True, stdout=(out := StringIO()))
        assert "replaced postgresql:production at seq 99; it now follows this database from seq 3" in out.getvalue()
        assert "head witness: seq 3" in out.getvalue()
        body = _witness()["witness"]
        assert body["database"] == audit_head.database_identity() and body["started_by"].startswith("verify_audit_log")
        taken = AuditEntry.objects.get(action="audit.witness_replace")
        assert taken.extra["previous"]["database"] == "postgresql:production" and taken.purpose == "security"
