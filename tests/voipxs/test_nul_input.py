"""A NUL byte in a query or form value, or in the path, reached PostgreSQL from pages that read the posted text
themselves (no form field to refuse it) and failed the request (500, "A string literal cannot contain NUL"): a click-to-
call token's name, the DPO's answer to a privacy request, an officer's note verifying an authority, a retention
category in the path. PostgreSQL text cannot hold NUL, so every such request is now refused before any view, 400
naming the field in Django's own words ("Null characters are not allowed."); JSON bodies are the serializers' (DRF's
CharField refuses NUL at its field). The 500s were PostgreSQL's only; the refusal is the same on SQLite."""
from __future__ import annotations

from urllib.parse import urlencode

import pytest

from accounts.dsr.models import DataSubjectRequest
from accounts.models import CallSetupToken
from accounts.dsr.services import dsr_request_create, dsr_request_start
from tests.factories import verified_client

pytestmark = pytest.mark.django_db

REFUSED = "Null characters are not allowed."
# As a browser posts these pages' forms (the test client's default is multipart).
FORM = "application/x-www-form-urlencoded"


def test_a_click_to_call_token_name_with_nul_is_refused_naming_it(client, alice):
    response = verified_client(client, alice).post("/accounts/security/call-setup-tokens/",
                                                   urlencode({"name": "pc\x00"}), content_type=FORM)
    assert response.status_code == 400 and response.content.decode() == f"name: {REFUSED}"
    assert not CallSetupToken.objects.filter(user=alice).exists()


def test_the_dpos_answer_with_nul_is_refused_naming_it(client, dpo, alice):
    req = dsr_request_start(request=dsr_request_create(user=alice, kind=DataSubjectRequest.Kind.ACCESS), actor=dpo)
    response = verified_client(client, dpo).post(f"/privacy-requests/dpo/{req.pk}/",
                                                 urlencode({"action": "reject", "text": "no\x00", "confirm": "yes"}),
                                                 content_type=FORM)
    assert response.status_code == 400 and response.content.decode() == f"text: {REFUSED}"
    assert DataSubjectRequest.objects.get(pk=req.pk).status == req.status


def test_a_nul_in_the_path_is_refused(client, dpo):
    response = verified_client(client, dpo).post("/retention/policies/cdr%00billed/", "change_reason=x",
                                                 content_type=FORM)
    assert response.status_code == 400 and response.content.decode() == f"path: {REFUSED}"


def test_a_nul_in_a_query_is_refused_and_the_api_answers_json(client, alice):
    response = verified_client(client, alice).get("/api/v1/me/calls/", {"number": "+3120555\x000101"})
    assert response.status_code == 400 and response.json() == {"number": [REFUSED]}


def test_a_nul_in_a_field_name_is_shown_escaped(client, alice):
    response = verified_client(client, alice).get("/calls/", {"a\x00b": "1"})
    assert response.status_code == 400 and response.content.decode() == f"a\\0b: {REFUSED}"


def test_the_refusal_is_in_the_page_language(client, alice):
    client.cookies["django_language"] = "nl"
    response = verified_client(client, alice).get("/calls/", {"since": "\x00"})
    assert response.status_code == 400 and response.content.decode() == "since: Null-tekens zijn niet toegestaan."
