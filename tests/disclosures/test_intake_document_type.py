"""The kinds of document intake takes (services.intake.DOCUMENT_TYPES), read from the file's own bytes: what
authorities send (a PDF, a PNG, JPEG or TIFF scan, a signed or encrypted CMS file, an XML request) is stored with the
type read from it, whatever the uploader claimed; anything else (an executable, a ZIP or Office file, a page, plain
text, an e-mail) is refused at the document's field and stores nothing, on the service, the API and the pages."""
from __future__ import annotations

import base64
import io
from datetime import timedelta

import pytest
import yaml
from cryptography.hazmat.primitives.serialization import Encoding
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from django.utils.timezone import now

from disclosures.forms import ConvertForm, DocumentForm, RequestForm
from disclosures.models import DisclosureDocument
from disclosures.services.intake import (
    DOCUMENT_TYPES,
    DOCUMENT_WRONG_TYPE,
    ReceivedDocument,
    disclosure_document_add,
    disclosure_request_take_in,
)
from disclosures.services.preservation import disclosure_preservation_convert
from disclosures.transitions import CLAIMED_TYPE_HELP, DOCUMENT_HELP
from tests import file_samples as samples
from tests.factories import verified_client
from voipxs.exceptions import ApplicationError
from voipxs.models import AuditEntry

from .certificates import police_recipient
from .conftest import ALICE_NUMBER, receive
from .test_intake_document import API, _api, _api_body, _error_of, _nothing_stored, _page_form

pytestmark = pytest.mark.django_db

# The bytes of each kind taken, and the content type stored for it.
TAKEN = {
    "pdf": (lambda: samples.PDF, "application/pdf"),
    "png": (lambda: samples.PNG, "image/png"),
    "jpeg": (lambda: samples.JPEG, "image/jpeg"),
    "tiff little-endian": (lambda: samples.TIFF_LE, "image/tiff"),
    "tiff big-endian": (lambda: samples.TIFF_BE, "image/tiff"),
    "signed p7m": (samples.cms_signed, "application/pkcs7-mime"),
    "detached p7s": (lambda: samples.cms_signed(detached=True), "application/pkcs7-mime"),
    "signed, BER": (samples.cms_signed_ber, "application/pkcs7-mime"),
    "encrypted p7m": (lambda: samples.cms_enveloped(police_recipient().certificate), "application/pkcs7-mime"),
    "signed, PEM": (lambda: samples.cms_signed(encoding=Encoding.PEM), "application/x-pem-file"),
    "xml with a byte order mark": (lambda: samples.XML_BOM, "application/xml"),
}
REFUSED = sorted(samples.REFUSED)
DOCUMENT_ADDS = "disclosure.document_add"


def _take_in(actor, authority, content: bytes, *, claimed: str = "application/pdf"):
    return disclosure_request_take_in(
        actor=actor, authority=authority, reference="SRV-TYPE-1", legal_basis="sv_126n", categories=["traffic_data"],
        numbers=[ALICE_NUMBER], window_start=now() - timedelta(days=5), window_end=now(),
        deadline=now() + timedelta(days=1),
        document=ReceivedDocument(content=content, title="vordering.pdf", content_type=claimed, is_written_order=True))


class IntakeDocumentTypeServiceTests:
    @pytest.mark.parametrize("name", sorted(TAKEN))
    def test_it_takes_each_kind_an_authority_sends_and_stores_the_type_it_read(self, legal1, authority, name):
        make, content_type = TAKEN[name]
        content = make()
        req = _take_in(legal1, authority, content, claimed="text/html")  # the claim is not what is stored
        doc = req.documents.get()
        assert (doc.content_type, doc.size) == (content_type, len(content))
        entry = AuditEntry.objects.get(action=DOCUMENT_ADDS)
        kind = next(t for t in DOCUMENT_TYPES if t.content_type == content_type)
        assert entry.extra["file_type"] == kind.code and "text/html" not in str(entry.extra)

    def test_a_png_said_to_be_a_pdf_is_stored_as_the_png_it_is(self, legal1, authority):
        req = receive(legal1, authority, with_order=False)
        doc = disclosure_document_add(actor=legal1, request=req, title="vordering.pdf", content=samples.PNG,
                                      content_type="application/pdf")
        assert DisclosureDocument.objects.get(pk=doc.pk).content_type == "image/png"

    @pytest.mark.parametrize("name", REFUSED)
    def test_it_refuses_any_other_file_at_the_document_field_and_stores_nothing(self, legal1, authority, name):
        with pytest.raises(ApplicationError) as exc:
            _take_in(legal1, authority, samples.REFUSED[name])
        assert exc.value.extra["field"] == "document" and exc.value.message == DOCUMENT_WRONG_TYPE
        assert _nothing_stored()

    def test_a_document_added_later_is_held_to_the_same_rule(self, legal1, authority):
        req = receive(legal1, authority, with_order=False)
        with pytest.raises(ApplicationError) as exc:
            disclosure_document_add(actor=legal1, request=req, title="order.pdf", content=samples.REFUSED["executable"],
                                    content_type="application/pdf", is_written_order=True)
        assert exc.value.extra["field"] == "document"
        assert not req.documents.exists() and not AuditEntry.objects.filter(action=DOCUMENT_ADDS).exists()
        req.refresh_from_db()
        assert req.written_order_at is None

    def test_a_production_order_converted_from_a_preservation_is_held_to_it_too(self, legal1, legal2, authority):
        preservation = receive(legal1, authority, basis="sv_126ni", with_order=True)
        with pytest.raises(ApplicationError) as exc:
            disclosure_preservation_convert(actor=legal2, request=preservation, legal_basis="sv_126n",
                                            reference="PV-PROD-T", order_document=samples.REFUSED["zip (docx, xlsm)"],
                                            order_document_title="vordering.docx", deadline=now() + timedelta(days=5))
        assert exc.value.extra["field"] == "order_document" and exc.value.message == DOCUMENT_WRONG_TYPE

    def test_the_refusal_names_every_kind_taken(self):
        names = {"pdf": "PDF", "png": "PNG", "jpeg": "JPEG", "tiff": "TIFF", "cms": ".p7m", "cms-pem": "PEM",
                 "xml": "XML"}
        assert {kind.code for kind in DOCUMENT_TYPES} == set(names)
        assert all(word in DOCUMENT_WRONG_TYPE for word in names.values())


