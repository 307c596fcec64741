"""The beat entries of issue 14: each task is scheduled, calls its service, and answers with counts."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.utils.timezone import now

from disclosures.models import DisclosureRequest, LegalBasis, Status
from disclosures.tasks import disclosure_preservations_task, disclosure_statutory_clocks_task
from retention.models import LegalHold
from retention.tasks import legal_holds_expire_task

from .conftest import receive

pytestmark = pytest.mark.django_db


class BeatTests:
    def test_the_tasks_are_scheduled(self):
        tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
        assert {"disclosures.tasks.disclosure_preservations_task", "disclosures.tasks.disclosure_statutory_clocks_task",
                "retention.tasks.legal_holds_expire_task"} <= tasks

    def test_the_preservation_task_ends_a_preservation_past_its_term(self, legal1, authority):
        req = receive(legal1, authority, basis=LegalBasis.SV_126NI, deadline=None)
        past = now() - timedelta(days=91)
        DisclosureRequest.objects.filter(pk=req.pk).update(received_at=past, preserve_until=past + timedelta(days=90))
        LegalHold.objects.filter(pk=req.hold_id).update(starts_at=past, expires_at=past + timedelta(days=90))
        assert disclosure_preservations_task() == {"expired": 1, "reminded": 0}
        assert DisclosureRequest.objects.get(pk=req.pk).status == Status.CLOSED
        assert legal_holds_expire_task() == 0  # already recorded as released

    def test_the_clock_task_escalates_a_late_emergency(self, legal1, authority):
        req = receive(legal1, authority, emergency=True, basis=LegalBasis.EU_PRODUCTION, deadline=None)
        past = now() - timedelta(days=4)
        DisclosureRequest.objects.filter(pk=req.pk).update(
            received_at=past, deadline=past + timedelta(hours=8), written_order_due_at=past + timedelta(days=3))
        mail.outbox.clear()
        assert disclosure_statutory_clocks_task() == {"sla": 1, "escalated": 1, "flagged": 0}
        assert DisclosureRequest.objects.get(pk=req.pk).sla_stage == "100"
        assert len(mail.outbox) >= 2
