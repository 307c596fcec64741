"""A deadline warning for the legal officers is recorded as given only once someone received it. With no active
legal officer who has an e-mail address (all on leave and deactivated, addresses erased), the escalation used to
be marked done all the same, so the warning never went out, not even once an officer could be mailed again:
a request, an emergency's 8-hour answer time, could pass its deadline without anyone being told. Now nothing is
recorded, the log says so, and the next run (beat: hourly, every 15 minutes for the statutory clocks) tries
again."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from django.core import mail
from django.utils.timezone import now

from accounts.models import User
from disclosures.models import DisclosureRequest, LegalBasis
from disclosures.services.deadlines import disclosure_sla_escalate
from disclosures.services.jobs import disclosure_deadlines_escalate
from voipxs.privacy.models import AuditEntry
from voipxs.privacy.purposes import Role

from .conftest import receive

pytestmark = pytest.mark.django_db


def _officers_away() -> None:
    User.objects.filter(groups__name=Role.LEGAL_OFFICER).update(is_active=False)


class NobodyMailedTests:
    def test_a_deadline_warning_nobody_received_goes_out_once_an_officer_can_be_mailed(self, legal1, legal2,
                                                                                        authority, caplog):
        req = receive(legal1, authority, deadline=now() + timedelta(hours=2))
        mail.outbox.clear()
        _officers_away()

        assert disclosure_deadlines_escalate() == 0

        assert DisclosureRequest.objects.get(pk=req.pk).escalated_at is None
        assert not AuditEntry.objects.filter(action="disclosure.escalate").exists()
        assert "not sent" in caplog.text
        User.objects.filter(pk=legal2.pk).update(is_active=True)

        assert disclosure_deadlines_escalate() == 1

        [message] = mail.outbox
        assert message.to == [legal2.email] and f"#{req.pk}" in message.body

    def test_an_emergency_stage_nobody_received_is_sent_at_the_next_check(self, legal1, legal2, authority):
        req = receive(legal1, authority, basis=LegalBasis.EU_PRODUCTION, emergency=True,
                      deadline=now() + timedelta(hours=8))
        mail.outbox.clear()
        _officers_away()
        half = req.received_at + (req.deadline - req.received_at) / 2

        assert disclosure_sla_escalate(now=half) == 0

        assert DisclosureRequest.objects.get(pk=req.pk).sla_stage == ""
        User.objects.filter(pk=legal2.pk).update(is_active=True)
        assert disclosure_sla_escalate(now=half + timedelta(minutes=15)) == 1
        assert [m.to for m in mail.outbox] == [[legal2.email]]
