"""The retention page's warning that the key backup's lists are behind covers the recipients told (GDPR art. 19)
too: since format 3 the same file lists them, and a restore of a backup now would list as not yet told every one
the file lacks (retention/backup/keyfile.py `erasure_list_lag`). A record carries only the day told, which may be
dated back, so the page compares what the file lists, not times."""
from __future__ import annotations

import pytest
from django.utils.timezone import localdate

from accounts.dsr.models import DataSubjectRequest, RecipientNotification
from accounts.dsr.recipients import recipient_notification_record
from accounts.dsr.services import dsr_request_complete, dsr_request_create
from retention.backup import keyfile
from retention.tasks import backup_keys_retake_task
from tests.accounts.dsr_helpers import delivered_disclosure
from tests.factories import verified_client

pytestmark = pytest.mark.django_db
ALERT = 'id="erasure-list"'
RECIPIENTS = "It does not list 1 recipient recorded as told (GDPR art. 19)"


def _told_without_retake(alice, legal1, dpo, monkeypatch, *, file_first: bool = True) -> RecipientNotification:
    """alice's restriction with one recipient, recorded as told; the key backup's retake after that commit never
    ran (the process died). With `file_first` the file was taken before the record."""
    delivered_disclosure(user=alice, officer=legal1, reference="LAG-1", secrecy_days=None)
    req = dsr_request_create(user=alice, kind=DataSubjectRequest.Kind.RESTRICTION, details="Only keep my data.")
    req = dsr_request_complete(request=req, answer="Restricted.", actor=dpo, ground="legal_claims")
    if file_first:
        keyfile.month_keys_take(path=keyfile.keys_path())
    monkeypatch.setattr(keyfile, "_retake", lambda: None)
    return recipient_notification_record(notification=RecipientNotification.objects.get(request=req),
                                         notified_on=localdate(), how="letter", actor=dpo)


def _dashboard(client, dpo, language: str = "en") -> str:
    client.cookies["django_language"] = language
    page = verified_client(client, dpo).get("/retention/")
    assert page.status_code == 200
    return page.content.decode()


class ErasureListRecipientsTests:
    def test_a_recipient_told_after_the_file_was_written_is_warned_of_until_it_is(self, places, client, dpo, alice,
                                                                                  legal1, monkeypatch):
        assert ALERT not in _dashboard(client, dpo)
        _told_without_retake(alice, legal1, dpo, monkeypatch)
        taken = keyfile.month_keys_read(keyfile.keys_path())["taken_at"]
        lag = keyfile.erasure_list_lag()
        assert lag.written_at.isoformat() == taken and lag.last_erasure_at is None and lag.recipients_unlisted == 1
        page = _dashboard(client, dpo)
        assert ALERT in page and "Erasure list not written since" in page and RECIPIENTS in page
        assert "though the last erasure" not in page and "backup_create --keys-only" in page

        assert backup_keys_retake_task()["recipient_notifications"] == 1
        assert keyfile.erasure_list_lag() is None and ALERT not in _dashboard(client, dpo)

    def test_with_no_key_backup_at_all_the_recipients_told_are_warned_of(self, places, client, dpo, alice, legal1,
                                                                         monkeypatch):
        _told_without_retake(alice, legal1, dpo, monkeypatch, file_first=False)
        page = _dashboard(client, dpo)
        assert "Erasure list not written: there is no readable month-key backup." in page and RECIPIENTS in page

    def test_a_record_the_file_lists_gives_no_warning(self, places, client, dpo, alice, legal1, monkeypatch):
        _told_without_retake(alice, legal1, dpo, monkeypatch)
        keyfile.month_keys_take(path=keyfile.keys_path())
        assert keyfile.erasure_list_lag() is None

    def test_the_warning_is_in_dutch(self, places, client, dpo, alice, legal1, monkeypatch):
        _told_without_retake(alice, legal1, dpo, monkeypatch)
        page = _dashboard(client, dpo, "nl")
        assert ALERT in page and "recorded as told" not in page and "not written since" not in page
        assert "als ingelicht is vastgelegd (AVG art. 19)" in page
