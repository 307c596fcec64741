"""What the DPO and the administrators see on their home page without Celery beat (whose alert mails stop with it):
a CIOT sync stopped for over two hours, periodic jobs that stopped, and mail owed to people and not delivered."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils.timezone import now

from accounts.ciot.models import CiotSyncRun
from accounts.models import User
from voipxs.ops import beat_heartbeat_record
from tests.factories import make_user, verified_client
from voipxs.tasks import beat_heartbeat

pytestmark = pytest.mark.django_db
CIOT_STALE = "The CIOT subscriber file sync has not succeeded since"


def _done(*, ago: timedelta) -> CiotSyncRun:
    moment = now() - ago
    return CiotSyncRun.objects.create(adapter="csv-file", status=CiotSyncRun.Status.DONE, started_at=moment,
                                      finished_at=moment)


def _home(client, user) -> str:
    return verified_client(client, user).get("/").content.decode()


class CiotBannerTests:
    def test_the_dpo_sees_a_sync_stopped_for_over_two_hours(self, client, dpo):
        _done(ago=timedelta(hours=2, minutes=30))
        assert CIOT_STALE in _home(client, dpo)

    def test_an_administrator_sees_it_too_and_healthz_names_it(self, client, admin_user):
        _done(ago=timedelta(hours=3))
        assert CIOT_STALE in _home(client, admin_user)
        health = client.get("/healthz").json()
        assert health["ciot_sync"] == "stale"

    def test_a_sync_that_succeeded_an_hour_ago_raises_nothing(self, client, dpo):
        _done(ago=timedelta(hours=1))
        assert CIOT_STALE not in _home(client, dpo) and client.get("/healthz").json()["ciot_sync"] == "ok"

    def test_a_customer_is_not_shown_it(self, client, alice):
        _done(ago=timedelta(hours=3))
        assert CIOT_STALE not in _home(client, alice)


class PeriodicJobsBannerTests:
    @pytest.fixture(autouse=True)
    def with_beat(self, settings):
        settings.REDIS_URL = settings.REDIS_URL or "redis://127.0.0.1:6379/3"  # a site with a worker and beat
        settings.CELERY_TASK_ALWAYS_EAGER = False

    def test_a_heartbeat_twenty_minutes_old_reads_late(self, client, dpo):
        beat_heartbeat_record(at=now() - timedelta(minutes=20))
        html = _home(client, dpo)
        assert "Periodic jobs last ran at" in html and ", late:" in html

    def test_a_heartbeat_just_recorded_raises_nothing(self, client, dpo):
        beat_heartbeat.apply()
        assert "Periodic jobs" not in _home(client, dpo)


class MailOwedTests:
    def test_a_notice_undelivered_for_45_minutes_is_counted(self, client, admin_user):
        person = make_user("owed")
        User.objects.filter(pk=person.pk).update(itemisation_notice_due_at=now() - timedelta(minutes=45))
        assert "1 mail owed to a person has not been delivered for more than 30 minutes." in _home(client, admin_user)
        assert client.get("/healthz").json()["mail_owed"] == 1

    def test_a_notice_due_ten_minutes_ago_is_still_being_retried(self, client, admin_user):
        person = make_user("owed")
        User.objects.filter(pk=person.pk).update(itemisation_notice_due_at=now() - timedelta(minutes=10))
        assert "mail owed" not in _home(client, admin_user)


def test_the_banner_reads_in_dutch(client, dpo):
    _done(ago=timedelta(hours=3))
    client.cookies["django_language"] = "nl"
    assert CIOT_STALE not in _home(client, dpo)



@pytest.mark.postgres
class MailOwedQueryTests:
    """/healthz counts the users owed an itemisation notice on every probe, which a load balancer sends every few
    seconds: a partial index serves the count, so a probe does not read the whole user table (PostgreSQL's plan,
    with sequential scans priced out so that a small test table does not hide a missing index)."""

    def test_the_users_owed_a_notice_are_counted_from_an_index(self, db):
        from django.db import connection

        from accounts.ops_status import mail_owed_before

        User.objects.bulk_create(User(username=f"ops-user-{i}") for i in range(300))
        User.objects.filter(pk=make_user("owed").pk).update(itemisation_notice_due_at=now() - timedelta(hours=1))
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE accounts_user")
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("EXPLAIN SELECT count(*) FROM accounts_user WHERE itemisation_notice_due_at < now()")
            plan = "\n".join(row[0] for row in cursor.fetchall())
        assert "user_itemisation_due_idx" in plan, plan
        assert mail_owed_before(now()) == 1
