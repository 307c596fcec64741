"""The representative's proof of authority, uploaded by support with a request made through a representative: a PDF,
JPEG or PNG of at most 5 MB, told apart by its own bytes, kept encrypted, opened by the DPO only (purpose and audit),
said in the person's export to be kept, deleted with the representative's name when the account is erased, and
re-encrypted by rotate_keys. A wrong file is a field error on the support card, never a 500."""
from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from accounts.dsr.models import DataSubjectRequest, ExportFile, RepresentativeProof
from accounts.dsr.representative import (
    PROOF_EXTENSIONS,
    PROOF_MAX_BYTES,
    PROOF_WRONG_TYPE,
    representative_proof_check,
    representative_proof_content,
    representative_proof_rotate,
)
from accounts.dsr.services import dsr_request_create
from accounts.support.services import support_request_open
from tests import file_samples as samples
from tests.accounts.dsr_helpers import export_json, section
from tests.factories import PASSWORD, verified_client
from voipxs.exceptions import ApplicationError
from voipxs.privacy import crypto
from voipxs.privacy.models import AuditEntry
from voipxs.privacy.registry import rotators

pytestmark = pytest.mark.django_db

NAME = "Mr. A.B. de Vries-Representant"
PDF = b"%PDF-1.7\n1 0 obj <</Type /Catalog>> endobj\n% Volmacht van Jansen aan De Vries\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
FIELDS = {"kind": "restriction", "representative_kind": "power_of_attorney", "representative_name": NAME,
          "authority_checked": "on"}


@pytest.fixture(autouse=True)
def _private_dir(settings, tmp_path):
    settings.PRIVATE_FILES_DIR = tmp_path


def _post(client, user, upload, **fields):
    return client.post(f"/support/customers/{user.pk}/requests/", {**FIELDS, **fields, "proof": upload})


def _with_proof(support, user, content: bytes = PDF) -> DataSubjectRequest:
    return support_request_open(actor=support, user=user, kind="restriction", representative_kind="lawyer",
                                representative_name=NAME, authority_checked=True, proof=content)


class ProofUploadTests:
    def test_support_uploads_it_it_is_kept_encrypted_and_the_dpo_downloads_it(self, client, support, alice, dpo):
        done = _post(verified_client(client, support), alice,
                     SimpleUploadedFile("volmacht-jansen.pdf", PDF, content_type="application/pdf"))
        assert done.status_code == 302
        req = DataSubjectRequest.objects.get(user=alice)
        proof = RepresentativeProof.objects.get(request=req)
        assert (proof.content_type, proof.size) == ("application/pdf", len(PDF))
        assert b"Volmacht" not in bytes(proof.content_enc) and b"%PDF" not in bytes(proof.content_enc)
        assert AuditEntry.objects.get(action="dsr.representative_proof_add").extra == {
            "content_type": "application/pdf", "size": len(PDF)}
        client.logout()

        c = verified_client(client, dpo)
        page = c.get(f"/privacy-requests/dpo/{req.pk}/").content.decode()
        assert "Download the proof of authority" in page and "(PDF, " in page
        assert "jansen" not in page.lower()  # the file's own name is not kept
        download = c.get(f"/privacy-requests/dpo/{req.pk}/proof-of-authority/")
        assert download.status_code == 200 and download.content == PDF
        assert download["Content-Type"] == "application/pdf" and "no-store" in download["Cache-Control"]
        assert download["Content-Disposition"] == f'attachment; filename="proof-of-authority-{req.pk}.pdf"'
        read = AuditEntry.objects.get(action="dsr.representative_proof_get")
        assert read.purpose == "legal_obligation"

    @pytest.mark.parametrize("content, said, kept, extension", [
        (PNG, "application/pdf", "image/png", "png"), (JPEG, "image/png", "image/jpeg", "jpg")])
    def test_the_type_comes_from_the_file_not_from_the_browser(self, client, support, alice, dpo, content, said,
                                                                kept, extension):
        _post(verified_client(client, support), alice, SimpleUploadedFile("scan", content, content_type=said))
        req = DataSubjectRequest.objects.get(user=alice)
        client.logout()
        download = verified_client(client, dpo).get(f"/privacy-requests/dpo/{req.pk}/proof-of-authority/")
        assert download["Content-Type"] == kept and download["Content-Disposition"].endswith(f'.{extension}"')

    def test_a_request_without_an_upload_says_so_to_the_dpo(self, client, support, alice, dpo):
        req = support_request_open(actor=support, user=alice, kind="restriction", representative_kind="lawyer",
                                   representative_name=NAME, authority_checked=True)
        c = verified_client(client, dpo)
        page = c.get(f"/privacy-requests/dpo/{req.pk}/").content.decode()
        assert "Support did not upload a copy of the proof." in page and "Download the proof" not in page
        assert c.get(f"/privacy-requests/dpo/{req.pk}/proof-of-authority/").status_code == 404

    @pytest.mark.parametrize("who", ["support", "alice"])
    def test_only_the_dpo_opens_it(self, client, support, alice, who):
        req = _with_proof(support, alice)
        user = support if who == "support" else alice
        response = verified_client(client, user).get(f"/privacy-requests/dpo/{req.pk}/proof-of-authority/")
        assert response.status_code == 403 and PDF not in response.content
        assert not AuditEntry.objects.filter(action="dsr.representative_proof_get").exists()

    @pytest.mark.parametrize("upload, fields, field, words", [
        (SimpleUploadedFile("a.txt", b"I, Jansen, authorise", content_type="application/pdf"), {}, "proof",
         "upload a PDF, JPEG or PNG file"),
        (SimpleUploadedFile("big.pdf", b"%PDF-" + b"0" * PROOF_MAX_BYTES), {}, "proof", "at most 5 MB"),
        (SimpleUploadedFile("empty.pdf", b""), {}, "proof", "empty"),
        (SimpleUploadedFile("a.pdf", PDF), {"representative_kind": "", "representative_name": "",
                                            "authority_checked": ""}, "representative_kind",
         "choose the kind of representative"),
        (SimpleUploadedFile("a.pdf", PDF), {"authority_checked": ""}, "authority_checked",
         "check the representative"),
    ])
    def test_a_wrong_file_is_a_field_error_and_records_nothing(self, client, support, alice, upload, fields,
                                                                field, words):
        response = _post(verified_client(client, support), alice, upload, **fields)
        assert response.status_code == 400
        page = response.content.decode().replace("&#x27;", "'")
        error = page.split(f'id="id_{field}_error"', 1)
        assert len(error) == 2 and words in error[1].split("</ul>", 1)[0], page
        assert not DataSubjectRequest.objects.exists() and not RepresentativeProof.objects.exists()

    def test_a_large_proof_never_lies_in_a_temporary_file_in_plain_text(self, client, support, alice, monkeypatch):
        def refuse(*args, **kwargs):
            raise AssertionError("the upload went to a temporary file")

        monkeypatch.setattr("django.core.files.uploadhandler.TemporaryUploadedFile", refuse)
        big = b"%PDF-" + b"0" * (3 * 1024 * 1024)  # above Django's FILE_UPLOAD_MAX_MEMORY_SIZE (2.5 MB)
        done = _post(verified_client(client, support), alice, SimpleUploadedFile("big.pdf", big))
        assert done.status_code == 302 and RepresentativeProof.objects.get().size == len(big)

    def test_the_card_form_can_send_a_file(self, client, support, alice):
        page = verified_client(client, support).get(f"/support/customers/{alice.pk}/").content.decode()
        form = page.split(f'action="/support/customers/{alice.pk}/requests/"', 1)[1].split("</form>", 1)[0]
        assert form.split(">", 1)[0].strip().startswith('class="form" enctype="multipart/form-data"')
        assert 'type="file" name="proof"' in form and 'accept="application/pdf,image/jpeg,image/png"' in form


