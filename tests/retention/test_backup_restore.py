"""Backups keep crypto-shredding (issue 16, "Backups"): a backup taken before a purge and restored after
it still cannot read the months that purge destroyed.

The month keys live in the database, so a plain dump taken before the purge would hold the key the
purge destroys. The design (retention/backup/): dumps never hold the month-key table's rows; the month
keys go to one month-key backup file that is taken again whenever a month key changes; a restore loads
the keys from that file only. The PostgreSQL test runs the real thing: pg_dump, the purge (partition
dropped, key destroyed), pg_restore into a new database by `manage.py backup_restore` in a process of
its own, and the reads in another fresh process (tests/retention/backup_child.py).
"""
from __future__ import annotations

import gzip
import json
import re
import sqlite3
import subprocess
from datetime import date, timedelta
from io import StringIO
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.utils.timezone import now

from retention.backup import keyfile
from retention.backup.database import pg_binary
from retention.backup.run import PRIVATE_FILES
from retention.purge.months import detached_tables
from retention.purge.run import purge_expired
from tests.factories import make_cdr, make_user
from tests.retention.backup_helpers import RAW_UPLOAD, in_restored, key_file_months, take_backup
from tests.retention.helpers import at, make_invoice
from traffic.keys import month_key_destroy
from traffic.models import MonthKey
from traffic.partitions import cdr_partitions_list_names, month_start
from voipxs.privacy import audit_head
from voipxs.privacy.audit import audit_record, audit_seal
from voipxs.privacy.files import decrypt_file

JAN = date(2026, 1, 1)
EMAIL = "alice.backup@example.org"
NUMBERS = ("+31205550101", "+31699993678", "+31699997000")


class WorkerDied(Exception):
    pass


@pytest.fixture
def calls():
    """alice's calls: two in January 2026 (paid, its dispute window closed: the purge drops the month),
    one two days ago (kept)."""
    alice = make_user("alice", numbers=["+31205550101"], email=EMAIL)
    paid = make_invoice(account=alice, period=JAN, status="paid", window_ends=date(2026, 8, 1))
    return SimpleNamespace(
        alice=alice,
        jan=make_cdr(account=alice, src=NUMBERS[0], dst=NUMBERS[1], started_at=at(2026, 1, 10), invoice=paid,
                     technical={"ip": "192.0.2.7"}),
        jan_free=make_cdr(account=alice, src=NUMBERS[0], dst=NUMBERS[1], started_at=at(2026, 1, 13), rating="free"),
        recent=make_cdr(account=alice, src=NUMBERS[0], dst=NUMBERS[2], started_at=now() - timedelta(days=2)),
    )


