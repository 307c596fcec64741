"""Converting a preservation into a production order takes the production order's document in as a normal
intake does: without it nothing changes (the refusal names the field, on the page and over the API); with it,
the new request has it on file as its written order (encrypted, its SHA-256 stored, readable back as intake's
documents are), so it is approved only with it, and the preservation's own documents are shown with it."""
from __future__ import annotations

import base64
import hashlib
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils.timezone import now
from rest_framework.test import APIClient

from disclosures.models import DisclosureDocument, DisclosureRequest, LegalBasis, Status
from disclosures.selectors import disclosure_preservation_documents
from disclosures.services.checks import ORDER_NOT_ON_FILE
from disclosures.services.preservation import ORDER_DOCUMENT_REQUIRED, disclosure_preservation_convert
from disclosures.services.transitions import disclosure_request_approve
from retention.models import LegalHold
from tests.factories import verified_client
from voipxs.exceptions import ApplicationError
from voipxs.models import AuditEntry
from voipxs.privacy.crypto import decrypt_bytes

from .conftest import ALICE_NUMBER, receive, to_state

pytestmark = pytest.mark.django_db

ORDER = b"%PDF-1.7 signed production order PV-PROD-1"


def _preserved(legal1, legal2, legal3, authority) -> DisclosureRequest:
    """A running 126ni preservation, approved, with its preservation order on file (conftest.receive files it)."""
    return to_state(receive(legal1, authority, basis=LegalBasis.SV_126NI, deadline=None, reference="PRES-7"),
                    "approved", intake=legal1, approvers=[legal2, legal3])


def _world() -> tuple:
    """What a refused conversion must leave as it was."""
    return (list(DisclosureRequest.objects.order_by("pk").values_list("pk", "status", "converted_to", "closed_at")),
            list(DisclosureDocument.objects.order_by("pk").values_list("pk", "request_id")),
            list(LegalHold.objects.order_by("pk").values_list("pk", "released_at")),
            AuditEntry.objects.count())


def _convert(actor, req, **kwargs) -> DisclosureRequest:
    args = {"legal_basis": LegalBasis.SV_126N, "reference": "PV-PROD-1", "deadline": now() + timedelta(days=5),
            "order_document": ORDER, "order_document_title": "vordering PV-PROD-1.pdf",
            "order_document_content_type": "application/pdf", **kwargs}
    return disclosure_preservation_convert(actor=actor, request=req, **args)


def _api(user) -> APIClient:
    client = APIClient()
    verified_client(client, user)
    return client


def _upload(content: bytes = ORDER) -> SimpleUploadedFile:
    return SimpleUploadedFile("vordering PV-PROD-1.pdf", content, "application/pdf")


