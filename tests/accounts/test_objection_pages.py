"""GDPR art. 21 objections on the DPO's decision page, in the person's export, closed by an erasure, and in the
processing register (which purposes may be objected to)."""
from __future__ import annotations

import json

import jsonschema
import pytest

from accounts.dsr.models import DataSubjectRequest, ExportFile
from accounts.dsr.objection import dsr_objection_decide
from accounts.dsr.objection_models import Objection
from accounts.dsr.services import dsr_request_create
from tests.accounts.dsr_helpers import SCHEMA_PATH, export_json, section
from tests.factories import PASSWORD, verified_client
from voipxs.privacy.register import processing_register, processing_register_markdown

Kind, Status, Outcome = DataSubjectRequest.Kind, DataSubjectRequest.Status, Objection.Outcome
GROUNDS = "Grounds-7f3a: my particular situation"


@pytest.fixture(autouse=True)
def _private_dir(settings, tmp_path):
    settings.PRIVATE_FILES_DIR = tmp_path


def _objection(user):
    return dsr_request_create(user=user, kind=Kind.OBJECTION, details=GROUNDS, purposes=["security"])


def _form(**extra):
    return {"outcome_security": "upheld", "legitimate_interest_security": "Fraud detection",
            "person_interests_security": "Their grounds", "reasons_security": "No fraud signal", "answer": "Done",
            **extra}


@pytest.mark.django_db
class ObjectionDecisionPageTests:
    def test_the_dpo_decides_on_the_page_after_confirming(self, client, alice, dpo):
        req = _objection(alice)
        c = verified_client(client, dpo)
        request_page = c.get(f"/privacy-requests/dpo/{req.pk}/").content.decode()
        assert 'id="objection-decide"' in request_page and 'value="complete"' not in request_page
        page = c.get(f"/privacy-requests/dpo/{req.pk}/objection/").content.decode()
        assert GROUNDS in page and "Legitimate interest relied on" in page
        asked = c.post(f"/privacy-requests/dpo/{req.pk}/objection/", _form())
        assert asked.status_code == 200 and "Decide objection" in asked.content.decode()
        assert Objection.objects.get().outcome == ""
        done = c.post(f"/privacy-requests/dpo/{req.pk}/objection/", _form(confirm="yes"))
        assert done.status_code == 302
        assert Objection.objects.get().outcome == Outcome.UPHELD

    def test_the_page_refuses_a_decision_without_its_balancing(self, client, alice, dpo):
        req = _objection(alice)
        c = verified_client(client, dpo)
        response = c.post(f"/privacy-requests/dpo/{req.pk}/objection/", _form(reasons_security=""))
        assert response.status_code == 400 and "record the balancing" in response.content.decode()
        assert Objection.objects.get().outcome == ""

    def test_a_restriction_while_the_objection_is_verified_is_pointed_out_to_the_dpo(self, client, alice, dpo):
        """Art. 18(1)(d): the person had their processing restricted pending the objection. Deciding does not lift
        it (the person is told before a lift, art. 18(3)); the page says so and where to lift it."""
        from datetime import timedelta

        from django.utils.timezone import now

        from accounts.dsr.models import Restriction
        from accounts.dsr.services import dsr_request_complete

        req = _objection(alice)
        verified_client(client, dpo)
        assert "art. 18(1)(d)" not in client.get(f"/privacy-requests/dpo/{req.pk}/objection/").content.decode()
        restriction = dsr_request_create(user=alice, kind=Kind.RESTRICTION, details="While you verify")
        dsr_request_complete(request=restriction, answer="Restricted.", actor=dpo,
                             ground=Restriction.Ground.OBJECTION_PENDING, ends_on=now().date() + timedelta(days=30))
        page = client.get(f"/privacy-requests/dpo/{req.pk}/objection/").content.decode()
        assert 'id="objection-restriction"' in page and "art. 18(1)(d)" in page
        assert 'href="/privacy-requests/dpo/restrictions/"' in page

    def test_the_customer_sees_the_outcome(self, client, alice, dpo):
        req = _objection(alice)
        dsr_objection_decide(request=req, decisions={"security": {
            "outcome": "upheld", "legitimate_interest": "x", "person_interests": "y", "reasons": "Reasons-7f3a"}},
            answer="Done", actor=dpo)
        page = verified_client(client, alice).get("/privacy-requests/").content.decode()
        assert "Upheld: the processing for this purpose stops" in page and "Autoriteit Persoonsgegevens" in page

    def test_the_pages_in_dutch(self, client, alice, dpo):
        _objection(alice)
        page = verified_client(client, alice).get("/privacy-requests/", HTTP_ACCEPT_LANGUAGE="nl").content.decode()
        assert "Object to processing" not in page and "legitimate interests" not in page


@pytest.mark.django_db
class ObjectionExportTests:
    def test_the_access_export_holds_the_objection_and_its_balancing(self, alice, dpo,
                                                                      django_capture_on_commit_callbacks):
        req = _objection(alice)
        dsr_objection_decide(request=req, decisions={"security": {
            "outcome": "rejected_compelling", "legitimate_interest": "Interest-1", "person_interests": "Weighed-1",
            "reasons": "Reasons-1"}}, answer="Done", actor=dpo)
        with django_capture_on_commit_callbacks(execute=True):
            access = dsr_request_create(user=alice, kind=Kind.ACCESS)
        data = export_json(ExportFile.objects.get(request=access))
        jsonschema.validate(data, json.loads(SCHEMA_PATH.read_text()),
                            format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
        row = next(r for r in section(data, "requests")["rows"] if r["kind"] == "objection")
        [objection] = row["objections"]
        assert objection["purpose"] == "security" and objection["outcome"] == "rejected_compelling"
        assert objection["legitimate_interest"] == "Interest-1" and objection["reasons"] == "Reasons-1"
        assert objection["your_interests"] == "Weighed-1" and objection["decided_at"]


@pytest.mark.django_db
class ObjectionErasureTests:
    def test_an_erasure_closes_the_open_objection(self, alice):
        req = _objection(alice)
        dsr_request_create(user=alice, kind=Kind.ERASURE, password=PASSWORD)
        req.refresh_from_db()
        assert not req.is_open


@pytest.mark.django_db
class ObjectionRegisterTests:
    def test_the_register_says_which_purposes_may_be_objected_to(self):
        applies = {a["purpose"]: a["objection"] for a in processing_register()["activities"]}
        assert applies["security"] and applies["dispute"] and applies["interconnection"]
        assert not applies["billing"] and not applies["legal_obligation"] and not applies["ciot"]
        md = processing_register_markdown()
        assert "| objection (art. 21) |" in md and "| applies |" in md

    def test_the_dpo_register_page_shows_it(self, client, dpo):
        page = verified_client(client, dpo).get("/privacy-requests/dpo/register/").content.decode()
        # In the legal basis's cell of each purpose on legitimate interests (a column of its own was 109 px too wide
        # for 1280 px in Dutch): security, disputes and interconnection.
        assert page.count('<span class="objection">Right to object (GDPR art. 21)</span>') == 3
