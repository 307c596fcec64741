"""LEGAL.md section 5 row 21 for notes on calls: a refused note (another customer's call, a call that is not there,
a closed request, anyone but the DPO) is a refused attempt on a call record and leaves an audit entry, by ids and with
its reason and purpose, which the rollback of the note's transaction does not take along. The note's text and the
call's numbers are in no entry."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.utils.timezone import now

from accounts.dsr.models import DataSubjectRequest
from accounts.dsr.services import dsr_request_complete, dsr_request_create
from tests.factories import make_cdr, verified_client
from traffic.models import CdrAnnotation
from traffic.services.annotations import cdr_annotate
from voipxs.exceptions import ApplicationError
from voipxs.models import AuditEntry
from voipxs.privacy.audit import actor_ref

pytestmark = pytest.mark.django_db

STATEMENT = "The customer states this call was not made from their line."


@pytest.fixture
def request_of_alice(alice) -> DataSubjectRequest:
    return dsr_request_create(user=alice, kind=DataSubjectRequest.Kind.RECTIFICATION,
                              details="The call of two days ago was not mine.")


@pytest.fixture
def bobs_call(bob):
    return make_cdr(account=bob, src="+31205550201", dst="+31699993678", started_at=now() - timedelta(days=2))


def refusals() -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action="cdr.annotate", outcome="refused").order_by("id"))


def assert_no_text_or_number(entry: AuditEntry) -> None:
    flat = json.dumps([entry.actor, entry.target_id, entry.extra])
    assert "not made from" not in flat and "31699993678" not in flat and "31205550201" not in flat


class RefusedNoteIsRecordedTests:
    def test_a_note_on_another_customers_call_leaves_a_refused_entry_by_ids(self, dpo, bobs_call, request_of_alice):
        with pytest.raises(ApplicationError):
            cdr_annotate(actor=dpo, cdr_id=bobs_call.id, started_at=bobs_call.started_at, text=STATEMENT,
                         dsr_request=request_of_alice)
        # The service's transaction rolled back (no note), its refusal stayed.
        assert not CdrAnnotation.objects.exists()
        [entry] = refusals()
        assert (entry.actor, entry.purpose, entry.target_type, entry.target_id) == (
            actor_ref(dpo), "legal_obligation", "cdr", str(bobs_call.id))
        assert entry.extra == {"reason": "not_the_requesters", "request": request_of_alice.pk}
        assert_no_text_or_number(entry)

    def test_a_call_that_is_not_there_and_a_closed_request_are_recorded_with_their_reason(self, dpo, alice,
                                                                                         request_of_alice):
        call = make_cdr(account=alice)
        with pytest.raises(ApplicationError):
            cdr_annotate(actor=dpo, cdr_id=call.id + 1000, started_at=call.started_at, text=STATEMENT,
                         dsr_request=request_of_alice)
        dsr_request_complete(request=request_of_alice, answer="Noted.", actor=dpo)
        with pytest.raises(ApplicationError):
            cdr_annotate(actor=dpo, cdr_id=call.id, started_at=call.started_at, text=STATEMENT,
                         dsr_request=request_of_alice)
        assert [(e.target_id, e.extra["reason"]) for e in refusals()] == [
            (str(call.id + 1000), "no_such_call"), (str(call.id), "request_not_open")]

    def test_anyone_but_the_dpo_leaves_a_refused_entry(self, legal1, bobs_call, request_of_alice):
        with pytest.raises(PermissionDenied):
            cdr_annotate(actor=legal1, cdr_id=bobs_call.id, started_at=bobs_call.started_at, text=STATEMENT,
                         dsr_request=request_of_alice)
        [entry] = refusals()
        assert (entry.actor, entry.purpose, entry.extra["reason"]) == (actor_ref(legal1), "legal_obligation", "not_dpo")

    def test_an_empty_text_is_a_form_error_and_no_attempt_on_a_call(self, dpo, bobs_call, request_of_alice):
        with pytest.raises(ApplicationError):
            cdr_annotate(actor=dpo, cdr_id=bobs_call.id, started_at=bobs_call.started_at, text=" ",
                         dsr_request=request_of_alice)
        assert refusals() == []

    def test_the_dpos_page_refusing_another_customers_call_leaves_the_entry(self, client, dpo, bobs_call,
                                                                           request_of_alice):
        form = {"call": f"{bobs_call.id}@{bobs_call.started_at.isoformat()}", "text": STATEMENT, "confirm": "yes"}
        page = verified_client(client, dpo).post(f"/calls/staff/privacy-requests/{request_of_alice.pk}/call-notes/",
                                                 form)
        assert page.status_code == 400
        [entry] = refusals()
        assert (entry.target_id, entry.extra["reason"]) == (str(bobs_call.id), "not_the_requesters")
        assert_no_text_or_number(entry)
