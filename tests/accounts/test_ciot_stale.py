"""A CIOT sync that stopped (no successful run for longer than its hourly schedule allows, whether the runs fail, hang
or never start) is alerted: the DPOs and administrators are e-mailed once per last successful run, audited with ids
and times only; a run that succeeds again re-arms the check."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import translation
from django.utils.timezone import now

from accounts.ciot.models import CiotSyncRun
from accounts.ciot.services import CIOT_STALE_AFTER, ciot_sync_stale_check
from accounts.tasks import ciot_sync_stale_check_task
from voipxs.beat import SCHEDULE
from voipxs.models import AuditEntry
from voipxs.privacy.purposes import Purpose

pytestmark = pytest.mark.django_db


def _done(*, ago: timedelta) -> CiotSyncRun:
    moment = now() - ago
    return CiotSyncRun.objects.create(adapter="csv-file", status=CiotSyncRun.Status.DONE, started_at=moment,
                                      finished_at=moment)


def test_a_recent_successful_run_raises_nothing(dpo, admin_user):
    _done(ago=CIOT_STALE_AFTER - timedelta(minutes=5))
    assert ciot_sync_stale_check() == 0 and mail.outbox == []


def test_no_success_for_longer_than_the_schedule_alerts_the_dpo_and_admins_once(dpo, admin_user):
    last = _done(ago=CIOT_STALE_AFTER + timedelta(minutes=5))
    CiotSyncRun.objects.create(adapter="csv-file", status=CiotSyncRun.Status.FAILED, error="OSError: x")
    assert ciot_sync_stale_check() == 2
    assert {tuple(m.to) for m in mail.outbox} == {("dpo@example.org",), ("admin@example.org",)}
    assert all("CIOT" in m.subject and "has not succeeded" in m.body for m in mail.outbox)
    entry = AuditEntry.objects.get(action="ciot.sync_stale")
    assert entry.purpose == Purpose.CIOT and entry.target_id == str(last.pk)
    assert set(entry.extra) == {"last_done", "recipients"}
    assert ciot_sync_stale_check() == 0 and len(mail.outbox) == 2  # once
    assert AuditEntry.objects.filter(action="ciot.sync_stale").count() == 1


def test_a_new_success_re_arms_it(dpo):
    _done(ago=timedelta(days=2))
    assert ciot_sync_stale_check() == 1
    _done(ago=CIOT_STALE_AFTER + timedelta(minutes=1))  # succeeded again, then stopped again
    assert ciot_sync_stale_check() == 1 and len(mail.outbox) == 2


def test_an_alert_no_one_could_be_sent_is_tried_again(admin_user):
    admin_user.email = None
    admin_user.save(update_fields=["email"])
    _done(ago=timedelta(days=1))
    assert ciot_sync_stale_check() == 0
    assert not AuditEntry.objects.filter(action="ciot.sync_stale").exists()  # not marked as alerted


def test_never_having_run_is_alerted_too(dpo):
    CiotSyncRun.objects.create(adapter="csv-file", status=CiotSyncRun.Status.FAILED, error="OSError: x",
                               started_at=now() - CIOT_STALE_AFTER - timedelta(minutes=1))
    assert ciot_sync_stale_check() == 1


def test_beat_runs_the_check_hourly(dpo):
    assert SCHEDULE["ciot-sync-stale"]["task"] == "accounts.tasks.ciot_sync_stale_check_task"
    _done(ago=timedelta(days=1))
    assert ciot_sync_stale_check_task() == {"alerted": 1}


def test_the_alert_is_in_dutch_for_a_dutch_dpo(dpo):
    dpo.language = "nl"
    dpo.save(update_fields=["language"])
    _done(ago=timedelta(days=1))
    ciot_sync_stale_check()
    with translation.override("nl"):
        assert "has not succeeded" not in mail.outbox[0].body
