"""GDPR art. 21(1) objections: a request of kind "objection" naming purposes based on legitimate interests (art.
6(1)(f)) and the person's grounds, taken in from the portal, the API and support; decided by the DPO per purpose with
a mandatory balancing record; an upheld objection honoured by that purpose's selectors; the reply states outcome,
reasons and the right to complain to the Autoriteit Persoonsgegevens; audited without personal text."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.http import Http404
from django.utils.timezone import now

from accounts.dsr.deadlines import add_months
from accounts.dsr.models import DataSubjectRequest
from accounts.dsr.objection import dsr_objection_decide
from accounts.dsr.objection_models import Objection
from accounts.dsr.services import dsr_request_complete, dsr_request_create, dsr_request_extend
from accounts.selectors import access_user
from accounts.support.services import support_request_open
from tests.factories import verified_client
from voipxs.exceptions import ApplicationError
from voipxs.privacy.models import AuditEntry

Kind, Status, Outcome = DataSubjectRequest.Kind, DataSubjectRequest.Status, Objection.Outcome
GROUNDS = "Grounds-7f3a: my particular situation"
BALANCE = {"legitimate_interest": "Interest-7f3a: fraud detection", "person_interests": "Weighed-7f3a: their grounds",
           "reasons": "Reasons-7f3a: no fraud signal on the account"}


def _objection(user, purposes=("security",)):
    return dsr_request_create(user=user, kind=Kind.OBJECTION, details=GROUNDS, purposes=list(purposes))


@pytest.mark.django_db
class ObjectionIntakeTests:
    def test_the_customer_objects_from_the_privacy_page_with_a_one_month_deadline(self, client, alice):
        page = verified_client(client, alice).get("/privacy-requests/").content.decode()
        assert 'value="security"' in page and 'value="dispute"' in page and 'value="billing"' not in page
        response = client.post("/privacy-requests/new/", {"kind": "objection", "purposes": ["security"],
                                                          "details": GROUNDS})
        assert response.status_code == 302
        req = DataSubjectRequest.objects.get(user=alice)
        assert req.kind == Kind.OBJECTION and req.details == GROUNDS
        assert req.deadline == add_months(req.received_at, 1)
        assert list(req.objections.values_list("purpose", "outcome")) == [("security", "")]
        assert "Fraud and abuse prevention" in client.get("/privacy-requests/").content.decode()

    def test_a_purpose_not_based_on_legitimate_interests_is_refused_naming_why(self, client, alice):
        verified_client(client, alice)
        response = client.post("/privacy-requests/new/", {"kind": "objection", "purposes": ["security", "billing"],
                                                          "details": GROUNDS})
        page = response.content.decode()
        assert response.status_code == 400
        assert "Invoicing the amounts due" in page and "art. 6(1)(b)" in page and "6(1)(f)" in page
        assert not DataSubjectRequest.objects.filter(user=alice).exists()
        with pytest.raises(ApplicationError, match="art. 6\\(1\\)\\(c\\)"):
            _objection(alice, purposes=("ciot",))

    def test_an_objection_needs_a_purpose_and_the_persons_grounds(self, alice):
        with pytest.raises(ApplicationError) as no_purpose:
            dsr_request_create(user=alice, kind=Kind.OBJECTION, details=GROUNDS)
        assert no_purpose.value.extra["field"] == "purposes"
        with pytest.raises(ApplicationError) as no_grounds:
            dsr_request_create(user=alice, kind=Kind.OBJECTION, purposes=["security"])
        assert no_grounds.value.extra["field"] == "details"
        assert not DataSubjectRequest.objects.exists()

    def test_the_api_takes_an_objection_and_refuses_another_purpose(self, client, alice):
        verified_client(client, alice)
        refused = client.post("/api/v1/me/privacy-requests/", {"kind": "objection", "purposes": ["billing"],
                                                               "details": GROUNDS}, content_type="application/json")
        assert refused.status_code == 400 and "6(1)(f)" in refused.content.decode()
        made = client.post("/api/v1/me/privacy-requests/", {"kind": "objection", "purposes": ["dispute"],
                                                            "details": GROUNDS}, content_type="application/json")
        assert made.status_code == 201 and made.json()["objections"] == [{"purpose": "dispute", "outcome": ""}]

    def test_support_records_one_for_the_customer(self, alice, support):
        req = support_request_open(actor=support, user=alice, kind=Kind.OBJECTION, details=GROUNDS,
                                   purposes=["security"])
        assert list(req.objections.values_list("purpose", flat=True)) == ["security"]
        with pytest.raises(ApplicationError, match="Invoicing the amounts due"):
            support_request_open(actor=support, user=alice, kind=Kind.OBJECTION, details=GROUNDS,
                                 purposes=["billing"])

    def test_the_intake_is_audited_with_the_purposes_and_not_the_grounds(self, alice):
        req = _objection(alice, purposes=("security", "dispute"))
        entry = AuditEntry.objects.get(action="dsr.create", target_id=str(req.pk))
        assert entry.extra["purposes"] == ["security", "dispute"] and entry.extra["kind"] == "objection"
        assert "7f3a" not in str(list(AuditEntry.objects.values_list("extra", flat=True)))


@pytest.mark.django_db
class ObjectionDecisionTests:
    def test_the_balancing_record_is_mandatory(self, alice, dpo):
        req = _objection(alice)
        with pytest.raises(ApplicationError, match="balancing record"):
            dsr_request_complete(request=req, answer="Done.", actor=dpo)
        for missing in BALANCE:
            decision = {**BALANCE, "outcome": Outcome.UPHELD, missing: " "}
            with pytest.raises(ApplicationError, match="record the balancing"):
                dsr_objection_decide(request=req, decisions={"security": decision}, answer="Done.", actor=dpo)
        with pytest.raises(ApplicationError, match="Decide every purpose"):
            dsr_objection_decide(request=req, decisions={"security": BALANCE}, answer="Done.", actor=dpo)
        req.refresh_from_db()
        assert req.is_open and req.objections.get().outcome == ""

    def test_an_upheld_objection_stops_that_purposes_reads_of_the_account(self, alice, bob, support, dpo):
        req = _objection(alice)
        assert access_user(actor=support, purpose="security", user_id=alice.pk) == alice
        dsr_objection_decide(request=req, decisions={"security": {**BALANCE, "outcome": Outcome.UPHELD}},
                             answer="We stop.", actor=dpo)
        with pytest.raises(Http404):
            access_user(actor=support, purpose="security", user_id=alice.pk)
        # Only that account: another customer is still read for security.
        assert access_user(actor=support, purpose="security", user_id=bob.pk) == bob

    def test_the_reply_states_outcome_reasons_and_the_right_to_complain(self, alice, dpo):
        req = _objection(alice, purposes=("security", "dispute"))
        req = dsr_objection_decide(request=req, decisions={
            "security": {**BALANCE, "outcome": Outcome.UPHELD},
            "dispute": {**BALANCE, "reasons": "Claims-7f3a: open invoice dispute",
                        "outcome": Outcome.REJECTED_LEGAL_CLAIMS}}, answer="Our decision.", actor=dpo)
        assert req.status == Status.COMPLETED
        assert "Reasons-7f3a" in req.answer and "Claims-7f3a" in req.answer
        assert "Rejected: needed for legal claims" in req.answer and "Autoriteit Persoonsgegevens" in req.answer
        assert req.outcome == {"objections": {"security": "upheld", "dispute": "rejected_legal_claims"}}

    def test_a_rejected_objection_closes_the_request_rejected_and_reads_go_on(self, alice, support, dpo):
        req = dsr_objection_decide(request=_objection(alice), decisions={
            "security": {**BALANCE, "outcome": Outcome.REJECTED_COMPELLING}}, answer="We continue.", actor=dpo)
        assert req.status == Status.REJECTED and "compelling legitimate grounds" in req.answer
        assert access_user(actor=support, purpose="security", user_id=alice.pk) == alice

    def test_every_decision_is_audited_with_codes_only(self, alice, dpo):
        req = dsr_objection_decide(request=_objection(alice), decisions={
            "security": {**BALANCE, "outcome": Outcome.UPHELD}}, answer="Answer-7f3a", actor=dpo)
        decided = AuditEntry.objects.get(action="dsr.objection_decide", target_id=str(req.pk))
        assert decided.extra == {"purpose": "security", "outcome": "upheld"}
        assert AuditEntry.objects.filter(action="dsr.complete", target_id=str(req.pk)).exists()
        assert "7f3a" not in str(list(AuditEntry.objects.values_list("extra", flat=True)))

    def test_the_deadline_is_extended_as_for_any_request(self, alice, dpo):
        req = _objection(alice)
        first = req.deadline
        req = dsr_request_extend(request=req, reason="Checking the fraud records.", actor=dpo)
        assert req.deadline == add_months(first, 2)

    def test_an_objection_past_its_deadline_is_overdue_in_the_dpo_queue(self, client, alice, dpo):
        req = _objection(alice)
        DataSubjectRequest.objects.filter(pk=req.pk).update(deadline=now() - timedelta(days=1))
        page = verified_client(client, dpo).get("/privacy-requests/dpo/").content.decode()
        row = page[page.rindex("<tr", 0, page.index(f'/privacy-requests/dpo/{req.pk}/"')):]
        row = row[:row.index("</tr>")]
        assert 'class="overdue"' in row and "Object to processing" in row and "Overdue" in row
