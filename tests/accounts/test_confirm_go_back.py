"""A confirmation page's "Cancel, change nothing" is a link: what was typed is gone. Where the view can show its
form again as typed, the page also offers "Go back and change" (voipxs/confirm.py): the same fields posted with
`confirm=edit`, answered with the form filled in, nothing done and nothing refused. A view that cannot shows no
such button: no button that loses what was typed."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils.timezone import localdate

from accounts.dsr.models import DataSubjectRequest
from accounts.dsr.services import dsr_request_create
from tests.accounts.test_restriction_lift import _restricted
from tests.factories import verified_client
from voipxs.privacy.models import AuditEntry

pytestmark = pytest.mark.django_db
Kind, Status = DataSubjectRequest.Kind, DataSubjectRequest.Status
GO_BACK = '>Go back and change</button>'
ANSWER = "We cannot find that label & we checked <twice>."


def _url(req: DataSubjectRequest) -> str:
    return f"/privacy-requests/dpo/{req.pk}/"


class DpoAnswerGoBackTests:
    @pytest.mark.parametrize("action", ["complete", "reject"])
    def test_the_confirmation_page_offers_to_go_back_to_the_answer(self, client, alice, dpo, action):
        req = dsr_request_create(user=alice, kind=Kind.RECTIFICATION, details="My label is wrong")
        verified_client(client, dpo)
        body = client.post(_url(req), {"action": action, "answer": ANSWER}).content.decode()
        button = re.search(r'<button type="submit" name="confirm" value="edit" formaction="([^"]+)" formnovalidate>'
                           r'Go back and change</button>', body)
        assert button and button.group(1) == f"{_url(req)}#answer-title"
        assert "Cancel, change nothing" in body

    @pytest.mark.parametrize("action", ["complete", "reject"])
    def test_going_back_shows_the_form_as_typed_and_does_nothing(self, client, alice, dpo, action):
        req = dsr_request_create(user=alice, kind=Kind.RECTIFICATION, details="My label is wrong")
        verified_client(client, dpo)
        response = client.post(_url(req), {"action": action, "answer": ANSWER, "confirm": ["yes", "edit"]})
        body = response.content.decode()
        assert response.status_code == 200 and "Please confirm" not in body
        assert '<textarea id="id_answer" name="answer" rows="4">We cannot find that label &amp; we checked ' \
               '&lt;twice&gt;.</textarea>' in body
        assert 'class="messages"' not in body and 'role="alert"' not in body
        assert DataSubjectRequest.objects.get(pk=req.pk).status == Status.RECEIVED
        assert not AuditEntry.objects.filter(action=f"dsr.{action}").exists()

    def test_going_back_keeps_a_restrictions_ground_and_last_day(self, client, alice, dpo):
        req = dsr_request_create(user=alice, kind=Kind.RESTRICTION)
        verified_client(client, dpo)
        last_day = (localdate() + timedelta(days=20)).isoformat()
        body = client.post(_url(req), {"action": "complete", "answer": "Restricted.", "ground": "objection_pending",
                                       "ends_on": last_day, "confirm": ["yes", "edit"]}).content.decode()
        assert '<option value="objection_pending" selected>' in body
        assert f'<input id="id_ends_on" type="date" name="ends_on" value="{last_day}">' in body
        assert DataSubjectRequest.objects.get(pk=req.pk).status == Status.RECEIVED

    def test_going_back_with_an_empty_answer_refuses_nothing(self, client, alice, dpo):
        req = dsr_request_create(user=alice, kind=Kind.RECTIFICATION, details="My label is wrong")
        verified_client(client, dpo)
        response = client.post(_url(req), {"action": "complete", "answer": "", "confirm": "edit"})
        assert response.status_code == 200 and "Write the answer the user will read." not in response.content.decode()

    @pytest.mark.xfail(strict=True, reason="Dutch pending")
    def test_the_button_is_in_dutch(self, client, alice, dpo):
        req = dsr_request_create(user=alice, kind=Kind.RECTIFICATION, details="My label is wrong")
        verified_client(client, dpo)
        client.cookies["django_language"] = "nl"
        body = client.post(_url(req), {"action": "reject", "answer": "Nee."}).content.decode()
        assert "Bevestig alstublieft" in body and GO_BACK not in body and 'value="edit"' in body


class NoGoBackWhereTheFormCannotComeBackTests:
    def test_a_restriction_step_has_only_cancel(self, client, alice, dpo):
        """The restrictions list has nothing typed to come back to, so its steps offer no "Go back"."""
        restriction = _restricted(alice, dpo)
        verified_client(client, dpo)
        body = client.post("/privacy-requests/dpo/restrictions/", {"action": "notify",
                                                                   "restriction": restriction.pk}).content.decode()
        assert "Please confirm" in body and "Cancel, change nothing" in body and 'value="edit"' not in body
