"""An objection (GDPR art. 21(1)) in the person's own export and after their erasure.

Export (art. 15): the request with the person's grounds in their own words (`details`), each purpose with its outcome,
the decision's time and the balancing record (data about them, exported as a restriction's answer is:
accounts/dsr/sections.py `_objection_row`). Erasure (art. 17): the grounds, the balancing record and the reply that
quotes it go; the purposes, outcomes and decision times stay as the record that the objection was decided."""
from __future__ import annotations

import json

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils.timezone import now

from accounts.dsr.models import DataSubjectRequest
from accounts.dsr.objection import dsr_objection_decide
from accounts.dsr.objection_models import Objection
from accounts.dsr.services import dsr_request_create
from accounts.models import AccountCloseReason
from accounts.services.closing import account_anonymise, account_close
from tests.accounts.dsr_helpers import access_export, export_json_valid, schema_def_validate, section
from tests.factories import PASSWORD, verified_client
from voipxs.models import AuditEntry

pytestmark = pytest.mark.django_db

GROUNDS = "Grounds-e2b9: I am a journalist and my sources call me"
BALANCE = {"legitimate_interest": "Interest-e2b9: fraud detection on every line",
           "person_interests": "Weighed-e2b9: source protection of a journalist",
           "reasons": "Reasons-e2b9: no fraud signal on the account"}
MARKS = ("e2b9", "journalist", "fraud detection", "source protection")


def _decided(user, dpo, *, purposes=("security", "dispute")) -> DataSubjectRequest:
    req = dsr_request_create(user=user, kind=DataSubjectRequest.Kind.OBJECTION, details=GROUNDS,
                             purposes=list(purposes))
    outcomes = ("upheld", "rejected_legal_claims")
    decisions = {p: {"outcome": outcomes[i % 2], **BALANCE} for i, p in enumerate(purposes)}
    return dsr_objection_decide(request=req, decisions=decisions, answer="Answer-e2b9: we decided.", actor=dpo)


def _erase(client, user) -> DataSubjectRequest:
    verified_client(client, user)
    done = client.post("/privacy-requests/new/", {"kind": "erasure", "password": PASSWORD, "confirm": "yes"})
    assert done.status_code == 200
    return DataSubjectRequest.objects.get(user=user, kind=DataSubjectRequest.Kind.ERASURE)


