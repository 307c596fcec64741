"""An authority's e-mail domains through the legal officers' API: one officer proposes a new list, another confirms
it naming the list they checked, or it is discarded; bad input is a 400 naming the field (never a 500), and only
legal officers reach it (tests/disclosures/test_authority_domains.py has the service and the page)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils.timezone import now
from rest_framework.test import APIClient

from disclosures.models import Authority, AuthorityKind
from disclosures.services.authorities import authority_create, authority_verify
from tests.factories import verified_client
from voipxs.models import AuditEntry

from .conftest import ALICE_NUMBER

pytestmark = pytest.mark.django_db

BASE = "/api/v1/staff/disclosures/authorities"


@pytest.fixture
def police(legal1, legal2):
    body = authority_create(actor=legal1, name="Politie Eenheid Vier Ogen", kind=AuthorityKind.POLICE,
                            contact_phone="020 555 9999", email_domains=["politie.nl"])
    return authority_verify(actor=legal2, authority=body, note="checked against the official register")


def _api(user) -> APIClient:
    api = APIClient()
    verified_client(api, user)
    return api


def test_one_officer_proposes_and_another_confirms(legal1, legal3, police):
    proposed = _api(legal3).post(f"{BASE}/{police.pk}/domains/", {"email_domains": ["politie.nl", "OM.nl"]},
                                 format="json")
    assert proposed.status_code == 200
    out = proposed.json()
    assert out["email_domains"] == ["politie.nl"] and out["email_domains_proposed"] == ["om.nl", "politie.nl"]
    assert out["email_domains_proposed_by"] == legal3.pk and out["email_domains_proposed_at"] is not None

    url = f"{BASE}/{police.pk}/domains/confirm/"
    alone = _api(legal3).post(url, {"proposed_domains": ["om.nl", "politie.nl"]}, format="json")
    assert alone.status_code == 400 and alone.json()["field"] == "confirmed_by"
    other = _api(legal1).post(url, {"proposed_domains": ["politie.nl"]}, format="json")
    assert other.status_code == 400 and other.json()["field"] == "proposed_domains"
    assert Authority.objects.get(pk=police.pk).email_domains == ["politie.nl"]

    done = _api(legal1).post(url, {"proposed_domains": ["om.nl", "politie.nl"]}, format="json")
    assert done.status_code == 200
    assert done.json()["email_domains"] == ["om.nl", "politie.nl"] and done.json()["email_domains_proposed_at"] is None
    listed = {row["id"]: row for row in _api(legal1).get(f"{BASE}/").json()}
    assert listed[police.pk]["email_domains"] == ["om.nl", "politie.nl"]
    assert [e.action for e in AuditEntry.objects.filter(action__startswith="disclosure.authority_domains")
            .order_by("pk")] == ["disclosure.authority_domains_proposed", "disclosure.authority_domains"]


def test_a_proposal_can_be_discarded_and_nothing_to_discard_is_a_400(legal1, legal3, police):
    nothing = _api(legal3).post(f"{BASE}/{police.pk}/domains/discard/")
    assert nothing.status_code == 400 and nothing.json()["field"] == "email_domains"
    _api(legal3).post(f"{BASE}/{police.pk}/domains/", {"email_domains": ["politie-nl.com"]}, format="json")
    discarded = _api(legal1).post(f"{BASE}/{police.pk}/domains/discard/")
    assert discarded.status_code == 200 and discarded.json()["email_domains_proposed_at"] is None
    confirmed = _api(legal1).post(f"{BASE}/{police.pk}/domains/confirm/", {"proposed_domains": ["politie-nl.com"]},
                                  format="json")
    assert confirmed.status_code == 400 and confirmed.json()["field"] == "email_domains"
    assert Authority.objects.get(pk=police.pk).email_domains == ["politie.nl"]


@pytest.mark.parametrize("body", [
    {}, {"proposed_domains": "politie.nl"}, {"proposed_domains": None}, {"proposed_domains": [{"a": 1}]},
    {"proposed_domains": ["x" * 254]}, {"proposed_domains": [f"d{i}.nl" for i in range(101)]},
], ids=["missing", "text", "null", "objects", "too-long-name", "too-many"])
def test_a_bad_confirmation_is_a_400_naming_the_field(legal1, legal3, police, body):
    _api(legal3).post(f"{BASE}/{police.pk}/domains/", {"email_domains": ["politie-nl.com"]}, format="json")
    answer = _api(legal1).post(f"{BASE}/{police.pk}/domains/confirm/", body, format="json")
    assert answer.status_code == 400 and "proposed_domains" in answer.json()
    assert Authority.objects.get(pk=police.pk).email_domains == ["politie.nl"]


def test_a_bad_proposal_is_a_400_naming_the_field_and_keeps_the_waiting_one(legal3, police):
    api = _api(legal3)
    api.post(f"{BASE}/{police.pk}/domains/", {"email_domains": ["om.nl"]}, format="json")
    bad = api.post(f"{BASE}/{police.pk}/domains/", {"email_domains": ["desk@politie-nl.com"]}, format="json")
    assert bad.status_code == 400 and bad.json()["field"] == "email_domains"
    assert Authority.objects.get(pk=police.pk).email_domains_proposed == ["om.nl"]


def test_an_unknown_authority_is_a_404(legal1):
    for path in ("domains/confirm/", "domains/discard/"):
        assert _api(legal1).post(f"{BASE}/999999/{path}", {"proposed_domains": []}, format="json").status_code == 404


def test_only_legal_officers_reach_it(alice, dpo, legal3, police):
    _api(legal3).post(f"{BASE}/{police.pk}/domains/", {"email_domains": ["evil.example"]}, format="json")
    for user in (alice, dpo):
        for path in ("domains/", "domains/confirm/", "domains/discard/"):
            answer = _api(user).post(f"{BASE}/{police.pk}/{path}", {"email_domains": ["evil.example"],
                                                                     "proposed_domains": ["evil.example"]},
                                     format="json")
            assert answer.status_code == 403, path
    stored = Authority.objects.get(pk=police.pk)
    assert stored.email_domains == ["politie.nl"] and stored.email_domains_proposed == ["evil.example"]


def test_the_schema_documents_it(client, legal1):
    verified_client(client, legal1)
    paths = client.get("/api/schema/?format=json").json()["paths"]
    for path in ("domains/", "domains/confirm/", "domains/discard/"):
        assert "post" in paths[f"{BASE}/{{id}}/{path}"]


def test_a_request_taken_in_over_the_api_is_flagged_by_the_list_in_force(legal1, legal3, police):
    _api(legal3).post(f"{BASE}/{police.pk}/domains/", {"email_domains": ["politie-nl.com", "politie.nl"]},
                      format="json")
    body = {"authority": police.pk, "legal_basis": "sv_126n", "categories": ["traffic_data"], "numbers": [ALICE_NUMBER],
            "window_start": (now() - timedelta(days=5)).isoformat(), "window_end": now().isoformat(),
            "deadline": (now() + timedelta(days=1)).isoformat(), "received_from": "desk@politie-nl.com"}
    receive = "/api/v1/staff/disclosures/requests/receive/"
    before = _api(legal1).post(receive, {**body, "reference": "API-DOM-1"}, format="json")
    assert before.status_code == 201 and before.json()["sender_unlisted"] is True  # proposed, not in force
    _api(legal1).post(f"{BASE}/{police.pk}/domains/confirm/", {"proposed_domains": ["politie-nl.com", "politie.nl"]},
                      format="json")
    after = _api(legal1).post(receive, {**body, "reference": "API-DOM-2"}, format="json")
    assert after.status_code == 201 and after.json()["sender_unlisted"] is False
