"""The sender-domain allow-list (LEGAL.md section 5, row 14): an authority lists the e-mail domains it sends
from; a request taken in from an e-mail address keeps only the address's domain and whether the authority
listed it, and one from an unlisted domain (or of an authority without a list) is flagged on the detail
page, on the dashboard and at the callback. A request by phone or on paper has no sender and no flag. The
address itself is stored nowhere, audited nowhere and logged nowhere."""
from __future__ import annotations

import json
import logging
from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.timezone import now
from rest_framework.test import APIClient

from disclosures.models import Authority, AuthorityKind, DisclosureRequest
from disclosures.services.authorities import (
    DOMAIN_HAS_AT,
    DOMAIN_INVALID,
    DOMAIN_WILDCARD,
    authority_create,
    authority_domains_confirm,
    authority_domains_set,
    authority_verify,
    email_domain_listed,
)
from disclosures.services.intake import REQUEST_BAD_SENDER
from disclosures.services.transitions import disclosure_request_verify_authority
from tests.factories import verified_client
from voipxs.exceptions import ApplicationError
from voipxs.models import AuditEntry

from .conftest import ALICE_NUMBER, receive

pytestmark = pytest.mark.django_db

OFFICER_ADDRESS = "J.Jansen@Mail.Politie.NL"  # an officer's own address: personal data, never kept
FORGED_ADDRESS = "j.jansen@politie-nl.com"


@pytest.fixture
def police(legal1, legal2):
    """A verified police unit that sends from politie.nl (and its subdomains)."""
    body = authority_create(actor=legal1, name="Politie Eenheid Domein", kind=AuthorityKind.POLICE,
                            contact_phone="020 555 9999", email_domains=["politie.nl"])
    return authority_verify(actor=legal2, authority=body, note="checked against the official register")


def _change(proposer, confirmer, body, domains: list[str]) -> Authority:
    """The list of `body` changed as the register changes it: proposed by one officer, confirmed by another."""
    proposed = authority_domains_set(actor=proposer, authority=body, email_domains=domains)
    return authority_domains_confirm(actor=confirmer, authority=body, proposed_domains=proposed.email_domains_proposed)


def _audit_text() -> str:
    return json.dumps(list(AuditEntry.objects.values_list("extra", flat=True))).lower()


def _row_text(req: DisclosureRequest) -> str:
    return json.dumps(list(DisclosureRequest.objects.filter(pk=req.pk).values())[0], default=str).lower()


class DomainListTests:
    def test_it_stores_the_domains_lower_case_sorted_and_once(self, legal1):
        body = authority_create(actor=legal1, name="OM", kind=AuthorityKind.PROSECUTOR, contact_phone="+31205553999",
                                email_domains=["Politie.NL", " om.nl ", "politie.nl.", ""])
        assert body.email_domains == ["om.nl", "politie.nl"]
        entry = AuditEntry.objects.get(action="disclosure.authority_create", target_id=str(body.pk))
        assert entry.extra["email_domains"] == ["om.nl", "politie.nl"]

    @pytest.mark.parametrize("entry, message", [
        ("desk@politie.nl", DOMAIN_HAS_AT), ("@politie.nl", DOMAIN_HAS_AT),
        ("*.politie.nl", DOMAIN_WILDCARD), ("politie.*", DOMAIN_WILDCARD), (".politie.nl", DOMAIN_WILDCARD),
        ("nl", DOMAIN_INVALID), ("politie nl", DOMAIN_INVALID), ("10.0.0.1", DOMAIN_INVALID),
        ("-politie.nl", DOMAIN_INVALID), ("politie..nl", DOMAIN_INVALID), ("pölitie.nl", DOMAIN_INVALID),
    ])
    def test_it_refuses_an_address_a_wildcard_or_what_is_no_domain_name(self, legal1, entry, message):
        with pytest.raises(ApplicationError) as exc:
            authority_create(actor=legal1, name="X", kind=AuthorityKind.POLICE, contact_phone="+31205559999",
                             email_domains=["om.nl", entry])
        # A fixed message: what was typed (it may be someone's address) is never repeated.
        assert exc.value.message == message and exc.value.extra["field"] == "email_domains"
        assert not Authority.objects.exists()

    @pytest.mark.parametrize("domain, listed", [
        ("politie.nl", True), ("mail.politie.nl", True), ("a.b.politie.nl", True),
        ("evilpolitie.nl", False), ("politie.nl.evil.example", False), ("nl", False), ("om.nl", False),
    ])
    def test_a_subdomain_counts_as_listed_and_a_lookalike_does_not(self, domain, listed):
        assert email_domain_listed(domain, ["politie.nl"]) is listed

    def test_it_replaces_the_list_and_audits_both_lists(self, legal1, legal3, police):
        body = _change(legal3, legal1, police, ["politie.nl", "OM.nl"])
        assert Authority.objects.get(pk=body.pk).email_domains == ["om.nl", "politie.nl"]
        entry = AuditEntry.objects.get(action="disclosure.authority_domains")
        assert entry.extra["before"] == ["politie.nl"] and entry.extra["after"] == ["om.nl", "politie.nl"]
        assert _change(legal3, legal1, police, []).email_domains == []

    def test_a_customer_cannot_change_the_list(self, alice, police):
        with pytest.raises(ApplicationError):
            authority_domains_set(actor=alice, authority=police, email_domains=["evil.example"])
        assert Authority.objects.get(pk=police.pk).email_domains == ["politie.nl"]