class IntakeDocumentTypeApiTests:
    @pytest.mark.parametrize("name", ["executable", "zip (docx, xlsm)", "html", "plain text", "svg"])
    def test_the_receive_api_refuses_another_file_naming_its_field(self, legal1, authority, name):
        r = _api(legal1).post(API, _api_body(authority, samples.REFUSED[name]), format="json")
        assert r.status_code == 400, r.content
        assert r.json()["field"] == "document_base64" and "PDF" in r.json()["detail"] and "XML" in r.json()["detail"]
        assert _nothing_stored()

    def test_the_receive_api_stores_a_signed_order_as_signed_whatever_it_was_called(self, legal1, authority):
        body = _api_body(authority, samples.cms_signed(), document_content_type="text/plain")
        r = _api(legal1).post(API, body, format="json")
        assert r.status_code == 201, r.json()
        assert DisclosureDocument.objects.get().content_type == "application/pkcs7-mime"

    def test_the_document_api_refuses_at_its_own_field_and_answers_the_type_it_read(self, legal1, authority):
        req = receive(legal1, authority, with_order=False)
        url, api = f"/api/v1/staff/disclosures/requests/{req.pk}/documents/", _api(legal1)
        for content in (samples.REFUSED["executable"], samples.REFUSED["html doctype"]):
            body = {"title": "order.pdf", "content_base64": base64.b64encode(content).decode()}
            r = api.post(url, {**body, "content_type": "application/pdf"}, format="json")
            assert r.status_code == 400 and r.json()["field"] == "content_base64", r.content
        assert not req.documents.exists()
        body = {"title": "etsi.xml", "content_base64": base64.b64encode(samples.XML_BOM).decode()}
        r = api.post(url, body, format="json")
        assert r.status_code == 201 and r.json()["content_type"] == "application/xml", r.content

    def test_each_document_fields_help_ends_its_last_sentence(self):
        helps = [str(RequestForm().fields["document"].help_text), str(DocumentForm().fields["document"].help_text),
                 str(ConvertForm().fields["order_document"].help_text), DOCUMENT_HELP, CLAIMED_TYPE_HELP]
        assert all(text.endswith(".") and not text.endswith("..") for text in helps), helps

    def test_the_schema_names_the_kinds_taken_on_each_document_field(self):
        out = io.StringIO()
        call_command("spectacular", stdout=out, stderr=io.StringIO())
        components = yaml.safe_load(out.getvalue())["components"]["schemas"]
        for component, field in (("RequestReceiveApiInputRequest", "document_base64"),
                                 ("DocumentAddApiInputRequest", "content_base64"),
                                 ("RequestConvertApiInputRequest", "order_document_base64")):
            description = components[component]["properties"][field].get("description", "")
            assert all(word in description for word in ("PDF", "TIFF", ".p7m", "XML")), (component, description)


class IntakeDocumentTypePageTests:
    def test_the_intake_page_refuses_another_file_at_its_field_and_keeps_the_form(self, client, legal1, authority):
        c = verified_client(client, legal1)
        upload = SimpleUploadedFile("vordering.pdf", samples.REFUSED["executable"], "application/pdf")
        r = c.post(reverse("disclosures:request-new"), _page_form(authority, document=upload))
        page = r.content.decode()
        assert r.status_code == 400
        assert "not of a kind taken in" in _error_of(page, "document") and "TIFF" in _error_of(page, "document")
        assert 'value="PV-DOC-1"' in page
        assert _nothing_stored()

    def test_the_request_page_refuses_another_file_at_its_field_and_lists_a_scan_as_one(
            self, client, legal1, authority):
        req = receive(legal1, authority, with_order=False)
        c = verified_client(client, legal1)
        url = reverse("disclosures:transition", args=[req.pk, "document"])
        r = c.post(url, {"document": SimpleUploadedFile("brief.pdf", samples.REFUSED["html"], "application/pdf")})
        assert r.status_code == 400
        assert "not of a kind taken in" in _error_of(r.content.decode(), "document")
        assert not req.documents.exists()
        r = c.post(url, {"document": SimpleUploadedFile("scan.pdf", samples.TIFF_LE, "application/pdf")})
        assert r.status_code == 302
        page = c.get(reverse("disclosures:detail", args=[req.pk])).content.decode()
        assert "scan.pdf (image/tiff, 14 B" in page
