"""When the mail server refuses recipients, the policy-notice batch fails without putting anyone's
e-mail address into the error (Celery logs and stores a failed task's exception and traceback)."""
from __future__ import annotations

import smtplib
import traceback

import pytest
from django.core.mail.backends.base import BaseEmailBackend

from accounts.dsr.models import PolicyVersion
from accounts.dsr.policy import PolicyNoticeMailError, policy_notice_email_batch


class RefusingBackend(BaseEmailBackend):
    """A mail server that refuses every recipient, as smtplib reports it (addresses in the exception)."""

    def send_messages(self, messages):
        raise smtplib.SMTPRecipientsRefused({to: (550, b"mailbox unavailable") for m in messages for to in m.to})


@pytest.mark.django_db
class PolicyMailErrorTests:
    def test_it_fails_the_batch_without_naming_an_address(self, settings, alice, bob):
        settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"
        pv = PolicyVersion.objects.create(version="9.9", summary="s", text="t", substantive=True)
        with pytest.raises(PolicyNoticeMailError) as info:
            policy_notice_email_batch(version_id=pv.pk, after_user_id=0)
        shown = "".join(traceback.format_exception(info.value))
        assert "failed (SMTPRecipientsRefused)" in shown
        assert "@" not in shown and alice.email not in shown and bob.email not in shown
