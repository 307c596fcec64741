"""The DPO's "Complete" and "Reject" answer the customer for good, so they ask first (voipxs/confirm.py): the first
POST names that the answer goes to the customer and cannot be taken back, and changes nothing; the confirmed one
answers. What the services refuse (no answer, missing restriction terms) is refused before any confirmation."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils.timezone import localdate

from accounts.dsr.models import DataSubjectRequest, Restriction
from accounts.dsr.services import dsr_request_create
from tests.factories import verified_client
from voipxs.privacy.models import AuditEntry

pytestmark = pytest.mark.django_db
Kind, Status = DataSubjectRequest.Kind, DataSubjectRequest.Status


def _url(req: DataSubjectRequest) -> str:
    return f"/privacy-requests/dpo/{req.pk}/"


def _status(req: DataSubjectRequest) -> str:
    return DataSubjectRequest.objects.get(pk=req.pk).status


class AnswerConfirmationTests:
    @pytest.mark.parametrize("action, title", [("complete", "Complete request #%s?"),
                                               ("reject", "Reject request #%s?")])
    def test_the_first_click_asks_and_changes_nothing(self, client, alice, dpo, action, title):
        req = dsr_request_create(user=alice, kind=Kind.RECTIFICATION, details="My label is wrong")
        verified_client(client, dpo)
        response = client.post(_url(req), {"action": action, "answer": "We cannot find that label."})
        body = response.content.decode()
        assert response.status_code == 200 and title % req.pk in body
        assert "goes to the customer" in body and "cannot be taken back" in body
        assert "We cannot find that label." in body and 'name="confirm" value="yes"' in body
        assert f'name="action" value="{action}"' in body
        assert _status(req) == Status.RECEIVED and not AuditEntry.objects.filter(action=f"dsr.{action}").exists()

    @pytest.mark.parametrize("action", ["complete", "reject"])
    def test_the_confirmation_page_is_in_dutch(self, client, alice, dpo, action):
        req = dsr_request_create(user=alice, kind=Kind.RECTIFICATION, details="My label is wrong")
        verified_client(client, dpo)
        client.cookies["django_language"] = "nl"
        body = client.post(_url(req), {"action": action, "answer": "Antwoord."}).content.decode()
        assert '<html lang="nl">' in body and "Bevestig alstublieft" in body
        assert _status(req) == Status.RECEIVED

    @pytest.mark.parametrize("action, status", [("complete", Status.COMPLETED), ("reject", Status.REJECTED)])
    def test_the_confirmed_click_answers(self, client, alice, dpo, action, status):
        req = dsr_request_create(user=alice, kind=Kind.RECTIFICATION, details="My label is wrong")
        verified_client(client, dpo)
        response = client.post(_url(req), {"action": action, "answer": "Our answer.", "confirm": "yes"})
        assert response.status_code == 302 and _status(req) == status
        assert DataSubjectRequest.objects.get(pk=req.pk).answer == "Our answer."

    @pytest.mark.parametrize("action", ["complete", "reject"])
    def test_an_empty_answer_is_refused_before_any_confirmation(self, client, alice, dpo, action):
        req = dsr_request_create(user=alice, kind=Kind.RECTIFICATION, details="My label is wrong")
        verified_client(client, dpo)
        response = client.post(_url(req), {"action": action, "answer": "  "})
        body = response.content.decode()
        assert response.status_code == 400 and "Write the answer the user will read." in body
        assert "Please confirm" not in body and _status(req) == Status.RECEIVED

    def test_a_closed_request_is_refused_before_any_confirmation(self, client, alice, dpo):
        req = dsr_request_create(user=alice, kind=Kind.RECTIFICATION, details="My label is wrong")
        DataSubjectRequest.objects.filter(pk=req.pk).update(status=Status.REJECTED)
        verified_client(client, dpo)
        response = client.post(_url(req), {"action": "complete", "answer": "Corrected."})
        assert response.status_code == 400 and "Please confirm" not in response.content.decode()

    def test_a_restriction_names_its_ground_and_last_day(self, client, alice, dpo):
        req = dsr_request_create(user=alice, kind=Kind.RESTRICTION)
        verified_client(client, dpo)
        last_day = localdate() + timedelta(days=20)
        data = {"action": "complete", "answer": "Restricted.", "ground": "objection_pending",
                "ends_on": last_day.isoformat()}
        body = client.post(_url(req), data).content.decode()
        label = str(Restriction.Ground("objection_pending").label)
        assert "restricted from now on" in body and label in body and "inclusive" in body
        assert not Restriction.objects.exists() and alice.__class__.objects.get(pk=alice.pk).restricted_at is None
        missing = client.post(_url(req), {**data, "ends_on": ""})
        assert missing.status_code == 400 and "Please confirm" not in missing.content.decode()

    def test_reject_is_a_danger_button(self, client, alice, dpo):
        req = dsr_request_create(user=alice, kind=Kind.RECTIFICATION, details="My label is wrong")
        page = verified_client(client, dpo).get(_url(req)).content.decode()
        assert '<button name="action" value="reject" class="danger">' in page