class ProofLifeTests:
    def test_the_persons_export_says_a_copy_is_kept(self, support, alice, django_capture_on_commit_callbacks):
        agent_req = _with_proof(support, alice)
        with django_capture_on_commit_callbacks(execute=True):
            own = dsr_request_create(user=alice, kind=DataSubjectRequest.Kind.ACCESS)
        rows = {r["id"]: r for r in section(export_json(ExportFile.objects.get(request=own)), "requests")["rows"]}
        assert rows[agent_req.pk]["representative_proof_kept"] is True
        assert rows[own.pk]["representative_proof_kept"] is False

    def test_erasure_deletes_it_and_the_dpo_is_told(self, client, support, alice, dpo):
        req = _with_proof(support, alice)
        verified_client(client, alice)
        client.post("/privacy-requests/new/", {"kind": "erasure", "password": PASSWORD, "confirm": "yes"})
        client.logout()

        assert not RepresentativeProof.objects.exists()
        assert AuditEntry.objects.get(action="dsr.erase").extra["representative_proofs_deleted"] == 1
        c = verified_client(client, dpo)
        page = c.get(f"/privacy-requests/dpo/{req.pk}/").content.decode()
        assert "their name and any proof of authority were erased on" in page
        assert "Download the proof of authority" not in page and "Support did not upload" not in page
        assert c.get(f"/privacy-requests/dpo/{req.pk}/proof-of-authority/").status_code == 404

    def test_rotate_keys_re_encrypts_it_under_the_newest_key(self, settings, support, alice):
        keys = list(settings.FIELD_ENCRYPTION_KEYS)
        with override_settings(FIELD_ENCRYPTION_KEYS=keys[::-1]):  # an "old" key first
            req = _with_proof(support, alice)
        proof = RepresentativeProof.objects.get(request=req)
        assert crypto.needs_rotation(bytes(proof.content_enc))
        assert representative_proof_rotate() == {"scanned": 1, "rotated": 1, "undecryptable": 0}
        proof.refresh_from_db()
        assert not crypto.needs_rotation(bytes(proof.content_enc)) and representative_proof_content(proof) == PDF
        assert "accounts.RepresentativeProof" in rotators()


class ProofKindsTests:
    """The proof's kinds are read by the rules intake's documents use (voipxs.privacy.filetypes); sharing them
    widened nothing: a TIFF, a signed file or an XML file is no proof, as before."""

    def test_it_takes_a_pdf_jpeg_or_png_as_before(self):
        assert [representative_proof_check(content=c) for c in (PDF, PNG, JPEG)] == [
            "application/pdf", "image/png", "image/jpeg"]
        assert PROOF_EXTENSIONS == {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg"}

    @pytest.mark.parametrize("content", [samples.TIFF_LE, samples.XML_BOM, samples.cms_signed(),
                                         samples.REFUSED["executable"]])
    def test_it_refuses_what_intake_takes_and_a_proof_is_not(self, content):
        with pytest.raises(ApplicationError) as exc:
            representative_proof_check(content=content)
        assert exc.value.extra == {"field": "proof"} and exc.value.message == PROOF_WRONG_TYPE
