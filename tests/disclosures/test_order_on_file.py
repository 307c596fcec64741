"""No hand-over without the order on file: a request that is neither an emergency nor an oral order is
handed over on its written order (a DisclosureDocument marked is_written_order), so neither approver
approves it, nobody produces it and nobody delivers it while that order is not on file; the refusal names
the field "documents" and changes nothing. Emergency and oral-order requests still go ahead of their
written order (flagged for the breach register when it comes late); a preservation hands nothing over.
The detail page says the order is missing before anyone tries."""
from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils.timezone import now
from rest_framework.test import APIClient

from disclosures.models import DisclosureRequest, LegalBasis, Notice, Outcome, Package, Status
from disclosures.services.checks import ORDER_NOT_ON_FILE
from disclosures.services.deadlines import disclosure_written_orders_escalate
from disclosures.services.transitions import (
    PRESERVATION_NOT_PRODUCED,
    disclosure_production_start,
    disclosure_request_approve,
    disclosure_request_close,
    disclosure_request_deliver,
)
from tests.factories import verified_client
from voipxs.exceptions import ApplicationError
from voipxs.models import AuditEntry

from .conftest import order_file, receive, to_state

pytestmark = pytest.mark.django_db
DAY = timedelta(days=1)


def _before_the_rule(req: DisclosureRequest) -> DisclosureRequest:
    """`req` as a request that got this far before the order had to be on file: no order document."""
    req.documents.all().delete()
    DisclosureRequest.objects.filter(pk=req.pk).update(written_order_at=None)
    return DisclosureRequest.objects.get(pk=req.pk)


def _actions(req: DisclosureRequest) -> list[str]:
    return list(AuditEntry.objects.filter(target_type="disclosure_request", target_id=str(req.pk))
                .order_by("pk").values_list("action", flat=True))


class DeliveryTests:
    def test_it_refuses_the_delivery_without_the_order_naming_the_field_and_changes_nothing(
            self, legal1, legal2, legal3, authority, alice):
        req = _before_the_rule(to_state(receive(legal1, authority, notice_user=True), "checked", intake=legal1,
                                        approvers=[legal2, legal3]))
        assert req.status == Status.CHECKED and req.written_order_missing
        actions = _actions(req)
        with pytest.raises(ApplicationError) as exc:
            disclosure_request_deliver(actor=legal1, request=req, receipt="handed over, receipt PV-1")
        assert exc.value.extra == {"field": "documents"} and exc.value.message == ORDER_NOT_ON_FILE
        after = DisclosureRequest.objects.get(pk=req.pk)
        assert (after.status, after.delivered_at, after.delivery_receipt) == (Status.CHECKED, None, "")
        assert after.outcome == "" and after.breach_flagged_at is None
        assert Package.objects.get(request=req).delete_after is None
        assert not Notice.objects.filter(request=req).exists()
        assert _actions(req) == actions

    def test_it_delivers_once_the_order_is_filed(self, legal1, legal2, legal3, authority, alice):
        req = _before_the_rule(to_state(receive(legal1, authority), "checked", intake=legal1,
                                        approvers=[legal2, legal3]))
        req = order_file(legal1, req)
        assert req.written_order_at is not None and not req.written_order_missing
        req = disclosure_request_deliver(actor=legal1, request=req, receipt="handed over, receipt PV-1")
        assert req.status == Status.DELIVERED and req.outcome in (Outcome.FULL, Outcome.NO_DATA)
        assert req.breach_flagged_at is None

    def test_a_document_that_is_not_the_order_does_not_count(self, legal1, legal2, legal3, authority, alice):
        from disclosures.services.intake import disclosure_document_add

        req = _before_the_rule(to_state(receive(legal1, authority), "checked", intake=legal1,
                                        approvers=[legal2, legal3]))
        disclosure_document_add(actor=legal1, request=req, title="cover letter", content=b"%PDF-1.7 please see attached")
        with pytest.raises(ApplicationError) as exc:
            disclosure_request_deliver(actor=legal1, request=req, receipt="PV-1")
        assert exc.value.extra["field"] == "documents"


class ApprovalAndProductionTests:
    def test_neither_approver_approves_before_the_order_is_on_file(self, legal1, legal2, legal3, authority):
        req = to_state(receive(legal1, authority, with_order=False), "under_review", intake=legal1, approvers=[])
        for officer in (legal2, legal3):
            with pytest.raises(ApplicationError) as exc:
                disclosure_request_approve(actor=officer, request=req)
            assert exc.value.extra == {"field": "documents"} and exc.value.message == ORDER_NOT_ON_FILE
        assert req.approvals.count() == 0 and DisclosureRequest.objects.get(pk=req.pk).status == Status.UNDER_REVIEW
        order_file(legal1, req)
        for officer in (legal2, legal3):
            req = disclosure_request_approve(actor=officer, request=req)
        assert req.status == Status.APPROVED

    def test_a_request_approved_before_the_rule_is_not_produced_without_its_order(
            self, legal1, legal2, legal3, authority):
        req = _before_the_rule(to_state(receive(legal1, authority), "approved", intake=legal1,
                                        approvers=[legal2, legal3]))
        with pytest.raises(ApplicationError) as exc:
            disclosure_production_start(actor=legal1, request=req)
        assert exc.value.extra == {"field": "documents"}
        req = DisclosureRequest.objects.get(pk=req.pk)
        assert (req.status, req.production_started_by) == (Status.APPROVED, None)
        req = to_state(order_file(legal1, req), "produced", intake=legal1, approvers=[legal2, legal3])
        assert req.status == Status.PRODUCED


