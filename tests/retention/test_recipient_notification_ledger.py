"""GDPR art. 19 across a restore, in one process: the DPO's record of having told a recipient (a RecipientNotification
marked notified) is listed in the key backup, ids, times and the staff member's id only, and taken again once the
record commits; a restore marks the row again from that list (retention/backup/notifications.py), and leaves a row
already marked, or one of another request under the same number, as it is. test_erasure_restore_recipients.py does
the same through a real backup and restore."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils.timezone import localdate

from accounts.dsr.models import DataSubjectRequest, RecipientNotification
from accounts.dsr.recipients import recipient_notification_record
from accounts.dsr.services import dsr_request_complete, dsr_request_create
from retention.backup import keyfile
from retention.backup.notifications import (
    recipient_notification_records, recipient_notification_records_merged, recipient_notifications_replay,
)
from tests.accounts.dsr_helpers import delivered_disclosure
from tests.retention.test_erasure_restore import key_file_text
from voipxs.privacy.models import AuditEntry

pytestmark = pytest.mark.django_db
Kind = DataSubjectRequest.Kind
YESTERDAY = localdate() - timedelta(days=1)


@pytest.fixture
def told(alice, legal1, dpo, places, django_capture_on_commit_callbacks) -> RecipientNotification:
    """alice's restriction, carried out two days ago with one recipient; the DPO recorded yesterday that it was told
    by letter, after the key backup was first taken (the retake once that commits lists it)."""
    delivered_disclosure(user=alice, officer=legal1, reference="TOLD-1", secrecy_days=None)
    req = dsr_request_create(user=alice, kind=Kind.RESTRICTION, details="Only keep my data.")
    req = dsr_request_complete(request=req, answer="Restricted.", actor=dpo, ground="legal_claims")
    DataSubjectRequest.objects.filter(pk=req.pk).update(completed_at=req.completed_at - timedelta(days=2))
    keyfile.month_keys_take(path=places.keys)
    notification = RecipientNotification.objects.get(request=req)
    with django_capture_on_commit_callbacks(execute=True):
        return recipient_notification_record(notification=notification, notified_on=YESTERDAY, how="letter",
                                             actor=dpo)


def _lost_with_the_restore(notification: RecipientNotification) -> None:
    RecipientNotification.objects.filter(pk=notification.pk).update(notified_on=None, how="", recorded_by=None)


def _under_a_new_number(notification: RecipientNotification) -> DataSubjectRequest:
    """As a restore leaves it when the request was made again under a new number: the same person's request, received
    at the same moment, holds the row; its old number is another request's (received at another time)."""
    old = notification.request
    again = DataSubjectRequest.objects.create(user=old.user, kind=old.kind, status=old.status,
                                              received_at=old.received_at, deadline=old.deadline,
                                              completed_at=old.completed_at)
    RecipientNotification.objects.filter(pk=notification.pk).update(request=again)
    DataSubjectRequest.objects.filter(pk=old.pk).update(received_at=old.received_at - timedelta(days=400))
    return again


def _state(notification: RecipientNotification) -> tuple:
    notification.refresh_from_db()
    return notification.notified_on, notification.how, notification.recorded_by_id