class IntakeTests:
    def test_a_listed_domain_is_kept_without_the_address(self, legal1, police, caplog):
        caplog.set_level(logging.DEBUG)
        req = receive(legal1, police, received_from=OFFICER_ADDRESS)
        assert (req.sender_domain, req.sender_domain_listed, req.sender_unlisted) == ("mail.politie.nl", True, False)
        entry = AuditEntry.objects.get(action="disclosure.receive", target_id=str(req.pk))
        assert entry.extra["sender_domain"] == "mail.politie.nl" and entry.extra["sender_listed"] is True
        for text in (_row_text(req), _audit_text(), caplog.text.lower()):
            assert "jansen" not in text

    def test_a_domain_the_authority_does_not_list_is_flagged(self, legal1, police):
        req = receive(legal1, police, received_from=f"Jan Jansen <{FORGED_ADDRESS}>")
        assert (req.sender_domain, req.sender_domain_listed, req.sender_unlisted) == ("politie-nl.com", False, True)
        entry = AuditEntry.objects.get(action="disclosure.receive", target_id=str(req.pk))
        assert entry.extra["sender_domain"] == "politie-nl.com" and entry.extra["sender_listed"] is False
        assert "jansen" not in _row_text(req) + _audit_text()

    def test_every_e_mailed_request_of_an_authority_without_a_list_is_flagged(self, legal1, authority):
        assert authority.email_domains == []
        req = receive(legal1, authority, received_from="desk@politie.example")
        assert req.sender_domain == "politie.example" and req.sender_unlisted

    def test_a_request_by_phone_or_on_paper_has_no_sender_and_no_flag(self, legal1, authority):
        req = receive(legal1, authority)
        assert (req.sender_domain, req.sender_domain_listed, req.sender_unlisted) == ("", None, False)
        entry = AuditEntry.objects.get(action="disclosure.receive", target_id=str(req.pk))
        assert entry.extra["sender_domain"] is None and entry.extra["sender_listed"] is None

    @pytest.mark.parametrize("raw", ["jan.jansen", "jan.jansen@", "@politie.nl", "jan.jansen@nl", "jan@politie..nl",
                                     "jansen@*.politie.nl"])
    def test_it_refuses_what_is_not_an_address_without_repeating_it(self, legal1, police, raw):
        with pytest.raises(ApplicationError) as exc:
            receive(legal1, police, received_from=raw)
        assert exc.value.message == REQUEST_BAD_SENDER and exc.value.extra["field"] == "received_from"
        assert "jansen" not in exc.value.message
        assert not DisclosureRequest.objects.exists()

    def test_a_later_change_of_the_list_leaves_the_flag_a_request_got(self, legal1, legal3, police):
        req = receive(legal1, police, received_from=FORGED_ADDRESS)
        _change(legal3, legal1, police, ["politie.nl", "politie-nl.com"])
        assert DisclosureRequest.objects.get(pk=req.pk).sender_unlisted

    def test_the_database_refuses_a_domain_without_its_flag_or_a_flag_without_a_domain(self, legal1, police):
        req = receive(legal1, police)
        for change in ({"sender_domain": "politie.nl"}, {"sender_domain_listed": False}):
            with pytest.raises(IntegrityError), transaction.atomic():
                DisclosureRequest.objects.filter(pk=req.pk).update(**change)


