"""The key backup's list of erasures lags a day at most, and a lag is seen (retention/backup/keyfile.py).

The file is taken again once an erasure commits; if that retake fails (the process died, the disk was full)
it is only logged. So beat takes it again every day (retention.tasks.backup_keys_retake_task, what
`backup_create --keys-only` does), and the DPO's retention page says since when the erasure list has not been
written while an erasure is newer than the file.
"""
from __future__ import annotations

import json
import time

import pytest
from django.conf import settings

from accounts.dsr.models import DataSubjectRequest
from accounts.dsr.services import dsr_request_create
from retention.backup import keyfile
from retention.tasks import backup_keys_retake_task
from tests.factories import PASSWORD, make_user, verified_client

NOTICE = "Erasure list not written since"
PAGE = "/retention/"


def _listed() -> list[int]:
    return [e["account"] for e in keyfile.month_keys_read(keyfile.keys_path())["erasures"]]


def _erased_without_retake(monkeypatch) -> DataSubjectRequest:
    """An erasure whose retake of the key backup after its commit never ran (the process died)."""
    keyfile.month_keys_take(path=keyfile.keys_path())
    erin = make_user("erin", numbers=["+31205550179"], email="erin.retake@example.org")
    with monkeypatch.context() as crash:
        crash.setattr(keyfile, "_retake", lambda: None)
        request = dsr_request_create(user=erin, kind=DataSubjectRequest.Kind.ERASURE, password=PASSWORD)
    assert erin.pk not in _listed()
    return request


def _dashboard(client, dpo) -> str:
    page = verified_client(client, dpo).get(PAGE)
    assert page.status_code == 200
    return page.content.decode()


@pytest.mark.django_db
class BackupKeysRetakeTaskTests:
    def test_it_is_scheduled_daily(self):
        entry = settings.CELERY_BEAT_SCHEDULE["backup-keys-retake"]
        assert entry["task"] == backup_keys_retake_task.name == "retention.tasks.backup_keys_retake_task"
        assert entry["schedule"].hour == {4} and entry["schedule"].minute == {15}

    def test_the_dpo_sees_since_when_the_erasure_list_was_not_written_until_it_is(self, places, client, dpo,
                                                                                  monkeypatch):
        assert NOTICE not in _dashboard(client, dpo)
        request = _erased_without_retake(monkeypatch)
        taken = keyfile.month_keys_read(keyfile.keys_path())["taken_at"]
        page = _dashboard(client, dpo)
        assert NOTICE in page and 'id="erasure-list"' in page and "backup_create --keys-only" in page
        assert keyfile.erasure_list_lag().written_at.isoformat() == taken
        assert keyfile.erasure_list_lag().last_erasure_at == request.completed_at

        result = backup_keys_retake_task()
        assert result == {"written": True, "live": 0, "destroyed": 0, "erasures": 1, "recipient_notifications": 0}
        assert json.dumps(result) and request.user_id in _listed()
        assert NOTICE not in _dashboard(client, dpo) and keyfile.erasure_list_lag() is None

    def test_the_dpo_is_told_when_there_is_no_key_backup_at_all_after_an_erasure(self, places, client, dpo):
        erin = make_user("erin", email="erin.nofile@example.org")
        dsr_request_create(user=erin, kind=DataSubjectRequest.Kind.ERASURE, password=PASSWORD)
        assert not keyfile.keys_path().exists()  # nothing retakes a file that was never taken
        assert "Erasure list not written: there is no readable month-key backup" in _dashboard(client, dpo)
        assert backup_keys_retake_task()["written"] is True
        assert "Erasure list not written" not in _dashboard(client, dpo)

    def test_it_leaves_another_databases_key_backup_alone(self, places, monkeypatch, caplog):
        keyfile.month_keys_take(path=keyfile.keys_path())
        before = keyfile.keys_path().read_bytes()
        monkeypatch.setattr(keyfile, "database_identity", lambda: "postgresql:another")
        assert backup_keys_retake_task() == {"written": False}
        assert keyfile.keys_path().read_bytes() == before
        assert "daily retake of the key backup was refused" in caplog.text

    def test_an_unreadable_key_backup_is_set_aside_with_its_erasures_never_overwritten(self, places, monkeypatch,
                                                                                        caplog, client, dpo):
        request = _erased_without_retake(monkeypatch)
        keyfile.month_keys_take(path=keyfile.keys_path())
        path = keyfile.keys_path()
        damaged = bytearray(path.read_bytes())
        damaged[-5] ^= 0xFF  # a damaged disk; a master key dropped too early reads the same: it does not decrypt
        path.write_bytes(bytes(damaged))

        keyfile._retake()  # the retake after a commit writes only over a file it knows to be this database's
        assert path.read_bytes() == bytes(damaged)

        assert backup_keys_retake_task()["written"] is True
        assert request.user_id in _listed()  # a fresh, readable file
        aside = list(path.parent.glob(path.name + ".unreadable-*"))
        assert len(aside) == 1 and aside[0].read_bytes() == bytes(damaged)  # kept whole, for the old key
        assert f"set aside as {aside[0]}" in caplog.text
        page = _dashboard(client, dpo)  # the people who answer for the erasures see it, not only a log
        assert 'id="keys-set-aside-1"' in page and f"was set aside as {aside[0].name} on" in page


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
class BackupKeysRetakeWorkerTests:
    def test_a_real_worker_on_redis_catches_up_an_erasure_the_key_backup_missed(self, committed, places,
                                                                               monkeypatch, real_worker):
        request = _erased_without_retake(monkeypatch)
        assert backup_keys_retake_task.delay().id
        deadline = time.monotonic() + 30
        while request.user_id not in _listed() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert request.user_id in _listed()
        assert keyfile.erasure_list_lag() is None
