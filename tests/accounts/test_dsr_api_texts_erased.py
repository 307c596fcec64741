"""The person's API says whether, and when, the texts of a request of theirs were erased with their account's data
(`texts_erased_at`, read-only, documented in the OpenAPI schema), as the DPO's page does: null while they are kept."""
from __future__ import annotations

import pytest
from django.utils.dateparse import parse_datetime
from django.utils.timezone import now

from accounts.dsr.models import DataSubjectRequest
from accounts.dsr.services import dsr_request_create
from tests.accounts.helpers import _fresh_cache  # noqa: F401  (the API's rate limits start afresh)

URL = "/api/v1/me/privacy-requests/"


@pytest.mark.django_db
class MyRequestsTextsErasedTests:
    def test_it_is_null_while_the_texts_are_kept(self, client, alice):
        dsr_request_create(user=alice, kind=DataSubjectRequest.Kind.RECTIFICATION, details="My label is wrong.")
        client.force_login(alice)
        [row] = client.get(URL).json()
        assert row["texts_erased_at"] is None

    def test_it_says_when_they_were_erased(self, client, alice):
        req = dsr_request_create(user=alice, kind=DataSubjectRequest.Kind.RESTRICTION, details="Stop it.")
        stamp = now().replace(microsecond=0)
        DataSubjectRequest.objects.filter(pk=req.pk).update(details="", texts_erased_at=stamp)
        client.force_login(alice)
        [row] = client.get(URL).json()
        assert parse_datetime(row["texts_erased_at"]) == stamp

    def test_it_cannot_be_set_through_the_api(self, client, alice):
        client.force_login(alice)
        response = client.post(URL, {"kind": "access", "texts_erased_at": now().isoformat()},
                               content_type="application/json")
        assert response.status_code == 201 and response.json()["texts_erased_at"] is None
        assert not DataSubjectRequest.objects.filter(texts_erased_at__isnull=False).exists()

    def test_the_schema_documents_it_as_read_only(self, client, alice):
        client.force_login(alice)
        schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
        field = schema["components"]["schemas"]["MyPrivacyRequest"]["properties"]["texts_erased_at"]
        assert (field["type"], field["format"], field.get("nullable"), field.get("readOnly")) == (
            "string", "date-time", True, True)
        assert "erased with your account" in field["description"]
