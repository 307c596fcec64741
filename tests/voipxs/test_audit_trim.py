"""Retention of the audit log: old entries go behind an authenticated anchor, the chain still verifies,
and the database still refuses every other DELETE (and any change to an anchor)."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.utils.timezone import now

from voipxs.privacy.audit import anchor_mac, audit_record, audit_seal, audit_seal_all, audit_trim, audit_verify
from voipxs.models import AuditAnchor, AuditEntry

# The cutoff lies just after the test's own clock: whatever audit_record writes during a test is old
# enough to go; entries from after the cutoff are made explicitly (`_young`).
CUTOFF = now() + timedelta(days=1)
LATER = CUTOFF + timedelta(days=30)


class WorkerDied(Exception):
    pass


def _entries(n: int, *, at: datetime | None = None, action: str = "test.event") -> list[AuditEntry]:
    """n entries created at `at` (default: now, which is before CUTOFF)."""
    return [AuditEntry.objects.create(actor="system:test", action=action, created_at=at or now(), extra={"i": i})
            for i in range(n)]


def _old(n: int) -> list[AuditEntry]:
    return _entries(n, at=CUTOFF - timedelta(days=1), action="test.old")


def _young(n: int) -> list[AuditEntry]:
    return _entries(n, at=LATER, action="test.young")


def _ids(entries: list[AuditEntry]) -> set[int]:
    return {e.pk for e in entries}


def _left(entries: list[AuditEntry]) -> set[int]:
    return set(AuditEntry.objects.filter(pk__in=_ids(entries)).values_list("pk", flat=True))


def _lift_triggers(table: str) -> None:
    """Lift the append-only triggers of `table` for the rest of the test (the test's transaction
    rolls the DDL back on both databases): what someone with database rights could do."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
            return
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s", [table])
        for (name,) in cursor.fetchall():
            cursor.execute(f'DROP TRIGGER "{name}"')


