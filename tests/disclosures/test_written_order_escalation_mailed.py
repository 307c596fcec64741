"""A late written order is recorded as escalated only once the legal officers and the DPO were told. It used to be
marked (and audited) first and mailed after: a mail server that refused the message, or nobody with an address to
mail, left the request marked as escalated while no one knew the order was late, and no later run said so again.
Now the rows are locked while mailing, a failed send records nothing (the next run, every hour, tries again), and
with nobody to mail nothing is marked either, as the deadline reminders already do."""
from __future__ import annotations

from datetime import timedelta
from smtplib import SMTPException

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend

from accounts.models import User
from disclosures.models import DisclosureRequest
from disclosures.services.deadlines import disclosure_written_orders_escalate
from voipxs.models import AuditEntry
from voipxs.privacy.purposes import Role

from .conftest import receive

pytestmark = pytest.mark.django_db
DAY = timedelta(days=1)


class RefusingBackend(BaseEmailBackend):
    """The mail server refuses every message (down, or rejecting the sender)."""
    def send_messages(self, email_messages):
        raise SMTPException("421 service not available")


def _escalated(req) -> bool:
    return (DisclosureRequest.objects.get(pk=req.pk).written_order_escalated_at is not None
            or AuditEntry.objects.filter(action="disclosure.written_order_escalate", target_id=str(req.pk)).exists())


class WrittenOrderMailedTests:
    def test_a_refused_mail_leaves_the_late_order_unescalated_and_the_next_run_tells_them(
            self, legal1, authority, dpo, settings):
        req = receive(legal1, authority, emergency=True)
        late = req.received_at + 3 * DAY + timedelta(minutes=1)
        mail.outbox.clear()
        settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"

        with pytest.raises(SMTPException):
            disclosure_written_orders_escalate(now=late)

        assert not _escalated(req)
        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
        assert disclosure_written_orders_escalate(now=late + timedelta(hours=1)) == {"escalated": 1, "flagged": 0}
        assert {legal1.email, dpo.email} <= {addr for m in mail.outbox for addr in m.to}
        assert all(f"#{req.pk}" in m.body for m in mail.outbox)
        assert _escalated(req)

    def test_with_nobody_to_mail_nothing_is_marked_until_someone_can_be_told(self, legal1, authority, dpo):
        req = receive(legal1, authority, emergency=True)
        late = req.received_at + 3 * DAY + timedelta(minutes=1)
        mail.outbox.clear()
        User.objects.filter(groups__name__in=[Role.LEGAL_OFFICER, Role.DPO]).update(is_active=False)

        assert disclosure_written_orders_escalate(now=late) == {"escalated": 0, "flagged": 0}

        assert not _escalated(req) and mail.outbox == []
        User.objects.filter(pk=dpo.pk).update(is_active=True)
        assert disclosure_written_orders_escalate(now=late + timedelta(hours=1)) == {"escalated": 1, "flagged": 0}
        assert [m.to for m in mail.outbox] == [[dpo.email]]
