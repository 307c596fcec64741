"""What the DPO notices on the data-protection pages used every day: a date field the browser helps fill, counts
that say what they count."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils.timezone import localtime, now

from accounts.dsr.breaches import breach_incident_create
from accounts.dsr.models import BreachIncident, DataSubjectRequest
from accounts.dsr.services import dsr_request_create
from tests.factories import verified_client


@pytest.mark.django_db
class BreachPagesUsableTests:
    def test_the_detected_at_field_is_a_date_and_time_picker_that_takes_what_it_sends(self, client, dpo):
        client = verified_client(client, dpo)
        page = client.get("/privacy-requests/dpo/breaches/").content.decode()
        assert re.search(r'<input type="datetime-local" name="detected_at"', page)
        picked = localtime(now() - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")  # what the picker sends
        response = client.post("/privacy-requests/dpo/breaches/", {
            "title": "Lost laptop", "detected_at": picked, "scope": "CDRs", "affected_count": "3",
            "telecom_service": "on"})
        assert response.status_code == 302
        assert localtime(BreachIncident.objects.get().detected_at).strftime("%Y-%m-%dT%H:%M") == picked

    def test_the_scope_says_how_many_people_are_affected(self, client, dpo):
        inc = breach_incident_create(title="t", detected_at=now(), scope="CDRs of customers", telecom_service=True,
                                     affected_count=3, actor=dpo)
        page = verified_client(client, dpo).get(f"/privacy-requests/dpo/breaches/{inc.pk}/").content.decode()
        assert "CDRs of customers (3 people affected)" in page
        one = breach_incident_create(title="t", detected_at=now(), scope="One CDR", telecom_service=True,
                                     affected_count=1, actor=dpo)
        page = verified_client(client, dpo).get(f"/privacy-requests/dpo/breaches/{one.pk}/").content.decode()
        assert "One CDR (1 person affected)" in page


@pytest.mark.django_db
class RequestAnswerKeptTests:
    def test_a_refused_answer_keeps_the_typed_text_ground_and_date(self, client, alice, dpo):
        req = dsr_request_create(user=alice, kind=DataSubjectRequest.Kind.RESTRICTION, details="Check my data first")
        client = verified_client(client, dpo)
        response = client.post(f"/privacy-requests/dpo/{req.pk}/", {
            "action": "complete", "answer": "We restrict your data while we check it.", "ground": "accuracy_contested",
            "ends_on": "2027-02-31"})
        page = response.content.decode()
        assert response.status_code == 400 and "End date (last day)" in page
        assert re.search(r'<textarea id="id_answer" name="answer" rows="4">We restrict your data while we check it.'
                         r'</textarea>', page)
        assert re.search(r'<option value="accuracy_contested" selected>', page)
        response = client.post(f"/privacy-requests/dpo/{req.pk}/", {
            "action": "complete", "answer": "", "ground": "accuracy_contested", "ends_on": "2027-02-20"})
        assert response.status_code == 400 and 'value="2027-02-20"' in response.content.decode()