@pytest.mark.django_db
class AuditTrimTests:
    def test_it_removes_entries_older_than_the_cutoff_and_keeps_newer_ones(self):
        old, young = _old(4), _young(3)
        result = audit_trim(before=CUTOFF)
        assert result["deleted"] == 4 and result["anchored"] is True
        assert _left(old) == set() and _left(young) == _ids(young)
        anchor = AuditAnchor.objects.get()
        assert anchor.up_to_seq == 4 and anchor.removed == 4 and anchor.cutoff == CUTOFF

    def test_it_removes_only_the_old_prefix_of_the_chain(self):
        # An entry that committed late sits after a younger one in the chain: it waits for that one.
        first, young, late = _old(2), _young(1), _old(2)
        result = audit_trim(before=CUTOFF)
        assert result["deleted"] == 2
        assert _left(first) == set() and _left(young + late) == _ids(young + late)

    def test_it_seals_first_and_records_the_trim_in_the_chain(self):
        old = _old(3)
        assert AuditEntry.objects.filter(seq__isnull=True).count() == 3
        result = audit_trim(before=CUTOFF)
        assert result["deleted"] == 3 and _left(old) == set()
        trim = AuditEntry.objects.get(action="audit.trim")
        assert trim.extra["deleted"] == 3 and trim.extra["up_to_seq"] == 3 and trim.actor == "system:audit_trim"
        audit_seal()
        trim.refresh_from_db()
        assert trim.seq == 4 and trim.prev_hash == AuditAnchor.objects.get().entry_hash
        assert audit_verify() == (1, None)

    def test_verify_audit_log_passes_after_a_trim_and_starts_at_the_anchor(self, capsys):
        _old(5)
        _young(2)
        audit_trim(before=CUTOFF)
        call_command("verify_audit_log")
        out = capsys.readouterr().out
        assert "3 entries verified" in out and "trim anchor at seq 5" in out  # 2 young + audit.trim

    def test_the_chain_continues_from_the_anchor_when_every_entry_went(self):
        old = _old(3)
        audit_trim(before=CUTOFF)
        assert _left(old) == set()
        audit_record(actor="system:test", action="test.after")
        audit_seal_all()
        assert list(AuditEntry.objects.order_by("seq").values_list("seq", flat=True)) == [4, 5]
        assert audit_verify() == (2, None)

    def test_a_second_trim_moves_the_anchor_forward_and_the_first_still_verifies(self):
        _old(2)
        audit_trim(before=CUTOFF)
        later = _entries(2, at=LATER)
        result = audit_trim(before=LATER + timedelta(days=1))  # the trim entry of the first run goes too
        assert result["deleted"] == 3 and _left(later) == set()
        assert list(AuditAnchor.objects.values_list("up_to_seq", flat=True)) == [5, 2]
        audit_seal()
        assert audit_verify() == (1, None)

    def test_it_does_nothing_when_nothing_is_old_enough(self):
        young = _young(2)
        result = audit_trim(before=CUTOFF)
        assert result == {"deleted": 0, "up_to_seq": 0, "cutoff": CUTOFF.isoformat(), "anchored": False}
        assert not AuditAnchor.objects.exists() and _left(young) == _ids(young)
        assert audit_verify()[1] is None

    def test_a_dry_run_counts_and_changes_nothing(self):
        old, young = _old(3), _young(1)
        audit_seal()
        audit_record(actor="system:test", action="test.unsealed")
        before = list(AuditEntry.objects.order_by("id").values_list("id", "seq"))
        result = audit_trim(before=CUTOFF, dry_run=True)
        assert result["deleted"] == 3
        assert list(AuditEntry.objects.order_by("id").values_list("id", "seq")) == before  # not even sealed
        assert not AuditAnchor.objects.exists() and _left(old + young) == _ids(old + young)

    def test_a_dry_run_counts_unsealed_entries_as_the_sealer_will_link_them(self):
        _old(2)
        audit_seal()
        _old(2)
        _young(1)
        _old(1)  # committed late: it follows the young one
        assert audit_trim(before=CUTOFF, dry_run=True)["deleted"] == 4
        assert audit_trim(before=CUTOFF)["deleted"] == 4


@pytest.mark.django_db
class AuditTrimInterruptedTests:
    def test_a_run_that_dies_after_the_anchor_is_finished_by_the_next_one(self):
        old, young = _old(5), _young(2)
        seen: list[str] = []

        def die_in_second_batch(step: str) -> None:
            seen.append(step)
            if len(seen) == 2:
                raise WorkerDied()

        with pytest.raises(WorkerDied):
            audit_trim(before=CUTOFF, chunk_size=2, fault=die_in_second_batch)
        # The anchor and the first batch are committed; the second batch rolled back.
        assert AuditAnchor.objects.get().up_to_seq == 5
        assert len(_left(old)) == 3
        assert audit_verify() == (2, None)  # a trim in progress: entries behind the anchor are skipped
        result = audit_trim(before=CUTOFF, chunk_size=2)
        assert result["deleted"] == 3 and result["anchored"] is False
        assert _left(old) == set() and _left(young) == _ids(young)
        assert AuditAnchor.objects.count() == 1
        call_command("verify_audit_log")

    def test_it_deletes_in_batches_of_chunk_size(self):
        _old(5)
        batches: list[str] = []
        assert audit_trim(before=CUTOFF, chunk_size=2, fault=batches.append)["deleted"] == 5
        assert batches == ["batch:audit_log"] * 3  # 2 + 2 + 1


@pytest.mark.django_db(transaction=True)
class AuditTrimCommittedTests:
    """The same interruption with real commits (no test transaction around it), as in production."""

    def test_the_anchor_and_finished_batches_survive_a_crash_and_the_next_run_finishes(self, audit_log_flushable):
        old, young = _old(4), _young(1)

        def die(step: str) -> None:
            raise WorkerDied()

        with pytest.raises(WorkerDied):
            audit_trim(before=CUTOFF, chunk_size=3, fault=die)
        assert AuditAnchor.objects.get().up_to_seq == 4 and len(_left(old)) == 4  # the batch rolled back
        assert audit_trim(before=CUTOFF, chunk_size=3)["deleted"] == 4
        assert _left(old) == set() and _left(young) == _ids(young)
        audit_seal_all()
        assert audit_verify() == (2, None)