def _page_form(**extra) -> dict:
    return {"legal_basis": "sv_126n", "reference": "PV-PROD-1", "categories": ["traffic_data"],
            "deadline": (now() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M"), **extra}


def _error_of(page: str, field: str) -> str:
    """The text of the error list Django renders before `field` ("" when there is none)."""
    marker = f'id="id_{field}_error">'
    return page.split(marker, 1)[1].split("</ul>", 1)[0] if marker in page else ""


class ConvertServiceTests:
    @pytest.mark.parametrize("document", [None, b""])
    def test_it_refuses_a_conversion_without_the_order_naming_the_field_and_changes_nothing(
            self, legal1, legal2, legal3, authority, document):
        req = _preserved(legal1, legal2, legal3, authority)
        before = _world()
        with pytest.raises(ApplicationError) as exc:
            _convert(legal2, req, order_document=document)
        assert exc.value.extra == {"field": "order_document"} and exc.value.message == ORDER_DOCUMENT_REQUIRED
        assert _world() == before
        assert DisclosureRequest.objects.get(pk=req.pk).status == Status.APPROVED

    def test_a_refusal_at_intake_changes_nothing_either(self, legal1, legal2, legal3, authority):
        req = _preserved(legal1, legal2, legal3, authority)
        before = _world()
        with pytest.raises(ApplicationError) as exc:
            _convert(legal2, req, reference="PRES-7")  # the preservation's own reference: a duplicate
        assert exc.value.extra["field"] == "reference"
        assert _world() == before

    def test_the_new_request_has_the_order_on_file_with_its_hash_and_content(self, legal1, legal2, legal3, authority):
        req = _preserved(legal1, legal2, legal3, authority)
        moment = now()
        new = _convert(legal2, req, now=moment).converted_to
        order = new.documents.get()
        assert (order.title, order.content_type, order.size, order.uploaded_by) == (
            "vordering PV-PROD-1.pdf", "application/pdf", len(ORDER), legal2)
        assert order.sha256 == hashlib.sha256(ORDER).hexdigest()
        assert decrypt_bytes(bytes(order.content_enc), aad=f"disclosure-document:{order.pk}".encode()) == ORDER
        assert b"production order" not in bytes(order.content_enc)
        assert order.is_written_order and new.written_order_at == moment and not new.written_order_missing
        assert [t.number for t in new.targets.all()] == [ALICE_NUMBER]

    def test_the_preservation_s_documents_are_reached_from_the_new_request(self, legal1, legal2, legal3, authority):
        req = _preserved(legal1, legal2, legal3, authority)
        kept = list(req.documents.values_list("pk", flat=True))
        assert len(kept) == 1
        new = _convert(legal2, req).converted_to
        assert [d.pk for d in disclosure_preservation_documents(actor=legal2, request=new)] == kept
        assert list(DisclosureRequest.objects.get(pk=req.pk).documents.values_list("pk", flat=True)) == kept
        assert list(disclosure_preservation_documents(actor=legal2, request=req)) == []  # nothing before it

    def test_the_audit_entry_carries_ids_only(self, legal1, legal2, legal3, authority):
        req = _preserved(legal1, legal2, legal3, authority)
        new = _convert(legal2, req).converted_to
        entry = AuditEntry.objects.get(action="disclosure.preservation_convert", target_id=str(req.pk))
        assert entry.extra == {"status": "closed", "into": new.pk, "basis": "sv_126n",
                               "order_document": new.documents.get().pk,
                               "preservation_documents": list(req.documents.values_list("pk", flat=True))}
        text = str(entry.extra)
        assert "vordering" not in text and "PV-PROD-1" not in text and ALICE_NUMBER not in text

    def test_the_converted_request_is_approved_with_its_order_and_not_without(self, legal1, legal2, legal3, authority):
        new = _convert(legal2, _preserved(legal1, legal2, legal3, authority)).converted_to
        assert to_state(new, "approved", intake=legal2, approvers=[legal1, legal3]).status == Status.APPROVED
        # The same conversion whose order was later taken off the file is not approved.
        other = _convert(legal2, receive(legal1, authority, basis=LegalBasis.SV_126NI, deadline=None),
                         reference="PV-PROD-2").converted_to
        other.documents.all().delete()
        DisclosureRequest.objects.filter(pk=other.pk).update(written_order_at=None)
        other = to_state(DisclosureRequest.objects.get(pk=other.pk), "under_review", intake=legal2, approvers=[])
        with pytest.raises(ApplicationError) as exc:
            disclosure_request_approve(actor=legal1, request=other)
        assert exc.value.message == ORDER_NOT_ON_FILE and other.approvals.count() == 0


class ConvertPageTests:
    def test_the_form_uploads_the_order_and_asks_to_confirm(self, client, legal1, legal2, legal3, authority):
        req = _preserved(legal1, legal2, legal3, authority)
        page = verified_client(client, legal2).get(reverse("disclosures:detail", args=[req.pk])).content.decode()
        form = page.split('<details id="convert-order">', 1)[1].split("</details>", 1)[0]
        assert 'enctype="multipart/form-data"' in form and 'type="file" name="order_document"' in form
        assert 'name="confirm"' in form and "Production order" in form

    def test_without_the_order_the_page_names_the_field_and_nothing_changes(
            self, client, legal1, legal2, legal3, authority):
        req = _preserved(legal1, legal2, legal3, authority)
        before = _world()
        c = verified_client(client, legal2)
        r = c.post(reverse("disclosures:transition", args=[req.pk, "convert"]), _page_form(confirm="yes"))
        page = r.content.decode()
        assert r.status_code == 400 and "This field is required." in _error_of(page, "order_document")
        assert '<details id="convert-order" open>' in page and 'value="PV-PROD-1"' in page
        empty = _page_form(confirm="yes", order_document=_upload(b""))
        r = c.post(reverse("disclosures:transition", args=[req.pk, "convert"]), empty)
        assert r.status_code == 400 and "The submitted file is empty." in _error_of(r.content.decode(), "order_document")
        assert _world()[:3] == before[:3]

    def test_it_confirms_first(self, client, legal1, legal2, legal3, authority):
        req = _preserved(legal1, legal2, legal3, authority)
        r = verified_client(client, legal2).post(reverse("disclosures:transition", args=[req.pk, "convert"]),
                                                 _page_form(order_document=_upload()))
        assert r.status_code == 400 and "Tick the box to confirm “Convert”" in r.content.decode()
        assert not DisclosureRequest.objects.filter(reference="PV-PROD-1").exists()

    def test_a_refusal_of_the_service_is_shown_at_its_field(self, client, legal1, legal2, legal3, authority):
        req = _preserved(legal1, legal2, legal3, authority)
        before = _world()
        r = verified_client(client, legal2).post(
            reverse("disclosures:transition", args=[req.pk, "convert"]),
            _page_form(reference="PRES-7", confirm="yes", order_document=_upload()))
        assert r.status_code == 400
        assert "already sent a request with this reference" in _error_of(r.content.decode(), "reference")
        assert _world()[:3] == before[:3]

    def test_the_officers_see_the_order_and_the_preservation_s_documents_on_the_new_request(
            self, client, legal1, legal2, legal3, authority):
        req = _preserved(legal1, legal2, legal3, authority)
        c = verified_client(client, legal2)
        r = c.post(reverse("disclosures:transition", args=[req.pk, "convert"]),
                   _page_form(confirm="yes", order_document=_upload()))
        assert r.status_code == 302
        new = DisclosureRequest.objects.get(reference="PV-PROD-1")
        page = c.get(reverse("disclosures:detail", args=[new.pk])).content.decode()
        documents = page.split("<h2>Documents</h2>", 1)[1].split("<h2>", 1)[0]
        own, earlier = documents.split('<ul id="preservation-documents">', 1)
        assert "vordering PV-PROD-1.pdf" in own and "written order" in own and 'id="order-missing"' not in own
        assert hashlib.sha256(ORDER).hexdigest()[:19] in own
        assert f"From preservation request #{req.pk}" in own
        assert "vordering PRES-7.pdf" in earlier and "vordering PV-PROD-1.pdf" not in earlier


class ConvertApiTests:
    def _url(self, req) -> str:
        return f"/api/v1/staff/disclosures/requests/{req.pk}/convert-preservation/"

    def test_it_refuses_a_conversion_without_a_readable_order_and_changes_nothing(
            self, legal1, legal2, legal3, authority):
        req = _preserved(legal1, legal2, legal3, authority)
        before = _world()
        api = _api(legal2)
        body = {"legal_basis": "sv_126n", "reference": "PV-PROD-1", "order_document_title": "vordering.pdf"}
        r = api.post(self._url(req), body, format="json")
        assert r.status_code == 400 and "order_document_base64" in r.json()
        r = api.post(self._url(req), {**body, "order_document_base64": "not base64!"}, format="json")
        assert r.status_code == 400 and "base64" in str(r.json()["order_document_base64"])
        assert _world()[:3] == before[:3]

    def test_with_the_order_the_new_request_has_it_on_file(self, legal1, legal2, legal3, authority):
        req = _preserved(legal1, legal2, legal3, authority)
        body = {"legal_basis": "sv_126n", "reference": "PV-PROD-1", "order_document_title": "vordering.pdf",
                "order_document_base64": base64.b64encode(ORDER).decode(), "order_document_content_type": "application/pdf",
                "deadline": (now() + timedelta(days=5)).isoformat()}
        r = _api(legal2).post(self._url(req), body, format="json")
        assert r.status_code == 200, r.content
        new = _api(legal2).get(f"/api/v1/staff/disclosures/requests/{r.json()['converted_to']}/").json()
        assert new["written_order_missing"] is False and new["written_order_at"] is not None
        order = DisclosureDocument.objects.get(request_id=new["id"])
        assert order.sha256 == hashlib.sha256(ORDER).hexdigest() and order.is_written_order
