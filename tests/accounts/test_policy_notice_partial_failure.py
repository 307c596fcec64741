"""A policy-change mail refused part-way through a batch (the Dutch readers' mail, after the English readers' went
out): the people already mailed stay recorded as mailed, so the retry mails only those still owed it. Before,
the failure rolled the whole batch's record back and the retry mailed the English readers a second time."""
from __future__ import annotations

import smtplib

import pytest
from celery.exceptions import Retry
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend

from accounts.dsr.models import PolicyVersion
from accounts.models import User
from accounts.tasks import policy_notice_email_task
from tests.factories import make_user

pytestmark = pytest.mark.django_db


class DutchRefusedOnceBackend(EmailBackend):
    """Delivers into mail.outbox, but refuses the first Dutch message it is given (a mail server's hiccup)."""
    refused = False

    def send_messages(self, messages):
        for message in messages:
            if message.to[0].startswith("nl") and not DutchRefusedOnceBackend.refused:
                DutchRefusedOnceBackend.refused = True
                raise smtplib.SMTPServerDisconnected("connection lost")
            super().send_messages([message])
        return len(messages)


def test_a_second_language_groups_failure_mails_the_first_group_once(settings):
    settings.EMAIL_BACKEND = f"{__name__}.DutchRefusedOnceBackend"
    DutchRefusedOnceBackend.refused = False
    people = [make_user(name) for name in ("en0", "en1", "nl2", "nl3")]
    User.objects.filter(pk__in=[p.pk for p in people if p.username.startswith("nl")]).update(language="nl")
    pv = PolicyVersion.objects.create(version="9.9", summary="s", text="t", substantive=True)

    with pytest.raises(Retry) as refused:
        policy_notice_email_task.apply(args=(pv.pk, 0))  # refused part-way: Celery queues the retry
    refused.value.sig.apply()  # the retry, as the worker runs it a minute on

    mailed = sorted(to for m in mail.outbox for to in m.to)
    assert DutchRefusedOnceBackend.refused
    assert mailed == ["en0@example.org", "en1@example.org", "nl2@example.org", "nl3@example.org"]
    pv.refresh_from_db()
    assert pv.emailed_at is not None
