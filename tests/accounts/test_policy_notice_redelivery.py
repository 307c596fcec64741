"""The policy-change e-mail runs as a chain of batch tasks (one batch of users each, the next queued with the
cursor). Celery delivers at least once (acks_late: a worker that dies after sending is given the batch again),
so a batch delivered twice must mail nobody twice, must not queue the rest of the chain a second time (which
would mail every later user twice), and must record the version as e-mailed once."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils.timezone import now

from accounts.dsr import policy
from accounts.dsr.models import PolicyVersion
from accounts.tasks import person_notices_requeue_task, policy_notice_email_task
from tests.factories import make_user
from voipxs.privacy.models import AuditEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def five_people(monkeypatch):
    monkeypatch.setattr(policy, "EMAIL_BATCH", 2)  # three batches of 2, 2 and 1 person
    return [make_user(f"person{i}") for i in range(5)]


def _version() -> PolicyVersion:
    return PolicyVersion.objects.create(version="9.9", summary="s", text="t", substantive=True)


def _mailed() -> list[str]:
    return sorted(to for m in mail.outbox for to in m.to)


class PolicyNoticeRedeliveryTests:
    def test_the_chain_mails_everyone_once(self, five_people):
        pv = _version()
        policy_notice_email_task.apply(args=(pv.pk, 0))
        assert _mailed() == sorted(f"person{i}@example.org" for i in range(5))
        assert AuditEntry.objects.filter(action="policy.emailed", target_id=str(pv.pk)).count() == 1

    def test_the_first_batch_delivered_again_mails_nobody_twice(self, five_people):
        pv = _version()
        policy_notice_email_task.apply(args=(pv.pk, 0))
        mail.outbox.clear()

        policy_notice_email_task.apply(args=(pv.pk, 0))  # the broker hands the first message out again

        assert _mailed() == []
        assert AuditEntry.objects.filter(action="policy.emailed", target_id=str(pv.pk)).count() == 1

    def test_a_middle_batch_delivered_again_mails_nobody_twice(self, five_people):
        pv = _version()
        policy_notice_email_task.apply(args=(pv.pk, 0))
        mail.outbox.clear()

        policy_notice_email_task.apply(args=(pv.pk, five_people[1].pk))  # the second batch's message, again

        assert _mailed() == []
        assert AuditEntry.objects.filter(action="policy.emailed", target_id=str(pv.pk)).count() == 1

    def test_a_batch_delivered_twice_before_the_next_runs_mails_each_later_person_once(self, five_people):
        pv = _version()
        assert policy.policy_notice_email_batch(version_id=pv.pk, after_user_id=0) == five_people[1].pk
        # The same message again, before its follow-up ran: it must not start a second chain.
        assert policy.policy_notice_email_batch(version_id=pv.pk, after_user_id=0) is None
        policy_notice_email_task.apply(args=(pv.pk, five_people[1].pk))

        assert _mailed() == sorted(f"person{i}@example.org" for i in range(5))


class PolicyNoticeRequeueTests:
    """A chain whose next message was lost (the broker was down when a batch queued the next, or at publication)
    or whose batch gave up (the mail server refused it through every retry) is sent again by the reaper (beat,
    every five minutes), from where it stopped; before, the people after it were never told."""

    def test_a_lost_chain_is_sent_again_from_where_it_stopped(self, five_people, dpo):
        pv = policy.policy_version_publish(policy=_version(), actor=dpo, email_users=True)  # its task: never sent
        assert policy.policy_notice_email_batch(version_id=pv.pk, after_user_id=0) == five_people[1].pk
        mail.outbox.clear()
        assert policy.policy_notices_requeue() == []  # still moving: not yet

        assert policy.policy_notices_requeue(at=now() + timedelta(minutes=10)) == [pv.pk]

        assert _mailed() == sorted([*(f"person{i}@example.org" for i in range(2, 5)), dpo.email])
        pv.refresh_from_db()
        assert pv.emailed_at is not None
        assert policy.policy_notices_requeue(at=now() + timedelta(minutes=20)) == []

    def test_a_version_published_without_e_mail_is_never_sent(self, five_people, dpo):
        policy.policy_version_publish(policy=_version(), actor=dpo, email_users=False)

        assert policy.policy_notices_requeue(at=now() + timedelta(minutes=10)) == []
        assert _mailed() == []

    def test_the_reaper_runs_from_beat(self, five_people, dpo, settings):
        pv = policy.policy_version_publish(policy=_version(), actor=dpo, email_users=True)
        settings.TASK_RESEND_AFTER_SECONDS = -1  # waited long enough already

        assert person_notices_requeue_task.apply().get()["policy"] == [pv.pk]
        assert _mailed() == sorted([*(f"person{i}@example.org" for i in range(5)), dpo.email])
