"""Every step on a request's page says what it did (views.transition, step_done.py), never a bare "Done.": with the
request's number and what changed (an approval still missing, the records checked, the outcome delivered, the
date a hold is released or a preservation runs to), in the page's language, and never with personal data (a
target's number, the authority's reference, an officer's note)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase
from django.utils.timezone import now

from disclosures.models import DisclosureRequest, LegalBasis
from disclosures.step_done import _MESSAGES
from disclosures.transitions import TRANSITIONS
from tests.factories import make_cdr, verified_client

from .conftest import ALICE_NUMBER, OTHER, receive, to_state

pytestmark = pytest.mark.django_db

NOTE = "Phoned Desk@Politie.example about +31205550101"  # personal data an officer's note may hold


def _step(client, req, action: str, data: dict | None = None) -> str:
    """POST the step as the page does (its box ticked) and return the one message the page then shows."""
    with TestCase.captureOnCommitCallbacks(execute=True):  # the production's task runs on commit, as in production
        response = client.post(f"/disclosures/requests/{req.pk}/{action}/", {"confirm": "yes", **(data or {})})
    assert response.status_code == 302, response.content.decode()[:2000]
    shown = [str(m) for m in get_messages(response.wsgi_request)][-1]  # the newest (earlier ones were not shown)
    assert shown != "Done." and ALICE_NUMBER not in shown and req.reference not in shown and "Desk@" not in shown
    return shown


def _as(client, user):
    client.logout()
    return verified_client(client, user)


def test_every_step_has_its_own_message():
    assert set(_MESSAGES) == set(TRANSITIONS)


class StepMessageTests:
    def test_a_request_walked_through_on_its_page_says_what_each_step_did(self, client, legal1, legal2, legal3,
                                                                          authority, alice):
        make_cdr(account=alice, src=ALICE_NUMBER, dst=OTHER, started_at=now() - timedelta(days=1))
        make_cdr(account=alice, src=OTHER, dst=ALICE_NUMBER, started_at=now() - timedelta(days=2))
        req = receive(legal1, authority, reference="PV-SECRET-77")
        pk = req.pk
        c = _as(client, legal1)
        assert _step(c, req, "verify", {"channel": "phone", "note": NOTE}) == (
            f"Verification recorded for request #{pk}: the authority confirmed it on a channel of the register.")
        assert _step(c, req, "clarify", {"note": NOTE}) == (
            f"Clarification asked for request #{pk}; the review resumes when the authority answers.")
        assert _step(c, req, "resume") == f"Legal review of request #{pk} resumed."
        upload = SimpleUploadedFile("letter.pdf", b"%PDF-1.7 answer", "application/pdf")
        assert _step(c, req, "document", {"document": upload}) == (
            f"Document added to request #{pk}, stored encrypted.")
        assert _step(_as(client, legal2), req, "approve") == (
            f"Approval recorded for request #{pk}; it needs the approval of another legal officer too.")
        assert _step(_as(client, legal3), req, "approve") == (
            f"Approval recorded: request #{pk} is approved by two legal officers.")
        assert _step(_as(client, legal1), req, "produce") == (
            f"Production of the package of request #{pk} started; this page shows the package when it is built.")
        assert _step(_as(client, legal2), req, "check") == (
            f"Output check recorded for request #{pk}: 2 records, ready to hand over.")
        assert _step(c := _as(client, legal1), req, "deliver", {"receipt": "received by the desk"}) == (
            f"Delivery of request #{pk} recorded (Full).")
        assert _step(c, req, "notice-decision", {"notify": "yes"}) == (
            f"Decision recorded for request #{pk}: the user is told.")
        assert _step(c, req, "send-notices") == f"1 notice of request #{pk} sent."
        closed = _step(c, req, "close")
        assert closed.startswith(f"Request #{pk} closed. Its legal hold is released on ")

    def test_a_rejection_and_a_narrowing_say_what_they_did(self, client, legal1, authority):
        c = _as(client, legal1)
        req = receive(legal1, authority, numbers=[ALICE_NUMBER, OTHER])
        req = to_state(req, "under_review", intake=legal1, approvers=[])
        drop = req.targets.order_by("pk").last()
        assert _step(c, req, "narrow", {"remove_target_ids": str(drop.pk)}) == (
            f"Scope of request #{req.pk} narrowed; it is approved anew by two legal officers.")
        assert _step(c, req, "reject", {"note": NOTE}).startswith(
            f"Request #{req.pk} rejected. Its legal hold is released on ")
        other = receive(legal1, authority)
        assert _step(c, other, "verify", {"channel": "phone"}).startswith("Verification recorded")
        assert _step(c, other, "review") == f"Legal review of request #{other.pk} started."

    def test_a_preservation_s_renewal_and_conversion_say_what_they_did(self, client, legal1, legal2, legal3,
                                                                      authority):
        pres = to_state(receive(legal1, authority, basis=LegalBasis.SV_126NI, deadline=None), "approved",
                        intake=legal1, approvers=[legal2, legal3])
        c = _as(client, legal2)
        assert _step(c, pres, "renew", {"order_reference": "OvJ-RENEW-9"}).startswith(
            f"Preservation #{pres.pk} renewed until ")
        order = SimpleUploadedFile("vordering.pdf", b"%PDF-1.7 production order", "application/pdf")
        shown = _step(c, pres, "convert", {"legal_basis": "sv_126n", "reference": "PV-PROD-9",
                                           "categories": ["traffic_data"], "order_document": order,
                                           "deadline": (now() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")})
        new = DisclosureRequest.objects.get(pk=pres.pk).converted_to_id
        assert shown == (f"Preservation #{pres.pk} converted into production order #{new}, a new request that is "
                         "verified and approved anew.")

    def test_the_message_is_in_the_page_s_language(self, client, legal1, authority):
        req = receive(legal1, authority)
        c = _as(client, legal1)
        c.cookies["django_language"] = "nl"
        assert _step(c, req, "verify", {"channel": "phone"}).startswith("Verificatie vastgelegd")
