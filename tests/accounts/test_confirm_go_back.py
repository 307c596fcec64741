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
        button = re.search(r'<button type="submit" name="confirm" value="edit" formaction="([^"]+)" formnovalidate '
                           r'class="secondary">Go back and change</button>', body)
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

    def test_the_button_is_in_dutch(self, client, alice, dpo):
        req = dsr_request_create(user=alice, kind=Kind.RECTIFICATION, details="My label is wrong")
        verified_client(client, dpo)
        client.cookies["django_language"] = "nl"
        body = client.post(_url(req), {"action": "reject", "answer": "Nee."}).content.decode()
        assert "Bevestig alstublieft" in body and GO_BACK not in body and 'value="edit"' in body
        assert "Terug om te wijzigen" in body


class NoGoBackWhereTheFormCannotComeBackTests:
    def test_a_restriction_step_has_only_cancel(self, client, alice, dpo):
        """The restrictions list has nothing typed to come back to, so its steps offer no "Go back"."""
        restriction = _restricted(alice, dpo)
        verified_client(client, dpo)
        body = client.post("/privacy-requests/dpo/restrictions/", {"action": "notify",
                                                                   "restriction": restriction.pk}).content.decode()
        assert "Please confirm" in body and "Cancel, change nothing" in body and 'value="edit"' not in body


class OtherDpoFormsGoBackTests:
    def test_the_objection_decision_comes_back_with_its_balancing_record(self, client, alice, dpo, settings, tmp_path):
        from tests.accounts.test_objection_pages import _form, _objection
        settings.PRIVATE_FILES_DIR = tmp_path
        req = _objection(alice)
        url = f"/privacy-requests/dpo/{req.pk}/objection/"
        verified_client(client, dpo)
        asked = client.post(url, _form(reasons_security="No fraud signal <in> 2026")).content.decode()
        assert f'value="edit" formaction="{url}"' in asked
        back = client.post(url, _form(reasons_security="No fraud signal <in> 2026", confirm=["yes", "edit"]))
        body = back.content.decode()
        assert back.status_code == 200 and "Please confirm" not in body and "errorlist" not in body
        assert "No fraud signal &lt;in&gt; 2026</textarea>" in body and "Fraud detection</textarea>" in body
        assert req.objections.get().outcome == ""

    def test_the_restriction_end_date_comes_back_with_the_day_and_reason(self, client, alice, dpo):
        restriction = _restricted(alice, dpo, days=3)
        url = f"/privacy-requests/dpo/restrictions/{restriction.pk}/end/"
        day = (localdate() + timedelta(days=45)).isoformat()
        verified_client(client, dpo)
        asked = client.post(url, {"ends_on": day, "reason": "check_longer"}).content.decode()
        assert f'value="edit" formaction="{url}"' in asked
        back = client.post(url, {"ends_on": day, "reason": "check_longer", "confirm": ["yes", "edit"]})
        body = back.content.decode()
        assert back.status_code == 200 and f'value="{day}"' in body and '<option value="check_longer" selected>' in body
        assert "errorlist" not in body and restriction.__class__.objects.get(pk=restriction.pk).ends_on == restriction.ends_on