class CallbackTests:
    def test_the_callback_record_keeps_the_domain_and_the_flag(self, legal1, police):
        req = receive(legal1, police, received_from=FORGED_ADDRESS)
        req = disclosure_request_verify_authority(actor=legal1, request=req, channel="phone")
        entry = AuditEntry.objects.get(action="disclosure.verify_authority", target_id=str(req.pk))
        assert entry.extra["sender_domain"] == "politie-nl.com" and entry.extra["sender_listed"] is False
        assert "jansen" not in _audit_text()

    def test_the_callback_form_says_the_domain_was_not_listed(self, client, legal1, police):
        flagged = receive(legal1, police, received_from=FORGED_ADDRESS)
        listed = receive(legal1, police, received_from=OFFICER_ADDRESS)
        c = verified_client(client, legal1)
        page = c.get(reverse("disclosures:detail", args=[flagged.pk])).content.decode()
        form = page.split('id="verify-sender-unlisted"', 1)[1].split("</form>", 1)[0]
        assert "politie-nl.com, a domain not on the authority's list" in form
        assert "it confirmed this request all the same" in form
        page = c.get(reverse("disclosures:detail", args=[listed.pk])).content.decode()
        assert 'id="verify-sender-unlisted"' not in page and "confirmed this request all the same" not in page
        r = c.post(f"/disclosures/requests/{flagged.pk}/verify/", {"channel": "phone", "confirm": "yes"})
        assert r.status_code == 302
        assert DisclosureRequest.objects.get(pk=flagged.pk).status == "authority_verified"


