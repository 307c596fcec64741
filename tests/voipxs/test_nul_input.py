"""A NUL byte in a query or form value, or in the path, reached PostgreSQL from pages that read the posted text
themselves (no form field to refuse it) and failed the request (500, "A string literal cannot contain NUL"): a click-to-
call token's name, the DPO's answer to a privacy request, an officer's note verifying an authority, a retention
category in the path. PostgreSQL text cannot hold NUL, so every such request is now refused before any view, 400
naming the field in Django's own words ("Null characters are not allowed."); JSON bodies are the serializers' (DRF's
CharField refuses NUL at its field). The 500s were PostgreSQL's only; the refusal is the same on SQLite."""
from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.dsr.models import DataSubjectRequest
from accounts.models import CallSetupToken
from accounts.dsr.services import dsr_request_create, dsr_request_start
from tests.factories import verified_client

pytestmark = pytest.mark.django_db

REFUSED = "Null characters are not allowed."
# As a browser posts these pages' forms without a file (the test client's default is multipart, as a browser posts a
# form with a file).
FORM = "application/x-www-form-urlencoded"


def refused(response) -> str:
    """The refusal as the 400 page shows it: "field: message"."""
    assert response.status_code == 400 and response["Content-Type"].startswith("text/html")
    found = re.search(r'<p id="refused-field"><code>(.*?)</code>: (.*?)</p>', response.content.decode())
    assert found is not None, response.content[:300]
    return f"{found[1]}: {found[2]}"


def test_a_click_to_call_token_name_with_nul_is_refused_naming_it(client, alice):
    response = verified_client(client, alice).post("/accounts/security/call-setup-tokens/",
                                                   urlencode({"name": "pc\x00"}), content_type=FORM)
    assert refused(response) == f"name: {REFUSED}"
    assert not CallSetupToken.objects.filter(user=alice).exists()


def test_the_dpos_answer_with_nul_is_refused_naming_it(client, dpo, alice):
    req = dsr_request_start(request=dsr_request_create(user=alice, kind=DataSubjectRequest.Kind.ACCESS), actor=dpo)
    response = verified_client(client, dpo).post(f"/privacy-requests/dpo/{req.pk}/",
                                                 urlencode({"action": "reject", "answer": "no\x00", "confirm": "yes"}),
                                                 content_type=FORM)
    assert refused(response) == f"answer: {REFUSED}"
    assert DataSubjectRequest.objects.get(pk=req.pk).status == req.status


def test_a_nul_in_the_path_is_refused(client, dpo):
    response = verified_client(client, dpo).post("/retention/policies/cdr%00billed/", "change_reason=x",
                                                 content_type=FORM)
    assert refused(response) == f"path: {REFUSED}"


def test_a_nul_in_a_query_is_refused_and_the_api_answers_json(client, alice):
    response = verified_client(client, alice).get("/api/v1/me/calls/", {"number": "+3120555\x000101"})
    assert response.status_code == 400 and response.json() == {"number": [REFUSED]}


def test_a_nul_in_a_field_name_is_shown_escaped(client, alice):
    response = verified_client(client, alice).get("/calls/", {"a\x00b": "1"})
    assert refused(response) == f"a\\0b: {REFUSED}"


def test_the_refusal_is_in_the_page_language(client, alice):
    client.cookies["django_language"] = "nl"
    response = verified_client(client, alice).get("/calls/", {"since": "\x00"})
    assert refused(response) == "since: Null-tekens zijn niet toegestaan."


# --- multipart forms (a browser sends one for a form with a file; the test client by default) ----------------------


def test_a_click_to_call_token_name_with_nul_sent_as_multipart_is_refused(client, alice):
    response = verified_client(client, alice).post("/accounts/security/call-setup-tokens/", {"name": "pc\x00"})
    assert refused(response) == f"name: {REFUSED}"
    assert not CallSetupToken.objects.filter(user=alice).exists()


def test_the_dpos_answer_with_nul_sent_as_multipart_is_refused(client, dpo, alice):
    req = dsr_request_start(request=dsr_request_create(user=alice, kind=DataSubjectRequest.Kind.ACCESS), actor=dpo)
    response = verified_client(client, dpo).post(f"/privacy-requests/dpo/{req.pk}/",
                                                 {"action": "reject", "answer": "no\x00", "confirm": "yes"})
    assert refused(response) == f"answer: {REFUSED}"
    assert DataSubjectRequest.objects.get(pk=req.pk).status == req.status


def test_a_nul_in_a_text_field_next_to_a_proof_upload_is_refused(client, support, alice, settings, tmp_path):
    """Support's proof upload sets its own upload handler in the view (csrf_exempt until then): the text fields are
    checked when the view reads them, after that handler ran."""
    settings.PRIVATE_FILES_DIR = tmp_path
    response = verified_client(client, support).post(f"/support/customers/{alice.pk}/requests/", {
        "kind": "restriction", "representative_kind": "power_of_attorney", "representative_name": "Mr. X\x00",
        "authority_checked": "on", "proof": SimpleUploadedFile("p.pdf", b"%PDF-1.7\n%%EOF\n")})
    assert refused(response) == f"representative_name: {REFUSED}"
    assert not DataSubjectRequest.objects.filter(user=alice).exists()