def read_restored(db: str, action: str, c) -> dict[str, dict]:
    done = in_restored(db, "-m", "tests.retention.backup_child", action, "alice",
                       *(str(x.id) for x in (c.jan, c.jan_free, c.recent)))
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    return {name: report[str(getattr(c, name).id)] for name in ("jan", "jan_free", "recent")}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
class BackupBeforePurgeTests:
    def test_a_backup_taken_before_a_purge_and_restored_after_it_cannot_read_the_purged_month(
            self, committed, places, calls, restored_db):
        recent_month = f"{month_start(calls.recent.started_at):%Y-%m}"
        jan_token = bytes(calls.jan.src_enc)
        folder = take_backup(places)
        # Only this test's months: empty partitions other tests left behind may be in the file too.
        assert {m: s for m, s in key_file_months(places.keys).items() if m in ("2026-01", recent_month)} == {
            "2026-01": "live", recent_month: "live"}

        call_command("purge_expired", stdout=StringIO())  # drops January's partition, destroys its key
        assert "traffic_cdr_y2026m01" not in cdr_partitions_list_names()
        assert MonthKey.objects.get(month=JAN).wrapped_key is None
        # The purge took the month-key backup again once the destruction committed.
        assert {m: s for m, s in key_file_months(places.keys).items() if m in ("2026-01", recent_month)} == {
            "2026-01": "destroyed", recent_month: "live"}

        restore = in_restored(restored_db, "manage.py", "backup_restore", "--from", str(folder),
                              "--keys", str(places.keys), "--private-dir", str(places.restored_private))
        assert restore.returncode == 0, restore.stderr
        # The restore reports the key file's months: this test's live one and destroyed January, and
        # any empty month other tests left behind (purged above, so destroyed too).
        live, destroyed = map(int, re.search(r"(\d+) live, (\d+) destroyed", restore.stdout).groups())
        key_file = key_file_months(places.keys)
        assert (live, destroyed) == (list(key_file.values()).count("live"), list(key_file.values()).count("destroyed"))
        assert live >= 1 and destroyed >= 1

        report = read_restored(restored_db, "read", calls)
        # January's rows came back with the dump, ciphertext intact, but no key reads them any more ...
        assert report["jan"] == {"row": True, "token": jan_token.hex(), "decrypt": "MonthKeyDestroyed", "page": ["", ""]}
        assert report["jan_free"]["decrypt"] == "MonthKeyDestroyed" and report["jan_free"]["page"] == ["", ""]
        # ... while the month the purge kept reads as before, on the page and by decryption.
        assert report["recent"]["decrypt"] == NUMBERS[0]
        assert report["recent"]["page"] == [NUMBERS[0], NUMBERS[2]]
        assert (places.restored_private / "imports" / "upload-1").read_text() == RAW_UPLOAD

        # The restore procedure's next step, the purge before the app serves, drops the dead month again.
        report = read_restored(restored_db, "purge", calls)
        assert report["jan"]["row"] is False and report["jan_free"]["row"] is False
        assert report["recent"]["decrypt"] == NUMBERS[0]

    def test_a_backup_taken_before_cannot_read_a_month_whose_purge_died_between_shred_and_reclaim(
            self, committed, places, calls, restored_db):
        """Issue 15, item 2: the month is unreadable from the shred's commit, before its files are gone."""
        jan_token = bytes(calls.jan.src_enc)
        folder = take_backup(places)

        def worker_dies_after_the_shred(step: str) -> None:
            if step == "month:shredded":  # January's detach and key destruction have committed
                raise WorkerDied()

        try:
            with pytest.raises(WorkerDied):
                purge_expired(fault=worker_dies_after_the_shred)
            # Its tables are still on disk (not reclaimed), but the key is gone, from the key backup too.
            assert detached_tables(JAN) == ["retention_detached_traffic_cdr_y2026m01",
                                            "retention_detached_traffic_cdrtechnical_y2026m01"]
            assert key_file_months(places.keys)["2026-01"] == "destroyed"
            restore = in_restored(restored_db, "manage.py", "backup_restore", "--from", str(folder),
                                  "--keys", str(places.keys), "--private-dir", str(places.restored_private))
            assert restore.returncode == 0, restore.stderr
            report = read_restored(restored_db, "read", calls)
            assert report["jan"] == {"row": True, "token": jan_token.hex(), "decrypt": "MonthKeyDestroyed",
                                     "page": ["", ""]}
            assert report["recent"]["decrypt"] == NUMBERS[0]
        finally:
            with connection.cursor() as cursor:
                for name in detached_tables():
                    cursor.execute(f'DROP TABLE IF EXISTS "{name}"')

    def test_the_restore_refuses_a_database_that_is_not_empty(self, committed, places, calls):
        folder = take_backup(places)
        with pytest.raises(CommandError, match="not empty"):
            call_command("backup_restore", folder=folder, keys=places.keys,
                         private_dir=places.restored_private, stdout=StringIO())


