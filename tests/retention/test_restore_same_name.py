"""A restore into the database the backup came from, under the same name (PostgreSQL: dropped and created empty
again, as after a lost disk), is what production does after a disaster. The key backup and the audit log's head
witness both name that database (voipxs/privacy/owned_file.py), so both are this database's after the restore:

- the erasures the key backup lists are replayed, and the key backup is taken again by this database without
  `--replace-keys`, still listing them (retention/backup/erasures.py);
- the head witness, which had seen the entries sealed after the backup, records the lost span in the restore's
  audit entry and restarts at the restored head, so verify_audit_log finds the chain intact and compared with it
  (retention/backup/run.py, voipxs/privacy/audit_head.py).

The "production" database is one of its own beside the test's, used only through fresh processes (migrate,
the erasure, backup_create, backup_restore, verify_audit_log), as an operator uses it.
"""
from __future__ import annotations

import json

import pytest
from django.db import connection

from retention.backup import keyfile
from tests.retention.backup_helpers import in_restored
from voipxs.privacy import audit_head

ERIN = {"username": "erin", "email": "erin.samename@example.org", "number": "+31205550181"}


def _run(db: str, *args: str) -> str:
    done = in_restored(db, *args)
    assert done.returncode == 0, done.stderr + done.stdout
    return done.stdout


def _child(db: str, action: str, spec: dict, *extra: str) -> dict:
    return json.loads(_run(db, "-m", "tests.retention.erasure_child", action, json.dumps(spec), *extra)
                      .strip().splitlines()[-1])


def _created_empty(name: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')


@pytest.fixture
def production():
    """A database of its own, migrated, standing in for production: its name is what the files follow. PostgreSQL
    only (the class's mark skips it on SQLite): there a restore goes into a file that does not exist yet, so there is
    no same-named database to drop and restore into."""
    name = f"{connection.settings_dict['NAME']}_same"
    _created_empty(name)
    _run(name, "manage.py", "migrate", "--noinput")
    yield name
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _witness() -> audit_head.Head:
    return audit_head.audit_head_read(audit_head.head_path())


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
class RestoreUnderTheSameNameTests:
    def test_the_erasure_is_replayed_and_the_witness_restarts_at_the_restored_head(self, committed, places,
                                                                                  production):
        identity = f"postgresql:{production}"
        erin = _child(production, "make", ERIN)["account"]
        _run(production, "manage.py", "backup_create", "--out", str(places.out), "--keys", str(places.keys))
        [folder] = list(places.out.iterdir())
        at_backup = _witness().seq
        request = _child(production, "erase", {"account": erin}, str(places.keys))["request"]
        witnessed = _witness().seq
        assert _witness().database == identity and witnessed > at_backup
        assert [e["account"] for e in keyfile.month_keys_read(places.keys)["erasures"]] == [erin]

        _created_empty(production)  # the disk is lost: the database is created again, empty, under its name
        said = _run(production, "manage.py", "backup_restore", "--from", str(folder), "--keys", str(places.keys),
                    "--private-dir", str(places.restored_private))
        assert f"into {identity}" in said and "erasures: 1 replayed (of 1" in said
        assert f"the backup's chain ends at seq {at_backup}; the head witness had seen seq {witnessed}" in said
        assert f"the {witnessed - at_backup} entries sealed after the backup are lost" in said
        assert "--replace-keys" not in said  # the key backup is this database's own

        # The person is erased again, the replay audited; the restore's entry records the span the log lost.
        report = _child(production, "read", {"accounts": [erin], "requests": [request], "invoices": [], "cdrs": []})
        account = report["accounts"][str(erin)]
        assert account["email"] is None and account["anonymised"] and account["numbers"] == 0
        assert report["requests"][str(request)]["replayed"]["backup"] == folder.name
        assert [e["extra"]["request"] for e in report["entries"] if e["action"] == "dsr.erase_replayed"] == [request]
        [restore] = [e for e in report["entries"] if e["action"] == "backup.restore"]
        head = restore["extra"]["audit_head"]
        assert (head["state"], head["seq"], head["restored_seq"], head["lost"]) == (
            "ours", witnessed, at_backup, witnessed - at_backup)
        assert ERIN["email"] not in json.dumps(report["entries"])

        # The witness follows the restored chain from the restore's own entry on: no false alarm, no blind spot.
        witness = _witness()
        assert (witness.database, witness.started_by) == (identity, f"backup_restore {folder.name}")
        assert witness.seq > at_backup
        verify = _run(production, "manage.py", "verify_audit_log")
        assert "audit chain intact" in verify and "head witness: seq" in verify
        assert "not compared with a head witness" not in verify

        # The key backup is taken again by the restored database as its own, and still lists the erasure.
        retake = _run(production, "manage.py", "backup_create", "--keys-only", "--keys", str(places.keys))
        assert "1 erasures" in retake
        data = keyfile.month_keys_read(places.keys)
        assert data["database"] == identity and [e["request"] for e in data["erasures"]] == [request]
