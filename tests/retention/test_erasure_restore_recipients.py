"""GDPR art. 19 across a restore: a backup taken before an erasure holds neither the erasure nor the recipients
listed for it (the bodies the person's data was disclosed to, for the DPO to tell). `backup_restore` replays the
erasure (retention/backup/erasures.py) and the replay lists them again, so the restored database asks the DPO to
tell the same recipients as the database the erasure was done in (tests/test_erasure_restore.py has the rest). The
DPO's records of having told them, made after the backup, are listed in the key backup too and marked again."""
from __future__ import annotations

import pytest
from django.utils.timezone import localdate

from accounts.dsr.models import DataSubjectRequest, RecipientNotification
from accounts.dsr.recipients import recipient_notification_record
from accounts.dsr.services import dsr_request_complete, dsr_request_create
from tests.accounts.dsr_helpers import delivered_disclosure
from tests.factories import PASSWORD, make_user
from tests.retention.backup_helpers import take_backup
from tests.retention.erasure_child import snapshot
from tests.retention.test_erasure_restore import key_file_text, restore, restored_report

ERASURE, RESTRICTION = DataSubjectRequest.Kind.ERASURE, DataSubjectRequest.Kind.RESTRICTION


@pytest.mark.django_db(transaction=True)
def test_a_replayed_erasure_lists_the_recipients_to_tell_again(committed, places, restored_url, legal1):
    carol = make_user("carol", email="carol.recipients@example.org")
    told = delivered_disclosure(user=carol, officer=legal1, reference="TOLD-R1", secrecy_days=None)
    folder = take_backup(places)  # before the erasure: it has the disclosure, not the erasure
    erasure = dsr_request_create(user=carol, kind=ERASURE, password=PASSWORD)
    what = {"accounts": [carol.pk], "requests": [erasure.pk], "invoices": [], "cdrs": []}
    erased = snapshot(what)["requests"][str(erasure.pk)]["recipients"]
    assert erased == [[f"disclosure:{told.pk}", "Politie Eenheid Test", False]]

    assert "erasures: 1 replayed" in restore(restored_url, folder, places)
    report = restored_report(restored_url, "read", what)
    assert report["requests"][str(erasure.pk)]["recipients"] == erased


@pytest.mark.django_db(transaction=True)
def test_the_dpos_records_of_recipients_told_after_the_backup_survive_the_restore(committed, places, restored_url,
                                                                                  legal1, dpo):
    """The DPO told the recipients after the backup was taken, of an erasure done after it (replayed) and of a
    restriction carried out before it (in the dump, unmarked): the restored database has both marked as recorded,
    the day, the way and who, and does not ask the DPO to tell them again."""
    carol, dave = make_user("carol", email="carol.told@example.org"), make_user("dave", email="dave.told@example.org")
    for user, reference in ((carol, "TOLD-R2"), (dave, "TOLD-R3")):
        delivered_disclosure(user=user, officer=legal1, reference=reference, secrecy_days=None)
    restriction = dsr_request_create(user=dave, kind=RESTRICTION, details="Only keep my data.")
    restriction = dsr_request_complete(request=restriction, answer="Restricted.", actor=dpo, ground="legal_claims")
    folder = take_backup(places)
    erasure = dsr_request_create(user=carol, kind=ERASURE, password=PASSWORD)
    for req, how in ((erasure, "letter"), (restriction, "email")):
        recipient_notification_record(notification=RecipientNotification.objects.get(request=req),
                                      notified_on=localdate(), how=how, actor=dpo)
    what = {"accounts": [carol.pk, dave.pk], "requests": [erasure.pk, restriction.pk], "invoices": [], "cdrs": []}
    told = {r: snapshot(what)["requests"][str(r)]["notified"] for r in (erasure.pk, restriction.pk)}
    assert [[n[1:] for n in notified] for notified in told.values()] == [[[localdate().isoformat(), "letter", dpo.pk]],
                                                                         [[localdate().isoformat(), "email", dpo.pk]]]
    text = key_file_text(places.keys)
    assert not any(p in text for p in ("Politie", "carol", "dave", dpo.username, dpo.email))

    said = restore(restored_url, folder, places)
    assert "erasures: 1 replayed" in said and "recipient notifications: 2 marked again as told" in said
    report = restored_report(restored_url, "read", what)
    assert {r: report["requests"][str(r)]["notified"] for r in told} == told
    replays = [e for e in report["entries"] if e["action"] == "dsr.recipient_notified_replayed"]
    assert sorted((int(e["target_id"]), e["extra"]["recorded_by"], e["actor"]) for e in replays) == sorted(
        (r, dpo.pk, "system:recipient_notification_replay") for r in told)
    [restore_entry] = [e for e in report["entries"] if e["action"] == "backup.restore"]
    assert restore_entry["extra"]["recipient_notifications_replayed"] == 2