def backup_text(folder: Path) -> bytes:
    """The database part of a backup as text a grep can search: pg_dump's custom format is compressed,
    so it is turned into plain SQL by pg_restore; the SQLite copy is searched as it is."""
    if connection.vendor == "postgresql":
        return subprocess.run([pg_binary("pg_restore"), "--file=-", str(folder / "database.dump")],
                              capture_output=True, check=True).stdout
    return (folder / "database.sqlite3").read_bytes()


@pytest.mark.django_db(transaction=True)
class BackupContentTests:
    def test_the_backup_holds_no_plaintext_number_or_email_and_no_month_key(self, committed, places, calls):
        folder = take_backup(places)
        database = backup_text(folder)
        everything = [database, *(p.read_bytes() for p in folder.iterdir()), places.keys.read_bytes()]
        for needle in (*NUMBERS, *(n[1:] for n in NUMBERS), EMAIL):
            assert [i for i, blob in enumerate(everything) if needle.encode() in blob] == [], needle
        if connection.vendor == "postgresql":
            assert b"COPY public.traffic_cdr_y2026m01 " in database  # the calls are in it, encrypted
            assert b"COPY public.traffic_monthkey " not in database  # their keys are not
        else:
            copy = sqlite3.connect(folder / "database.sqlite3")
            assert copy.execute("SELECT count(*) FROM traffic_cdr").fetchone()[0] == 3
            assert copy.execute("SELECT count(*) FROM traffic_monthkey").fetchone()[0] == 0
            copy.close()
        # The private files are in it, encrypted: the raw upload decrypts with the master key only.
        label = json.loads((folder / "manifest.json").read_text())["private_files"]["key_label"]
        packed = b"".join(decrypt_file(folder / PRIVATE_FILES, key_label=label, aad_prefix=label))
        assert RAW_UPLOAD.encode() not in (folder / PRIVATE_FILES).read_bytes()
        assert RAW_UPLOAD.encode() in gzip.decompress(packed)

    def test_the_restore_refuses_a_backup_altered_after_it_was_made(self, committed, places, calls):
        folder = take_backup(places)
        dump = next(p for p in folder.iterdir() if p.name.startswith("database."))
        data = dump.read_bytes()
        dump.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))  # one bit of the last byte flipped
        with pytest.raises(CommandError, match="does not match its SHA-256"):
            call_command("backup_restore", folder=folder, keys=places.keys,
                         private_dir=places.restored_private, stdout=StringIO())


@pytest.mark.django_db
class BackupRefusalTests:
    def test_the_month_keys_never_go_next_to_the_dump(self, places):
        with pytest.raises(CommandError, match="keep them apart"):
            call_command("backup_create", out=places.out, keys=places.out / "month-keys.enc", stdout=StringIO())

    def test_a_backup_inside_an_open_transaction_is_refused_not_hung(self, places):
        with transaction.atomic(), pytest.raises(CommandError, match="outside any transaction"):
            call_command("backup_create", out=places.out, keys=places.keys, stdout=StringIO())

    def test_a_destroyed_month_key_leaves_the_key_backup_when_it_commits(self, places, calls,
                                                                       django_capture_on_commit_callbacks):
        call_command("backup_create", keys_only=True, keys=places.keys, stdout=StringIO())
        assert key_file_months(places.keys)["2026-01"] == "live"
        with django_capture_on_commit_callbacks(execute=True):
            month_key_destroy(month=JAN)
        assert key_file_months(places.keys)["2026-01"] == "destroyed"

    def test_another_databases_key_backup_is_never_replaced_unasked(self, places, calls, monkeypatch,
                                                                   django_capture_on_commit_callbacks):
        with monkeypatch.context() as m:
            m.setattr(keyfile, "database_identity", lambda: "postgresql:production")
            keyfile.month_keys_take(path=places.keys)
        with django_capture_on_commit_callbacks(execute=True):
            month_key_destroy(month=JAN)  # this database's purge leaves production's file alone
        assert key_file_months(places.keys)["2026-01"] == "live"
        with pytest.raises(CommandError, match="postgresql:production"):
            call_command("backup_create", keys_only=True, keys=places.keys, stdout=StringIO())
        call_command("backup_create", keys_only=True, keys=places.keys, replace_keys=True, stdout=StringIO())
        assert keyfile.month_keys_read(places.keys)["database"] == keyfile.database_identity()