def test_a_nul_in_an_uploaded_cdr_file_is_reported_by_line_not_refused(client, billing_staff, settings, tmp_path,
                                                                       django_capture_on_commit_callbacks):
    """A file's contents are no text field: the importer rejects the row with the NUL, keeps the others."""
    from tests.traffic.test_import_api import master_csv
    from traffic.models import Cdr, CdrImport
    from traffic.services.sources import source_create

    settings.PRIVATE_FILES_DIR = tmp_path
    source_create(name="pbx-nul", format="asterisk-csv", timezone="Europe/Amsterdam")
    client = verified_client(client, billing_staff)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/calls/staff/imports/", {
            "source": "pbx-nul", "file": SimpleUploadedFile("Master.csv", master_csv("n.1", "n.2\x00", "n.3"))})
    assert response.status_code == 302
    report = CdrImport.objects.get().report
    assert [row["line"] for row in report["rejected"]] == [2]
    assert sorted(Cdr.objects.values_list("unique_id", flat=True)) == ["n.1", "n.3"]


def test_a_nul_in_the_source_field_of_a_cdr_upload_is_refused(client, billing_staff, settings, tmp_path):
    from tests.traffic.test_import_api import master_csv
    from traffic.models import CdrImport

    settings.PRIVATE_FILES_DIR = tmp_path
    response = verified_client(client, billing_staff).post("/calls/staff/imports/", {
        "source": "pbx\x00", "file": SimpleUploadedFile("Master.csv", master_csv("m.1"))})
    assert refused(response) == f"source: {REFUSED}"
    assert not CdrImport.objects.exists()


# --- the refusal's page and the API's answer ---------------------------------------------------------------------


def test_the_refusal_is_the_sites_page_with_who_is_signed_in_and_no_trace(client, alice):
    response = verified_client(client, alice).get("/calls/", {"since": "\x00"})
    page = response.content.decode()
    assert refused(response) == f"since: {REFUSED}"
    assert 'class="site-header"' in page and alice.username in page and "Sign out" in page
    assert "<title>The request could not be read · VoIPXS</title>" in page
    assert "Traceback" not in page and "NulRefused" not in page


def test_the_apis_refusal_is_shaped_as_drfs_own(client, alice):
    from rest_framework.renderers import JSONRenderer

    response = verified_client(client, alice).get("/api/v1/me/calls/", {"number": "+3120555\x000101"})
    assert response.status_code == 400 and response["Content-Type"] == "application/json"
    assert response.content == JSONRenderer().render({"number": [REFUSED]})


def test_djangos_own_refusal_of_a_request_is_the_same_page(client, alice, settings):
    """Too many fields (DATA_UPLOAD_MAX_NUMBER_FIELDS): Django's SuspiciousOperation, answered by handler400."""
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 5
    response = verified_client(client, alice).post("/accounts/security/call-setup-tokens/",
                                                   urlencode({f"f{n}": "x" for n in range(10)}), content_type=FORM)
    page = response.content.decode()
    assert response.status_code == 400 and 'class="site-header"' in page
    assert "Go back, check what you entered and try again." in page


def test_the_refusal_page_is_in_dutch(client, alice):
    client.cookies["django_language"] = "nl"
    page = verified_client(client, alice).get("/calls/", {"since": "\x00"}).content.decode()
    assert "The request could not be read" not in page


@pytest.mark.parametrize("path, fields", [
    ("/accounts/security/call-setup-tokens/", {"name": "pc\x00"}),
    ("/support/customers/{pk}/requests/", {"kind": "restriction", "representative_name": "X\x00",
                                           "proof": SimpleUploadedFile("p.pdf", b"%PDF-1.7\n%%EOF\n")}),
])
def test_a_browsers_multipart_post_with_nul_is_refused_without_an_error_logged(path, fields, alice, support, caplog,
                                                                               settings, tmp_path):
    """As a browser posts it, with its CSRF token: the CSRF check reads the body before the view (or, for support's
    proof upload, the view does). The refusal is the 400 page, and no error with a stack trace lands in the log (a
    SuspiciousOperation would: Django's security logger)."""
    from django.test import Client

    settings.PRIVATE_FILES_DIR = tmp_path
    client = verified_client(Client(enforce_csrf_checks=True), support if "support" in path else alice)
    client.get("/accounts/security/")
    token = client.cookies["csrftoken"].value
    response = client.post(path.format(pk=alice.pk), {**fields, "csrfmiddlewaretoken": token})
    assert refused(response).endswith(REFUSED)
    assert [r for r in caplog.records if r.levelno >= 40] == []


def test_a_foreign_host_gets_the_400_page_and_a_push_json(client, settings):
    """Django refuses a Host header not in ALLOWED_HOSTS before any view (DisallowedHost): the site's page; on the push
    path (its lean handler has no session and none of the site's routes) JSON, as its other refusals."""
    from tests.traffic.test_push_wsgi import _call
    from voipxs import wsgi

    settings.ALLOWED_HOSTS = ["testserver"]
    response = client.get("/", HTTP_HOST="evil.example")
    assert response.status_code == 400 and 'class="site-header"' in response.content.decode()
    status, headers, content = _call(wsgi.PUSH_PATH, body=b"cdr=x", host="evil.example")
    assert status == 400 and headers["Content-Type"] == "application/json" and b"detail" in content
