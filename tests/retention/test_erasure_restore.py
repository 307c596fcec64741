"""Erasures survive a restore (LEGAL.md section 5 row 25, "Backups handled"): a backup taken before an erasure
and restored after it brings the person's data back with the dump, and the restore erases them again.

The key backup (retention/backup/keyfile.py) lists every erasure done, ids and times only, and is taken again
once an erasure commits; `backup_restore` replays each listed erasure whose account still has its personal data
in the restored database, through the same erasure, today's exceptions deciding what stays (retention/backup/
erasures.py). The restore runs as the operator runs it, `manage.py backup_restore` in a process of its own into
a new database (PostgreSQL: a new database; SQLite: a new file), and the reads in another fresh process
(tests/retention/erasure_child.py).
"""
from __future__ import annotations

import json
import signal
from datetime import timedelta
from io import StringIO
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils.timezone import now

from accounts.ciot.services import subscriber_details_set
from accounts.dsr.models import DataSubjectRequest, ExportFile
from accounts.dsr.services import dsr_erasure_replay, dsr_request_create
from accounts.models import User
from retention.backup import keyfile
from retention.backup.erasures import erasure_records, erasures_replay
from retention.services import legal_hold_place
from tests.factories import PASSWORD, make_cdr, make_user, verified_client
from tests.retention.backup_helpers import in_restored, take_backup
from tests.retention.erasure_child import snapshot
from tests.retention.helpers import make_invoice
from traffic.partitions import month_start
from voipxs.privacy import crypto, owned_file

ERASURE = DataSubjectRequest.Kind.ERASURE
CAROL = {"email": "carol.erased@example.org", "number": "+31205550177", "name": "Carol Testperson",
         "street": "Synthetischestraat", "town": "Testdorp"}
DAVE = {"email": "dave.erased@example.org", "number": "+31205550178"}
OTHER = "+31699993411"
HOLD = "TEST-HOLD-R1"
EXPORT = "export-carol-synthetic.zip.enc"
PERSONAL = (*CAROL.values(), DAVE["email"], DAVE["number"], OTHER, HOLD, "carol", "dave")


def key_file_text(path) -> str:
    """The key backup decrypted: what anyone holding the file and the master key reads in it. Two values are shown
    as "…", so a test that looks for a person's name finds only what the file says of people: the database's own
    name (a test database named test_voipxs_dpo held "dpo", the DPO's user name) and the wrapped month keys, random
    base64 that holds any short name now and then."""
    raw = path.read_bytes()
    data = json.loads(crypto.decrypt_bytes(raw[len(keyfile.MAGIC):], aad=keyfile._AAD))
    data["database"] = "…"
    for month in data.get("months", []):
        if month.get("wrapped_key") is not None:
            month["wrapped_key"] = "…"
    return json.dumps(data)


def customers() -> SimpleNamespace:
    """carol: a number, a name and address, a paid invoice of three months ago (under the tax rule's 7 years: kept,
    restricted), a call billed on it, a failed call, and a call of three days ago under a preservation order on
    her number (the hold keeps every call of hers, restricted: traffic/sections.py calls_erase), and her data's
    export, ready to download (a file among the private files). dave: a number, a
    paid invoice whose dispute window has closed and a call billed on it, which nothing keeps."""
    carol = make_user("carol", numbers=[CAROL["number"]], email=CAROL["email"])
    subscriber_details_set(user=carol, actor=None, name=CAROL["name"], street=CAROL["street"], house_number="7",
                           postcode="9999 ZZ", town=CAROL["town"])
    billed_at = now() - timedelta(days=90)
    window_closed = (now() - timedelta(days=2)).date()
    invoice = make_invoice(account=carol, period=month_start(billed_at), status="paid", window_ends=window_closed)
    calls = [make_cdr(account=carol, src=CAROL["number"], dst=OTHER, started_at=billed_at, invoice=invoice),
             make_cdr(account=carol, src=CAROL["number"], dst=OTHER, started_at=billed_at + timedelta(days=1),
                      disposition="failed", billsec=0, rating="free")]
    held = make_cdr(account=carol, src=CAROL["number"], dst=OTHER, started_at=now() - timedelta(days=3))
    legal_hold_place(reason="preservation_order", reference=HOLD, categories=["cdr_billed", "cdr_unbilled"],
                     numbers=[CAROL["number"]], window_start=now() - timedelta(days=10),
                     expires_at=now() + timedelta(days=90))
    asked = DataSubjectRequest.objects.create(user=carol, kind="access", status="completed", deadline=now())
    ExportFile.objects.create(request=asked, user=carol, status="ready", file_name=EXPORT, ready_at=now(),
                              expires_at=now() + timedelta(days=7))
    (settings.PRIVATE_FILES_DIR / "exports").mkdir(parents=True, exist_ok=True)
    (settings.PRIVATE_FILES_DIR / "exports" / EXPORT).write_bytes(b"carol's export, encrypted (synthetic)")
    dave = make_user("dave", numbers=[DAVE["number"]], email=DAVE["email"])
    dave_invoice = make_invoice(account=dave, period=month_start(billed_at), status="paid", window_ends=window_closed)
    dave_call = make_cdr(account=dave, src=DAVE["number"], dst=OTHER, started_at=billed_at, invoice=dave_invoice)
    return SimpleNamespace(carol=carol, dave=dave, invoices=[invoice, dave_invoice], held=held,
                           calls=[*calls, held, dave_call], dave_call=dave_call)