def _sealed(n: int) -> int:
    """n entries, sealed and committed (the witness follows); the chain's head."""
    for i in range(n):
        audit_record(actor="system:test", action="test.event", extra={"i": i})
    audit_seal()
    return audit_head.chain_head()[0]


def _witness() -> audit_head.Head:
    return audit_head.audit_head_read(audit_head.head_path())


@pytest.mark.django_db(transaction=True)
class BackupAuditHeadTests:
    """A restored audit chain ends where the backup's did, before the head witness: the restore says how many
    sealed entries it lost and restarts the witness for the database it restored, so nothing false alarms; a
    trial restore beside this database leaves this database's witness alone."""

    def test_a_restore_into_the_witnessed_database_records_the_loss_and_restarts_the_witness(
            self, audit_log_flushable, places, restored_db, monkeypatch):
        at_backup = _sealed(3)
        folder = take_backup(places)
        lost = _sealed(4) - at_backup
        # The witness follows the database that is restored under its own name (dropped, created empty again).
        restored = f"{connection.vendor}:{restored_db}"
        with monkeypatch.context() as m:
            m.setattr(audit_head, "database_identity", lambda: restored)
            audit_head.audit_head_restart(started_by="a test")
        witnessed = _witness().seq

        restore = in_restored(restored_db, "manage.py", "backup_restore", "--from", str(folder),
                              "--keys", str(places.keys), "--private-dir", str(places.restored_private))
        assert restore.returncode == 0, restore.stderr
        said = restore.stdout
        assert f"the backup's chain ends at seq {at_backup}; the head witness had seen seq {witnessed}" in said
        assert f"the {lost} entries sealed after the backup are lost" in said
        assert f"now follows this database from seq {at_backup + 1}" in restore.stdout
        witness = _witness()
        assert (witness.database, witness.seq, witness.started_by) == (restored, at_backup + 1,
                                                                      f"backup_restore {folder.name}")
        verify = in_restored(restored_db, "manage.py", "verify_audit_log")
        assert verify.returncode == 0, verify.stderr + verify.stdout
        assert "audit chain intact" in verify.stdout and "head witness: seq" in verify.stdout

    def test_a_trial_restore_leaves_this_databases_witness_alone_until_told(self, audit_log_flushable, places,
                                                                            restored_db):
        _sealed(3)
        folder = take_backup(places)
        ours = _sealed(2)
        before = audit_head.head_path().read_bytes()
        restore = in_restored(restored_db, "manage.py", "backup_restore", "--from", str(folder),
                              "--keys", str(places.keys), "--private-dir", str(places.restored_private))
        assert restore.returncode == 0, restore.stderr
        assert f"belongs to {audit_head.database_identity()} (seq {ours}," in restore.stdout
        assert "was left as it is" in restore.stdout and "verify_audit_log --replace-witness" in restore.stdout
        assert audit_head.head_path().read_bytes() == before
        verify = in_restored(restored_db, "manage.py", "verify_audit_log")  # no false alarm, said plainly
        assert verify.returncode == 0 and "not compared with a head witness" in verify.stdout
        assert audit_head.head_path().read_bytes() == before

        take_over = in_restored(restored_db, "manage.py", "verify_audit_log", "--replace-witness")
        assert take_over.returncode == 0, take_over.stderr
        assert _witness().database == f"{connection.vendor}:{restored_db}"
        call_command("verify_audit_log", stdout=(out := StringIO()))  # this database: intact, not its witness now
        assert "audit chain intact" in out.getvalue() and "belongs to the database" in out.getvalue()
