"""The authority's encryption certificate through the legal officers' API: one officer proposes a change, another
confirms it naming the fingerprint they compared, or it is discarded; each refusal is a 400 naming the field,
and only legal officers reach it (tests/disclosures/test_authority_certificate.py has the service and the page)."""
from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from disclosures.models import Authority
from tests.factories import verified_client

from .certificates import make_recipient, police_recipient

pytestmark = pytest.mark.django_db

BASE = "/api/v1/staff/disclosures/authorities"


def _api(user) -> APIClient:
    api = APIClient()
    verified_client(api, user)
    return api


def test_one_officer_proposes_and_another_confirms(legal1, legal3, bare):
    proposed = _api(legal3).post(f"{BASE}/{bare.pk}/certificate/",
                                 {"certificate": police_recipient().certificate_pem}, format="json")
    assert proposed.status_code == 200
    fingerprint = proposed.json()["certificate_proposed_sha256"]
    assert len(fingerprint) == 64 and proposed.json()["certificate_sha256"] == ""
    assert proposed.json()["certificate_proposed_by"] == legal3.pk

    alone = _api(legal3).post(f"{BASE}/{bare.pk}/certificate/confirm/", {"proposed_sha256": fingerprint}, format="json")
    assert alone.status_code == 400 and alone.json()["field"] == "confirmed_by"
    other = _api(legal1).post(f"{BASE}/{bare.pk}/certificate/confirm/", {"proposed_sha256": "0" * 64}, format="json")
    assert other.status_code == 400 and other.json()["field"] == "proposed_sha256"
    assert Authority.objects.get(pk=bare.pk).certificate == ""

    done = _api(legal1).post(f"{BASE}/{bare.pk}/certificate/confirm/", {"proposed_sha256": fingerprint}, format="json")
    assert done.status_code == 200
    assert done.json()["certificate_sha256"] == fingerprint and done.json()["certificate_proposed_at"] is None
    listed = {row["id"]: row for row in _api(legal1).get(f"{BASE}/").json()}
    assert listed[bare.pk]["certificate_sha256"] == fingerprint


def test_a_bad_certificate_is_a_400_naming_the_field_and_a_proposal_can_be_discarded(legal1, legal3, bare):
    api = _api(legal3)
    bad = api.post(f"{BASE}/{bare.pk}/certificate/", {"certificate": make_recipient(key_size=1024).certificate_pem},
                   format="json")
    assert bad.status_code == 400 and bad.json()["field"] == "certificate"
    nothing = api.post(f"{BASE}/{bare.pk}/certificate/discard/")
    assert nothing.status_code == 400 and nothing.json()["field"] == "certificate"
    api.post(f"{BASE}/{bare.pk}/certificate/", {"certificate": police_recipient().certificate_pem}, format="json")
    discarded = _api(legal1).post(f"{BASE}/{bare.pk}/certificate/discard/")
    assert discarded.status_code == 200 and discarded.json()["certificate_proposed_at"] is None


def test_only_legal_officers_reach_it(alice, dpo, bare):
    for user in (alice, dpo):
        for path in ("certificate/", "certificate/confirm/", "certificate/discard/"):
            answer = _api(user).post(f"{BASE}/{bare.pk}/{path}", {"certificate": police_recipient().certificate_pem,
                                                                  "proposed_sha256": ""}, format="json")
            assert answer.status_code == 403, path
    assert Authority.objects.get(pk=bare.pk).certificate_proposed_at is None


def test_the_schema_documents_it(client, legal1):
    verified_client(client, legal1)
    paths = client.get("/api/schema/?format=json").json()["paths"]
    for path in ("certificate/", "certificate/confirm/", "certificate/discard/"):
        assert "post" in paths[f"{BASE}/{{id}}/{path}"]