def spec(world: SimpleNamespace, requests: list) -> dict:
    return {"accounts": [world.carol.pk, world.dave.pk], "requests": [r.pk for r in requests],
            "invoices": [i.pk for i in world.invoices], "cdrs": [c.pk for c in world.calls]}


def restored_report(url: str, action: str, what: dict, *extra: str) -> dict:
    done = in_restored(url, "-m", "tests.retention.erasure_child", action, json.dumps(what), *extra)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def restore(url: str, folder, places) -> str:
    done = in_restored(url, "manage.py", "backup_restore", "--from", str(folder), "--keys", str(places.keys),
                       "--private-dir", str(places.restored_private))
    assert done.returncode == 0, done.stderr
    return done.stdout


def without_usernames(state: dict) -> dict:
    """An erased account's login name is made up anew by each erasure ("erased-" and random hex)."""
    assert all(a["username"].startswith("erased-") for a in state["accounts"].values())
    return {**state, "accounts": {k: {**a, "username": "erased-"} for k, a in state["accounts"].items()}}


@pytest.mark.real_clock("the restore replays the erasures in a process of its own, at the real time; what an erasure "
                        "keeps depends on the time, so the test's and the restore's must agree")
@pytest.mark.django_db(transaction=True)
class ErasureAfterBackupTests:
    def test_a_restore_of_a_backup_taken_before_an_erasure_erases_the_accounts_again(self, committed, places,
                                                                                    restored_url):
        world = customers()
        folder = take_backup(places)
        requests = [dsr_request_create(user=u, kind=ERASURE, password=PASSWORD) for u in (world.carol, world.dave)]
        erased = snapshot(spec(world, requests))  # as the erasures left this database

        # The key backup was taken again once each erasure committed: it lists them, by ids and times only.
        text = key_file_text(places.keys)
        assert [e for e in json.loads(text)["erasures"] if e["account"] in (world.carol.pk, world.dave.pk)] == [
            {"request": r.pk, "account": r.user_id, "account_created": r.user.date_joined.isoformat(),
             "received_at": r.received_at.isoformat(), "erased_at": r.completed_at.isoformat()} for r in requests]
        for personal in (*PERSONAL, CAROL["number"][1:], DAVE["number"][1:]):
            assert personal not in text, personal
            assert personal.encode() not in places.keys.read_bytes(), personal

        assert not (places.private / "exports" / EXPORT).exists()  # the erasure deleted her export
        assert "erasures: 2 replayed" in restore(restored_url, folder, places)
        # The backup's private files are back, but her export, which came back with them, is deleted again.
        assert (places.restored_private / "imports" / "upload-1").exists()
        assert not (places.restored_private / "exports" / EXPORT).exists()

        report = restored_report(restored_url, "read", spec(world, requests))
        # Their personal data came back with the dump and is gone again, as the erasures left it: carol's name,
        # address, e-mail and login; dave's number and his call, which nothing keeps ...
        restored = {k: report[k] for k in ("accounts", "invoices", "cdrs")}
        assert without_usernames(restored) == without_usernames({k: erased[k] for k in restored})
        carol, dave = (report["accounts"][str(u.pk)] for u in (world.carol, world.dave))
        assert carol["email"] is None and carol["subscriber_details"] == 0 and carol["anonymised"]
        assert dave["email"] is None and dave["numbers"] == 0 and not dave["active"]
        assert report["cdrs"][str(world.dave_call.pk)]["row"] is False
        # ... while what the law keeps is kept, restricted: the invoices (tax rule) and carol's held call.
        assert all(i == {"row": True, "restricted": True} for i in report["invoices"].values())
        assert report["cdrs"][str(world.held.pk)] == {"row": True, "restricted": True}
        assert carol["numbers"] == 1  # the held number's period stays: it is what the hold is about
        # Each request's record as it was: received and answered then, once; its answer is not in the backup and
        # is not written again; the outcome is what the replay keeps now, and says it was a replay.
        for r in requests:
            assert report["requests"][str(r.pk)] == {
                **erased["requests"][str(r.pk)], "answer": "",
                "replayed": {"backup": folder.name, "at": report["requests"][str(r.pk)]["replayed"]["at"]}}
            assert erased["requests"][str(r.pk)]["answer"]  # the answer the person was given, not restored
        # Each replay is audited as one, by the system, for the erasure's legal purpose; ids and counts only.
        replays = [e for e in report["entries"] if e["action"] == "dsr.erase_replayed"]
        assert [(e["target_id"], e["extra"]["request"], e["extra"]["erased_at"]) for e in replays] == [
            (crypto.pseudonym("user", r.user_id), r.pk, r.completed_at.isoformat()) for r in requests]
        assert {(e["actor"], e["purpose"], e["extra"]["backup"]) for e in replays} == {
            ("system:erasure_replay", "legal_obligation", folder.name)}
        [restore_entry] = [e for e in report["entries"] if e["action"] == "backup.restore"]
        assert restore_entry["extra"]["erasures_replayed"] == 2
        assert not any(p in json.dumps(report["entries"]) for p in PERSONAL)

        # Replayed again (a second restore, a replay of an account erased already): nothing changes.
        again = restored_report(restored_url, "again", spec(world, requests), str(places.keys))
        assert again.pop("again") == {"replayed": 0, "listed": len(json.loads(text)["erasures"])}
        assert again == report

    def test_an_erasure_whose_retake_of_the_key_backup_never_ran_is_replayed_once_the_next_backup_took_it(
            self, committed, places, restored_url, monkeypatch):
        """The crash window: the erasure committed, the process died before the key backup was taken again. The
        file misses the erasure until its next write, which is made from the database: the next backup (or any
        erasure, month-key change, `backup_create --keys-only`). A restore in between would not replay it."""
        world = customers()
        folder = take_backup(places)
        with monkeypatch.context() as crash:
            crash.setattr(keyfile, "_retake", lambda: None)  # the process dies right after the commit
            request = dsr_request_create(user=world.dave, kind=ERASURE, password=PASSWORD)
        assert world.dave.pk not in [e["account"] for e in keyfile.month_keys_read(places.keys)["erasures"]]

        call_command("backup_create", out=places.out / "next", keys=places.keys, stdout=StringIO())
        assert world.dave.pk in [e["account"] for e in keyfile.month_keys_read(places.keys)["erasures"]]

        assert "erasures: 1 replayed" in restore(restored_url, folder, places)  # the backup from BEFORE the erasure
        report = restored_report(restored_url, "read", spec(world, [request]))
        assert report["accounts"][str(world.dave.pk)]["email"] is None
        assert report["cdrs"][str(world.dave_call.pk)]["row"] is False
        assert report["accounts"][str(world.carol.pk)]["email"] == CAROL["email"]  # not erased: left as it was

    def test_an_erasure_stays_listed_after_a_restore_without_its_account_and_a_later_restore_still_replays_it(
            self, committed, places, restored_url, second_restored_url):
        """The list is not only the database's: a backup from before the account existed (A) is restored, so the
        restored database has neither the account nor its erasure, and the key file is taken again there (its
        first backup, --replace-keys). A restore after that of a backup that holds the account, taken before the
        erasure (B), must still erase it again: the retake kept the file's entry."""
        backup_a = take_backup(places, out=places.out / "a")
        erin = make_user("erin", numbers=[DAVE["number"]], email=DAVE["email"])
        backup_b = take_backup(places, out=places.out / "b")
        request = dsr_request_create(user=erin, kind=ERASURE, password=PASSWORD)
        listed = {"request": request.pk, "account": erin.pk, "account_created": erin.date_joined.isoformat(),
                  "received_at": request.received_at.isoformat(), "erased_at": request.completed_at.isoformat()}
        assert keyfile.month_keys_read(places.keys)["erasures"] == [listed]

        assert "erasures: 0 replayed (of 1" in restore(restored_url, backup_a, places)
        retake = in_restored(restored_url, "manage.py", "backup_create", "--keys-only", "--replace-keys",
                             "--keys", str(places.keys))
        assert retake.returncode == 0, retake.stderr
        assert "1 erasures" in retake.stdout
        assert keyfile.month_keys_read(places.keys)["erasures"] == [listed]  # kept, though that database lacks it

        places.restored_private = places.restored_private.with_name("restored-private-2")
        assert "erasures: 1 replayed" in restore(second_restored_url, backup_b, places)
        report = restored_report(second_restored_url, "read", {"accounts": [erin.pk], "requests": [request.pk],
                                                               "invoices": [], "cdrs": []})
        assert report["accounts"][str(erin.pk)]["email"] is None and report["accounts"][str(erin.pk)]["numbers"] == 0
        assert report["requests"][str(request.pk)]["replayed"]["backup"] == backup_b.name