@pytest.mark.django_db
class AuditTrimTamperingTests:
    def test_verify_names_a_forged_anchor(self):
        _old(3)
        young = _young(3)
        audit_seal()
        # Someone removes two young entries and inserts an anchor that would hide it (INSERT is allowed).
        forged = AuditAnchor(up_to_seq=5, entry_hash=AuditEntry.objects.get(pk=young[1].pk).entry_hash,
                             cutoff=LATER, removed=5, mac="0" * 64)
        forged.save()
        checked, problem = audit_verify()
        assert problem is not None and problem.anchor_id == forged.pk and "forged" in problem.reason
        with pytest.raises(CommandError, match=f"anchor id {forged.pk}.*forged or altered"):
            call_command("verify_audit_log")

    def test_verify_names_an_anchor_altered_behind_the_triggers_back(self):
        _old(3)
        _young(3)
        audit_trim(before=CUTOFF)
        anchor = AuditAnchor.objects.get()
        _lift_triggers("voipxs_auditanchor")
        AuditAnchor.objects.filter(pk=anchor.pk).update(up_to_seq=5)  # would hide two more entries
        _, problem = audit_verify()
        assert problem is not None and problem.anchor_id == anchor.pk

    def test_an_anchor_with_the_right_key_verifies(self):
        # The MAC covers what the anchor says; the same fields under the right key verify.
        _old(2)
        audit_trim(before=CUTOFF)
        anchor = AuditAnchor.objects.get()
        assert anchor.mac == anchor_mac(anchor)
        anchor.removed = 1
        assert anchor.mac != anchor_mac(anchor)

    def test_verify_names_an_entry_deleted_after_the_anchor(self):
        _old(3)
        young = _young(3)
        audit_trim(before=CUTOFF)
        _lift_triggers("voipxs_auditentry")
        gone = AuditEntry.objects.get(pk=young[1].pk)
        AuditEntry.objects.filter(pk=gone.pk).delete()
        with pytest.raises(CommandError, match=f"seq {gone.seq} .*missing"):
            call_command("verify_audit_log", "--no-seal")


@pytest.mark.django_db
class AuditTrimDatabaseRulesTests:
    """Run on SQLite and on PostgreSQL: each has its own triggers (migration 0004)."""

    def test_it_refuses_a_raw_delete_beyond_the_anchor_and_of_unsealed_entries(self):
        _old(2)
        young = _young(2)
        audit_trim(before=CUTOFF)
        unsealed = audit_record(actor="system:test", action="test.unsealed")
        for entry_id in (young[0].pk, unsealed.pk):
            with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("DELETE FROM voipxs_auditentry WHERE id = %s", [entry_id])
        assert _left(young) == _ids(young) and AuditEntry.objects.filter(pk=unsealed.pk).exists()

    def test_it_still_refuses_every_delete_without_an_anchor(self):
        entry = _old(1)[0]
        audit_seal()
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            AuditEntry.objects.filter(pk=entry.pk).delete()

    def test_it_still_refuses_updates_of_sealed_entries(self):
        _old(2)
        young = _young(1)
        audit_trim(before=CUTOFF)
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            AuditEntry.objects.filter(pk=young[0].pk).update(extra={"forged": True})

    def test_it_refuses_to_update_or_delete_an_anchor(self):
        _old(2)
        audit_trim(before=CUTOFF)
        anchor = AuditAnchor.objects.get()
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            AuditAnchor.objects.filter(pk=anchor.pk).update(up_to_seq=99)
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            AuditAnchor.objects.filter(pk=anchor.pk).delete()
        assert AuditAnchor.objects.get().up_to_seq == 2