class RecipientNotificationLedgerTests:
    def test_the_key_backup_lists_the_record_by_ids_and_times_once_it_commits(self, told, alice, dpo, places):
        req = told.request
        assert keyfile.month_keys_read(places.keys)["recipient_notifications"] == [{
            "request": req.pk, "request_received": req.received_at.isoformat(), "account": alice.pk,
            "account_created": alice.date_joined.isoformat(), "recipient_key": told.recipient_key,
            "notified_on": YESTERDAY.isoformat(), "how": "letter", "recorded_by": dpo.pk,
            "recorded_by_joined": dpo.date_joined.isoformat()}]
        text = key_file_text(places.keys)
        for personal in (told.recipient, alice.email, alice.username, dpo.username, dpo.email):
            assert personal not in text, personal

    def test_a_restore_marks_the_row_again_with_its_day_way_and_staff_member(self, told, dpo):
        records = recipient_notification_records()
        _lost_with_the_restore(told)
        assert recipient_notifications_replay(records, backup="backup-test") == {"replayed": 1, "listed": 1}
        assert _state(told) == (YESTERDAY, "letter", dpo.pk)
        entry = AuditEntry.objects.get(action="dsr.recipient_notified_replayed")
        assert (entry.actor, entry.purpose, entry.target_id) == (
            "system:recipient_notification_replay", "legal_obligation", str(told.request_id))
        assert entry.extra == {"notification": told.pk, "how": "letter", "recorded_by": dpo.pk,
                               "backup": "backup-test"}

    def test_a_row_already_marked_stays_as_it_was_and_a_second_replay_changes_nothing(self, told, dpo):
        records = recipient_notification_records()
        RecipientNotification.objects.filter(pk=told.pk).update(notified_on=localdate(), how="phone")
        assert recipient_notifications_replay(records, backup="backup-test") == {"replayed": 0, "listed": 1}
        assert _state(told) == (localdate(), "phone", dpo.pk)
        _lost_with_the_restore(told)
        recipient_notifications_replay(records, backup="backup-test")
        assert recipient_notifications_replay(records, backup="again") == {"replayed": 0, "listed": 1}
        assert AuditEntry.objects.filter(action="dsr.recipient_notified_replayed").count() == 1

    def test_another_request_under_the_same_number_is_left_alone(self, told):
        records = recipient_notification_records()
        _lost_with_the_restore(told)
        DataSubjectRequest.objects.filter(pk=told.request_id).update(
            received_at=told.request.received_at - timedelta(days=400))  # numbers handed out again after a restore
        assert recipient_notifications_replay(records, backup="backup-test")["replayed"] == 0
        assert _state(told) == (None, "", None)

    def test_a_request_made_again_under_a_new_number_is_found_by_its_person_and_time(self, told, dpo):
        """An erasure replayed after a restore under a new number (its own was taken, erasures.py) keeps its person
        and the time it was received: its recipients told since the backup are marked again, not asked again."""
        records = recipient_notification_records()
        _lost_with_the_restore(told)
        again = _under_a_new_number(told)
        assert recipient_notifications_replay(records, backup="backup-test")["replayed"] == 1
        assert _state(told) == (YESTERDAY, "letter", dpo.pk)
        assert AuditEntry.objects.get(action="dsr.recipient_notified_replayed").target_id == str(again.pk)
        # The file keeps one record of it: the one under the old number goes once this database has the new one.
        assert [r["request"] for r in recipient_notification_records_merged(records)] == [again.pk]

    def test_a_record_of_an_older_file_naming_no_person_is_matched_by_number_only(self, told):
        records = [{k: v for k, v in r.items() if k not in ("account", "account_created")}
                   for r in recipient_notification_records()]
        _lost_with_the_restore(told)
        _under_a_new_number(told)
        assert recipient_notifications_replay(records, backup="backup-test")["replayed"] == 0
        assert _state(told) == (None, "", None)

    def test_another_persons_request_received_at_the_same_moment_is_left_alone(self, told, bob):
        records = recipient_notification_records()
        _lost_with_the_restore(told)
        again = _under_a_new_number(told)
        DataSubjectRequest.objects.filter(pk=again.pk).update(user=bob)
        assert recipient_notifications_replay(records, backup="backup-test")["replayed"] == 0

    def test_a_staff_member_not_in_the_restored_database_is_not_guessed(self, told, dpo):
        records = [{**r, "recorded_by_joined": (dpo.date_joined - timedelta(days=1)).isoformat()}
                   for r in recipient_notification_records()]  # another account under the same id
        _lost_with_the_restore(told)
        recipient_notifications_replay(records, backup="backup-test")
        assert _state(told) == (YESTERDAY, "letter", None)  # who it was stays in the replay's audit entry
        assert AuditEntry.objects.get(action="dsr.recipient_notified_replayed").extra["recorded_by"] == dpo.pk

    def test_a_key_file_without_the_list_replays_none(self, told):
        _lost_with_the_restore(told)
        assert recipient_notifications_replay(None, backup="backup-test") == {"replayed": 0, "listed": None}
        assert _state(told) == (None, "", None)

    def test_a_retake_keeps_the_records_the_file_listed_that_this_database_lacks(self, told, places):
        listed = keyfile.month_keys_read(places.keys)["recipient_notifications"]
        gone = {**listed[0], "request": 99999, "recipient_key": "disclosure:99999"}
        assert recipient_notification_records_merged([gone, *listed]) == sorted(
            [gone, *listed], key=lambda r: (r["notified_on"], r["request"], r["recipient_key"]))
        _lost_with_the_restore(told)  # this database lost it: the file's record stays
        assert recipient_notification_records_merged(listed) == listed
        assert json.loads(key_file_text(places.keys))["format"] == keyfile.FORMAT
