"""A request taken in with its document (the intake page, the receive API): a document intake refuses
(document_check: empty, larger than DOCUMENT_MAX_BYTES, or of a kind it does not take) is refused at the
document's field and leaves nothing behind: no request, no legal hold, no document, no audit line of an intake.
Before, the page stored the request first and filed the document after it, so a refused document left a request
without it. The kinds themselves: test_intake_document_type.py."""
from __future__ import annotations

import base64
import math
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils.timezone import now
from rest_framework.test import APIClient

from disclosures.api import RequestReceiveApi
from disclosures.models import DisclosureDocument, DisclosureRequest
from disclosures.services import intake
from disclosures.services.intake import DOCUMENT_MAX_BYTES, ReceivedDocument, disclosure_request_take_in
from retention.models import LegalHold
from tests.factories import verified_client
from voipxs.exceptions import ApplicationError
from voipxs.models import AuditEntry

from .conftest import ALICE_NUMBER

pytestmark = pytest.mark.django_db

SMALL_LIMIT = 1_000_000  # the test's limit: a document one byte over it is refused as one over 15 MB is
API = "/api/v1/staff/disclosures/requests/receive/"
WRITES = ("disclosure.receive", "disclosure.document_add")  # the audit lines of an intake (reads leave their own)


@pytest.fixture
def small_limit(monkeypatch):
    monkeypatch.setattr(intake, "DOCUMENT_MAX_BYTES", SMALL_LIMIT)


def _nothing_stored() -> bool:
    return not (DisclosureRequest.objects.exists() or DisclosureDocument.objects.exists()
                or LegalHold.objects.exists() or AuditEntry.objects.filter(action__in=WRITES).exists())


def _page_form(authority, **extra) -> dict:
    today = now().date()
    return {"authority": authority.pk, "reference": "PV-DOC-1", "legal_basis": "sv_126n",
            "categories": ["traffic_data"], "numbers": "020 555 0101",
            "window_start": (today - timedelta(days=30)).isoformat(), "window_end": today.isoformat(),
            "deadline": (now() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"), "document_is_order": "on", **extra}


def _error_of(page: str, field: str) -> str:
    """The text of the error list Django renders before `field` ("" when there is none)."""
    marker = f'id="id_{field}_error">'
    return page.split(marker, 1)[1].split("</ul>", 1)[0] if marker in page else ""


def _api_body(authority, content: bytes | None, **extra) -> dict:
    body = {"authority": authority.pk, "reference": "API-DOC-1", "legal_basis": "sv_126n",
            "categories": ["traffic_data"], "numbers": [ALICE_NUMBER],
            "window_start": (now() - timedelta(days=5)).isoformat(), "window_end": now().isoformat(),
            "deadline": (now() + timedelta(days=1)).isoformat(), **extra}
    if content is not None:
        body |= {"document_base64": base64.b64encode(content).decode(), "document_title": "vordering.pdf",
                 "document_content_type": "application/pdf", "document_is_order": True}
    return body


def _api(user) -> APIClient:
    client = APIClient()
    verified_client(client, user)
    return client


class IntakePageDocumentTests:
    def test_a_document_over_the_limit_is_refused_at_its_field_and_leaves_no_request(
            self, client, legal1, authority, small_limit):
        c = verified_client(client, legal1)
        upload = SimpleUploadedFile("vordering.pdf", b"%PDF-" + b"x" * (SMALL_LIMIT - 4), "application/pdf")
        r = c.post(reverse("disclosures:request-new"), _page_form(authority, document=upload))
        assert r.status_code == 400
        assert "The document is larger than 1 MB" in _error_of(r.content.decode(), "document")
        assert 'value="PV-DOC-1"' in r.content.decode()  # the rest of the form is kept, to send again
        assert _nothing_stored()

    def test_a_document_at_the_limit_is_taken_in_with_its_request(self, client, legal1, authority, small_limit):
        c = verified_client(client, legal1)
        upload = SimpleUploadedFile("vordering.pdf", b"%PDF-" + b"x" * (SMALL_LIMIT - 5), "application/pdf")
        r = c.post(reverse("disclosures:request-new"), _page_form(authority, document=upload))
        assert r.status_code == 302
        req = DisclosureRequest.objects.get(reference="PV-DOC-1")
        doc = req.documents.get()
        assert doc.size == SMALL_LIMIT and doc.is_written_order and req.written_order_at is not None

    def test_a_refused_request_stores_no_document_either(self, client, legal1, authority):
        c = verified_client(client, legal1)
        upload = SimpleUploadedFile("vordering.pdf", b"%PDF-1.7 order", "application/pdf")
        r = c.post(reverse("disclosures:request-new"), _page_form(authority, document=upload, legal_basis="sv_126na"))
        assert r.status_code == 400 and "does not allow these data categories" in r.content.decode()
        assert _nothing_stored()


class IntakeApiDocumentTests:
    def test_a_document_over_the_limit_is_refused_naming_its_field_and_leaves_no_request(
            self, legal1, authority, small_limit):
        r = _api(legal1).post(API, _api_body(authority, b"%PDF-" + b"x" * (SMALL_LIMIT - 4)), format="json")
        assert r.status_code == 400, r.json()
        assert r.json()["field"] == "document_base64" and "larger than 1 MB" in r.json()["detail"]
        assert _nothing_stored()

    def test_an_empty_or_garbled_document_is_refused_at_its_field(self, legal1, authority):
        api = _api(legal1)
        for body in (_api_body(authority, b""), _api_body(authority, None, document_base64="%%%")):
            r = api.post(API, body, format="json")
            assert r.status_code == 400 and "document_base64" in r.json(), r.json()
        r = api.post(API, _api_body(authority, None, document_is_order=True), format="json")
        assert r.status_code == 400 and "document_base64" in r.json(), r.json()
        assert _nothing_stored()

    def test_a_request_with_its_written_order_is_taken_in_in_one_call(self, legal1, authority):
        r = _api(legal1).post(API, _api_body(authority, b"%PDF-1.7 order"), format="json")
        assert r.status_code == 201, r.json()
        assert r.json()["written_order_missing"] is False and r.json()["written_order_at"] is not None
        doc = DisclosureRequest.objects.get(pk=r.json()["id"]).documents.get()
        assert (doc.title, doc.content_type, doc.size, doc.is_written_order) == ("vordering.pdf", "application/pdf",
                                                                                 14, True)

    def test_the_api_takes_at_most_what_intake_takes(self):
        """The serializer's cap on the base64 text is the base64 length of intake's largest document, so the
        API and the page refuse at the same size."""
        field = RequestReceiveApi.InputSerializer().fields["document_base64"]
        assert field.max_length == 4 * math.ceil(DOCUMENT_MAX_BYTES / 3)


class IntakeServiceDocumentTests:
    @pytest.mark.parametrize("content", [b"", b"x" * (SMALL_LIMIT + 1)])
    def test_it_checks_the_document_before_it_stores_anything(self, legal1, authority, small_limit, content):
        with pytest.raises(ApplicationError) as exc:
            disclosure_request_take_in(
                actor=legal1, document=ReceivedDocument(content=content, is_written_order=True), authority=authority,
                reference="SRV-1", legal_basis="sv_126n", categories=["traffic_data"], numbers=[ALICE_NUMBER],
                window_start=now() - timedelta(days=5), window_end=now(), deadline=now() + timedelta(days=1))
        assert exc.value.extra["field"] == "document"
        assert _nothing_stored()