@pytest.mark.django_db
class ErasureReplayTests:
    def test_an_account_under_the_same_id_but_made_later_is_never_erased(self, places):
        """Ids are handed out again after a restore: a listed erasure is replayed only on the account it was of."""
        dave = make_user("dave", numbers=[DAVE["number"]], email="dave@example.org")
        erased = dsr_erasure_replay(account_id=dave.pk, account_created=dave.date_joined - timedelta(days=3),
                                    request_id=999, received_at=now(), erased_at=now(), backup="b")
        assert erased is False
        dave = User.objects.get(pk=dave.pk)
        assert dave.email == "dave@example.org" and dave.anonymised_at is None and dave.is_active
        assert not DataSubjectRequest.objects.filter(pk=999).exists()

    def test_the_dpo_sees_the_request_was_erased_again_and_that_its_answer_is_not_in_the_backup(self, client, dpo,
                                                                                                places):
        erin = make_user("erin", email="erin@example.org")
        received = now() - timedelta(days=2)
        assert dsr_erasure_replay(account_id=erin.pk, account_created=erin.date_joined, request_id=4242,
                                  received_at=received, erased_at=received, backup="voipxs-20261205T020000Z")
        page = verified_client(client, dpo).get("/privacy-requests/dpo/4242/").content.decode()
        assert "Erased again after a restore" in page and "voipxs-20261205T020000Z" in page
        assert "is not in that backup" in page and ">Answer<" not in page

    def test_a_replayed_request_takes_its_own_number_and_the_next_request_comes_after_it(self, places):
        erin = make_user("erin", email="erin@example.org")
        first = DataSubjectRequest.objects.create(user=erin, kind="access", deadline=now()).pk
        assert dsr_erasure_replay(account_id=erin.pk, account_created=erin.date_joined, request_id=first + 50,
                                  received_at=now(), erased_at=now(), backup="b") is True
        assert [r["request"] for r in erasure_records()] == [first + 50]
        assert DataSubjectRequest.objects.create(user=make_user("frank"), kind="access", deadline=now()).pk > first + 50

    def test_a_key_file_from_before_erasures_were_listed_still_restores_and_replays_none(self, places):
        keyfile.month_keys_take(path=places.keys)
        data = keyfile.month_keys_read(places.keys)
        data.pop("erasures")
        data["format"] = 1
        places.keys.write_bytes(keyfile.MAGIC + crypto.encrypt_bytes(json.dumps(data).encode(), aad=keyfile._AAD))
        old = keyfile.month_keys_read(places.keys)
        assert keyfile.counts(old)["erasures"] is None
        assert erasures_replay(old.get("erasures"), backup="b") == {"replayed": 0, "listed": None}

    def test_the_file_is_taken_inside_the_lock_the_restore_holds_without_waiting_for_itself(self, places):
        def stuck(*_):
            raise TimeoutError("the key backup's lock waited for its own holder")

        previous = signal.signal(signal.SIGALRM, stuck)
        signal.alarm(10)
        try:
            with owned_file.locked(places.keys):
                assert keyfile.month_keys_take(path=places.keys)["erasures"] == 0
        finally:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, previous)