class GoingAheadOfTheOrderTests:
    @pytest.mark.parametrize("flag", ["emergency", "oral_order"])
    def test_an_emergency_or_an_oral_order_is_still_delivered_before_its_order_and_flagged_when_late(
            self, flag, legal1, legal2, legal3, authority, alice, dpo):
        req = receive(legal1, authority, **{flag: True})
        assert req.documents.count() == 0 and req.awaiting_written_order and not req.written_order_missing
        req = to_state(req, "delivered", intake=legal1, approvers=[legal2, legal3])
        assert req.status == Status.DELIVERED and req.written_order_at is None
        assert disclosure_written_orders_escalate(now=req.received_at + 3 * DAY + timedelta(hours=1)) == {
            "escalated": 1, "flagged": 1}
        assert DisclosureRequest.objects.get(pk=req.pk).breach_incident_id is not None

    def test_a_preservation_is_approved_and_closed_without_a_written_order_on_file(
            self, legal1, legal2, legal3, authority):
        req = receive(legal1, authority, basis=LegalBasis.SV_126NI, with_order=False)
        assert req.written_order_at is None and not req.written_order_missing
        req = to_state(req, "approved", intake=legal1, approvers=[legal2, legal3])
        assert req.status == Status.APPROVED
        with pytest.raises(ApplicationError) as exc:
            disclosure_production_start(actor=legal1, request=req)
        assert exc.value.message == PRESERVATION_NOT_PRODUCED  # it hands nothing over, order or not
        req = disclosure_request_close(actor=legal1, request=req)
        assert (req.status, req.outcome) == (Status.CLOSED, Outcome.PRESERVED)


class PageTests:
    def test_the_detail_page_says_the_order_is_missing_next_to_the_documents(self, client, legal1, authority):
        req = receive(legal1, authority, with_order=False)
        c = verified_client(client, legal1)
        page = c.get(reverse("disclosures:detail", args=[req.pk])).content.decode()
        documents = page.split("<h2>Documents</h2>", 1)[1].split("<h2>", 1)[0]
        assert 'id="order-missing"' in documents and "The written order is not on file." in documents
        order_file(legal1, req)
        assert 'id="order-missing"' not in c.get(reverse("disclosures:detail", args=[req.pk])).content.decode()

    def test_an_emergency_shows_its_written_order_clock_not_the_missing_order(self, client, legal1, authority):
        req = receive(legal1, authority, emergency=True)
        page = verified_client(client, legal1).get(reverse("disclosures:detail", args=[req.pk])).content.decode()
        assert 'id="written-order-missing"' in page and 'id="order-missing"' not in page

    def test_an_approval_through_the_page_is_refused_with_the_reason(self, client, legal1, legal2, authority):
        req = to_state(receive(legal1, authority, with_order=False), "under_review", intake=legal1, approvers=[])
        r = verified_client(client, legal2).post(f"/disclosures/requests/{req.pk}/approve/", {"confirm": "yes"})
        assert r.status_code == 400 and "The written order is not on file" in r.content.decode()
        assert req.approvals.count() == 0

    def test_the_intake_page_files_the_order_and_refuses_the_box_without_a_document(self, client, legal1, authority):
        from django.core.files.uploadedfile import SimpleUploadedFile

        c = verified_client(client, legal1)
        today = now().date()
        form = {"authority": authority.pk, "reference": "PV-ORDER-1", "legal_basis": "sv_126n",
                "categories": ["traffic_data"], "numbers": "020 555 0101",
                "window_start": (today - timedelta(days=30)).isoformat(), "window_end": today.isoformat(),
                "deadline": (now() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"), "document_is_order": "on"}
        r = c.post(reverse("disclosures:request-new"), form)
        assert r.status_code == 400 and not DisclosureRequest.objects.exists()
        r = c.post(reverse("disclosures:request-new"),
                   {**form, "document": SimpleUploadedFile("order.pdf", b"%PDF-1.7 order", "application/pdf")})
        assert r.status_code == 302
        req = DisclosureRequest.objects.get(reference="PV-ORDER-1")
        assert req.written_order_at is not None and req.documents.get().is_written_order


class ApiTests:
    def test_the_api_says_when_the_order_is_missing_and_a_document_puts_it_on_file(self, legal1, authority):
        req = receive(legal1, authority, with_order=False)
        api = APIClient()
        verified_client(api, legal1)
        assert api.get(f"/api/v1/staff/disclosures/requests/{req.pk}/").json()["written_order_missing"] is True
        order = {"title": "vordering.pdf", "content_base64": base64.b64encode(b"%PDF-1.7 order").decode(),
                 "is_written_order": True}
        r = api.post(f"/api/v1/staff/disclosures/requests/{req.pk}/documents/", order, format="json")
        assert r.status_code == 201
        assert api.get(f"/api/v1/staff/disclosures/requests/{req.pk}/").json()["written_order_missing"] is False