class PagesTests:
    def test_the_detail_page_and_the_dashboard_warn_of_an_unlisted_domain(self, client, legal1, police):
        req = receive(legal1, police, received_from=FORGED_ADDRESS)
        c = verified_client(client, legal1)
        page = c.get(reverse("disclosures:detail", args=[req.pk])).content.decode()
        assert 'id="sender-unlisted"' in page and "politie-nl.com" in page
        sender = page.split('id="sender"', 1)[1].split("</dd>", 1)[0]
        assert "not on the authority's list of e-mail domains" in sender
        dashboard = c.get(reverse("disclosures:dashboard")).content.decode()
        assert f'id="sender-unlisted-{req.pk}"' in dashboard and "politie-nl.com" in dashboard
        assert "jansen" not in (page + dashboard).lower()

    def test_a_listed_sender_and_a_request_without_one_are_shown_as_such(self, client, legal1, police):
        listed = receive(legal1, police, received_from=OFFICER_ADDRESS)
        paper = receive(legal1, police)
        c = verified_client(client, legal1)
        page = c.get(reverse("disclosures:detail", args=[listed.pk])).content.decode()
        assert 'id="sender-unlisted"' not in page
        assert "on the authority's list of e-mail domains" in page.split('id="sender"', 1)[1].split("</dd>")[0]
        page = c.get(reverse("disclosures:detail", args=[paper.pk])).content.decode()
        assert 'id="sender-unlisted"' not in page
        assert "No e-mail sender: taken in by phone, on paper or in person" in page
        dashboard = c.get(reverse("disclosures:dashboard")).content.decode()
        assert "sender-unlisted-" not in dashboard

    def test_the_intake_page_keeps_only_the_domain(self, client, legal1, police):
        c = verified_client(client, legal1)
        today = now().date()
        form = {"authority": police.pk, "reference": "PV-MAIL-1", "legal_basis": "sv_126n",
                "categories": ["traffic_data"], "numbers": ALICE_NUMBER,
                "window_start": (today - timedelta(days=30)).isoformat(), "window_end": today.isoformat(),
                "deadline": (now() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")}
        r = c.post(reverse("disclosures:request-new"), {**form, "received_from": "not an address"})
        assert r.status_code == 400 and not DisclosureRequest.objects.exists()
        r = c.post(reverse("disclosures:request-new"), {**form, "received_from": FORGED_ADDRESS})
        assert r.status_code == 302
        req = DisclosureRequest.objects.get(reference="PV-MAIL-1")
        assert req.sender_domain == "politie-nl.com" and req.sender_unlisted
        assert "jansen" not in _row_text(req) + _audit_text()

    def test_the_authorities_page_adds_and_proposes_a_change_of_the_domains(self, client, legal1):
        c = verified_client(client, legal1)
        r = c.post(reverse("disclosures:authorities"), {"name": "OM Test", "kind": "prosecutor",
                                                        "contact_phone": "+31205553999",
                                                        "email_domains": "om.nl\nPolitie.nl, "})
        assert r.status_code == 302
        body = Authority.objects.get(name="OM Test")
        assert body.email_domains == ["om.nl", "politie.nl"]
        r = c.post(reverse("disclosures:authorities"), {"name": "Wild", "kind": "police",
                                                        "contact_phone": "+31205553998", "email_domains": "*.om.nl"})
        assert r.status_code == 400 and b"without wildcards" in r.content
        url = reverse("disclosures:authority-domains", args=[body.pk])
        assert c.post(url, {"email_domains": "om.nl", "confirm": "yes"}).status_code == 302
        assert Authority.objects.get(pk=body.pk).email_domains_proposed == ["om.nl"]  # a second officer confirms it
        r = c.post(url, {"email_domains": "desk@om.nl", "confirm": "yes"}, follow=True)
        assert "without “@”" in r.content.decode()
        assert Authority.objects.get(pk=body.pk).email_domains_proposed == ["om.nl"]
        assert b"om.nl" in c.get(reverse("disclosures:authorities")).content

    def test_only_legal_officers_change_the_domains(self, client, alice, dpo, police):
        for user in (alice, dpo):
            verified_client(client, user)
            r = client.post(reverse("disclosures:authority-domains", args=[police.pk]),
                            {"email_domains": "evil.example"})
            assert r.status_code == 404
        assert Authority.objects.get(pk=police.pk).email_domains == ["politie.nl"]


class ApiTests:
    def _api(self, user) -> APIClient:
        api = APIClient()
        verified_client(api, user)
        return api

    def test_the_api_takes_the_sender_and_answers_the_flag_without_the_address(self, legal1, police):
        api = self._api(legal1)
        body = {"authority": police.pk, "reference": "API-MAIL-1", "legal_basis": "sv_126n",
                "categories": ["traffic_data"], "numbers": [ALICE_NUMBER],
                "window_start": (now() - timedelta(days=5)).isoformat(), "window_end": now().isoformat(),
                "deadline": (now() + timedelta(days=1)).isoformat(), "received_from": FORGED_ADDRESS}
        r = api.post("/api/v1/staff/disclosures/requests/receive/", body, format="json")
        assert r.status_code == 201, r.json()
        out = r.json()
        assert (out["sender_domain"], out["sender_domain_listed"], out["sender_unlisted"]) == ("politie-nl.com", False,
                                                                                             True)
        assert "jansen" not in r.content.decode().lower()
        r = api.post("/api/v1/staff/disclosures/requests/receive/",
                     {**body, "reference": "API-MAIL-2", "received_from": "jansen"}, format="json")
        assert r.status_code == 400 and "jansen" not in r.content.decode().lower()
        r = api.post("/api/v1/staff/disclosures/requests/receive/",
                     {**body, "reference": "API-PAPER-1", "received_from": ""}, format="json")
        assert (r.json()["sender_domain"], r.json()["sender_domain_listed"], r.json()["sender_unlisted"]) == ("", None,
                                                                                                            False)
        deadlines = api.get("/api/v1/staff/disclosures/deadlines/").json()
        assert {row["reference"]: row["sender_unlisted"] for row in deadlines} == {"API-MAIL-1": True,
                                                                                 "API-PAPER-1": False}

    def test_the_api_creates_and_proposes_a_change_of_the_domains(self, legal1, police):
        api = self._api(legal1)
        r = api.post("/api/v1/staff/disclosures/authorities/create/",
                     {"name": "OM API", "kind": "prosecutor", "contact_phone": "+31205553999",
                      "email_domains": ["OM.nl"]}, format="json")
        assert r.status_code == 201 and r.json()["email_domains"] == ["om.nl"]
        url = f"/api/v1/staff/disclosures/authorities/{police.pk}/domains/"
        r = api.post(url, {"email_domains": ["politie.nl", "mail.politie.nl"]}, format="json")
        assert r.status_code == 200 and r.json()["email_domains_proposed"] == ["mail.politie.nl", "politie.nl"]
        assert r.json()["email_domains"] == ["politie.nl"]  # in force until another officer confirms the change
        r = api.post(url, {"email_domains": ["*.politie.nl"]}, format="json")
        assert r.status_code == 400 and r.json()["field"] == "email_domains"
        assert Authority.objects.get(pk=police.pk).email_domains_proposed == ["mail.politie.nl", "politie.nl"]

    def test_only_legal_officers_change_the_domains_over_the_api(self, alice, dpo, police):
        for user in (alice, dpo):
            r = self._api(user).post(f"/api/v1/staff/disclosures/authorities/{police.pk}/domains/",
                                     {"email_domains": ["evil.example"]}, format="json")
            assert r.status_code == 403
        assert Authority.objects.get(pk=police.pk).email_domains == ["politie.nl"]