def _raw_texts(request_id: int) -> str:
    """Every column of the objection rows and of their request, as stored: no text of the person may be left."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM accounts_objection WHERE request_id = %s", [request_id])
        rows = cursor.fetchall()
        cursor.execute("SELECT * FROM accounts_datasubjectrequest WHERE id = %s", [request_id])
        rows += cursor.fetchall()
    return json.dumps(rows, default=str).lower()


class ObjectionInOwnExportTests:
    def test_the_export_holds_the_grounds_each_outcome_its_day_and_the_balancing_record(
            self, alice, dpo, django_capture_on_commit_callbacks):
        req = _decided(alice, dpo)
        data = export_json_valid(access_export(alice, django_capture_on_commit_callbacks))
        [row] = [r for r in section(data, "requests")["rows"] if r["id"] == req.pk]
        schema_def_validate(row, "request")
        assert row["kind"] == "objection" and row["details"] == GROUNDS
        decided = Objection.objects.filter(request=req).first().decided_at.isoformat()
        assert row["objections"] == [
            {"purpose": "security", "outcome": "upheld", "legitimate_interest": BALANCE["legitimate_interest"],
             "your_interests": BALANCE["person_interests"], "reasons": BALANCE["reasons"], "decided_at": decided},
            {"purpose": "dispute", "outcome": "rejected_legal_claims",
             "legitimate_interest": BALANCE["legitimate_interest"], "your_interests": BALANCE["person_interests"],
             "reasons": BALANCE["reasons"], "decided_at": decided},
        ]
        assert "Reasons-e2b9" in row["answer"]  # the reply quotes each purpose's reasons

    def test_a_pending_objection_is_exported_with_the_grounds_and_no_outcome_yet(
            self, alice, django_capture_on_commit_callbacks):
        dsr_request_create(user=alice, kind=DataSubjectRequest.Kind.OBJECTION, details=GROUNDS, purposes=["dispute"])
        data = export_json_valid(access_export(alice, django_capture_on_commit_callbacks))
        [row] = [r for r in section(data, "requests")["rows"] if r["kind"] == "objection"]
        assert row["details"] == GROUNDS
        assert [(o["purpose"], o["outcome"], o["decided_at"]) for o in row["objections"]] == [("dispute", "", None)]

    def test_an_older_request_row_without_details_is_still_valid(self):
        schema_def_validate({"id": 1, "kind": "access", "status": "completed", "received_at": now().isoformat(),
                             "deadline": now().isoformat(), "through_representative": False,
                             "representative_kind": "", "representative_name": None,
                             "representative_authority_checked_at": None, "representative_proof_kept": False},
                            "request")


class ObjectionAfterErasureTests:
    def test_erasure_leaves_no_text_of_or_about_the_person_and_keeps_the_decision(self, client, alice, dpo):
        req = _decided(alice, dpo)
        before = {o.purpose: (o.outcome, o.decided_at, o.decided_by_id) for o in Objection.objects.filter(request=req)}

        erasure = _erase(client, alice)

        stored = _raw_texts(req.pk)
        assert not [mark for mark in MARKS if mark in stored]
        objections = Objection.objects.filter(request=req)
        assert {o.purpose: (o.outcome, o.decided_at, o.decided_by_id) for o in objections} == before
        assert {o.texts_erased_at for o in objections} == {erasure.completed_at}
        req = DataSubjectRequest.objects.get(pk=req.pk)
        assert (req.details, req.answer, req.status) == ("", "", "completed")
        assert req.outcome == {"objections": {"security": "upheld", "dispute": "rejected_legal_claims"}}
        counts = erasure.outcome["counts"]["account"]
        assert (counts["objection_texts_erased"], counts["objection_requests_texts_erased"]) == (2, 1)
        assert not [mark for mark in MARKS if mark in json.dumps([e.extra for e in AuditEntry.objects.all()]).lower()]

    def test_an_objection_still_open_at_erasure_loses_its_grounds_too(self, client, alice):
        req = dsr_request_create(user=alice, kind=DataSubjectRequest.Kind.OBJECTION, details=GROUNDS,
                                 purposes=["security"])
        _erase(client, alice)
        assert not [mark for mark in MARKS if mark in _raw_texts(req.pk)]
        assert Objection.objects.get(request=req).texts_erased_at is not None

    def test_the_dpo_page_says_the_texts_were_erased_and_still_shows_the_outcomes(self, client, alice, dpo):
        req = _decided(alice, dpo)
        _erase(client, alice)
        client.logout()
        page = verified_client(client, dpo).get(f"/privacy-requests/dpo/{req.pk}/").content.decode()
        assert "the balancing record and the reply were erased on" in page
        assert "Upheld: the processing for this purpose stops" in page
        assert not [mark for mark in MARKS if mark in page.lower()]

    def test_another_persons_objection_keeps_its_texts(self, client, alice, bob, dpo):
        bobs = _decided(bob, dpo)
        _erase(client, alice)
        assert "Reasons-e2b9" in DataSubjectRequest.objects.get(pk=bobs.pk).answer
        assert {o.reasons for o in Objection.objects.filter(request=bobs)} == {BALANCE["reasons"]}

    def test_the_retention_purges_anonymisation_erases_them_too(self, alice, dpo, billing_staff):
        req = _decided(alice, dpo)
        account_close(user=alice, actor=billing_staff, reason=AccountCloseReason.CONTRACT_ENDED)
        assert DataSubjectRequest.objects.get(pk=req.pk).details == GROUNDS  # closing alone keeps them
        account_anonymise(user=alice, actor=billing_staff)
        assert not [mark for mark in MARKS if mark in _raw_texts(req.pk)]

    def test_the_database_refuses_text_beside_the_erased_mark(self, alice, dpo):
        req = _decided(alice, dpo, purposes=("security",))
        with pytest.raises(IntegrityError), transaction.atomic():
            Objection.objects.filter(request=req).update(texts_erased_at=now())
        with pytest.raises(IntegrityError), transaction.atomic():
            Objection.objects.filter(request=req).update(reasons="")  # decided: its record or the mark
