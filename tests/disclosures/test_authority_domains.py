"""Four eyes on an authority's e-mail domains (LEGAL.md section 5, row 14): a request from a domain the authority
does not list is flagged, so one officer alone must not be able to list an attacker's domain. One officer proposes a
new list through authority_domains_set (the staff page's form), another confirms it with
authority_domains_confirm naming the list they checked, or anyone discards it; until it is confirmed, intake checks
the list in force. Every step is audited with both lists (domains are not personal data). Registering a body with its
first list stays one step: the body's whole entry is verified by another officer before any request of it is handled
(tests/disclosures/test_sender_domain.py). The API is in test_authority_domains_api.py."""
from __future__ import annotations

import pytest
from django.urls import reverse

from disclosures.models import Authority, AuthorityKind
from disclosures.services.authorities import (
    DOMAIN_WILDCARD,
    DOMAINS_NOT_THE_PROPOSAL,
    DOMAINS_NOTHING_PROPOSED,
    DOMAINS_SAME_OFFICER,
    authority_create,
    authority_domains_confirm,
    authority_domains_discard,
    authority_domains_set,
    authority_verify,
)
from tests.factories import verified_client
from voipxs.exceptions import ApplicationError
from voipxs.models import AuditEntry
from voipxs.privacy.crypto import pseudonym

from .conftest import receive

pytestmark = pytest.mark.django_db

FORGED_ADDRESS = "desk@politie-nl.com"  # a lookalike domain an attacker would like to have listed
LISTED_ADDRESS = "desk@mail.politie.nl"


@pytest.fixture
def police(legal1, legal2):
    """A police unit registered by legal1 with politie.nl, verified by legal2."""
    body = authority_create(actor=legal1, name="Politie Eenheid Vier Ogen", kind=AuthorityKind.POLICE,
                            contact_phone="020 555 9999", email_domains=["politie.nl"])
    return authority_verify(actor=legal2, authority=body, note="checked against the official register")


def _stored(body: Authority) -> Authority:
    return Authority.objects.get(pk=body.pk)


def _actions() -> list[str]:
    return list(AuditEntry.objects.filter(action__startswith="disclosure.authority_domains")
                .order_by("pk").values_list("action", flat=True))


class AuthorityDomainsTests:
    def test_a_proposal_changes_nothing_until_a_second_officer_confirms_it(self, legal3, police):
        body = authority_domains_set(actor=legal3, authority=police, email_domains=["politie.nl", "Politie-NL.com"])
        assert body.email_domains_proposed == ["politie-nl.com", "politie.nl"]
        stored = _stored(police)
        assert stored.email_domains == ["politie.nl"]
        assert stored.email_domains_proposed == ["politie-nl.com", "politie.nl"]
        assert stored.email_domains_proposed_by == legal3 and stored.email_domains_proposed_at is not None
        entry = AuditEntry.objects.get(action="disclosure.authority_domains_proposed")
        assert entry.actor == pseudonym("user", legal3.pk) and entry.target_id == str(police.pk)
        assert entry.extra == {"before": ["politie.nl"], "after": ["politie-nl.com", "politie.nl"]}
        assert _actions() == ["disclosure.authority_domains_proposed"]  # nothing in force yet

    def test_another_officer_confirms_it_and_the_audit_names_both_lists_and_the_proposer(self, legal1, legal3,
                                                                                         police):
        authority_domains_set(actor=legal3, authority=police, email_domains=["om.nl", "politie.nl"])
        body = authority_domains_confirm(actor=legal1, authority=police, proposed_domains=["politie.nl", "om.nl"])
        stored = _stored(body)
        assert stored.email_domains == ["om.nl", "politie.nl"]
        assert (stored.email_domains_proposed, stored.email_domains_proposed_at,
                stored.email_domains_proposed_by) == ([], None, None)
        entry = AuditEntry.objects.get(action="disclosure.authority_domains")
        assert entry.actor == pseudonym("user", legal1.pk)  # the second officer put it in force
        assert entry.extra == {"before": ["politie.nl"], "after": ["om.nl", "politie.nl"],
                               "proposed_by": pseudonym("user", legal3.pk)}

    def test_the_officer_who_proposed_it_cannot_confirm_it(self, legal3, police):
        authority_domains_set(actor=legal3, authority=police, email_domains=["politie-nl.com", "politie.nl"])
        with pytest.raises(ApplicationError) as exc:
            authority_domains_confirm(actor=legal3, authority=police,
                                      proposed_domains=["politie-nl.com", "politie.nl"])
        assert exc.value.message == DOMAINS_SAME_OFFICER and exc.value.extra["field"] == "confirmed_by"
        assert _stored(police).email_domains == ["politie.nl"]
        assert _stored(police).email_domains_proposed_at is not None  # still waiting for another officer
        assert "disclosure.authority_domains" not in _actions()

    def test_a_confirmation_of_another_list_than_the_waiting_one_is_refused(self, legal1, legal2, legal3, police):
        authority_domains_set(actor=legal3, authority=police, email_domains=["om.nl", "politie.nl"])
        seen = list(_stored(police).email_domains_proposed)
        # Replaced before legal1 confirms what they were shown: the attacker's domain slipped in.
        authority_domains_set(actor=legal2, authority=police, email_domains=["om.nl", "politie.nl", "politie-nl.com"])
        for named in (seen, [], ["politie-nl.com"], ["om.nl", "politie.nl", "politie-nl.com", "evil.example"]):
            with pytest.raises(ApplicationError) as exc:
                authority_domains_confirm(actor=legal1, authority=police, proposed_domains=named)
            assert exc.value.message == DOMAINS_NOT_THE_PROPOSAL and exc.value.extra["field"] == "proposed_domains"
        assert _stored(police).email_domains == ["politie.nl"]
        # The list it shows is named in any order, case or with a trailing dot: it is the same list.
        body = authority_domains_confirm(actor=legal1, authority=police,
                                         proposed_domains=["Politie-NL.com.", " om.nl", "politie.nl", ""])
        assert body.email_domains == ["om.nl", "politie-nl.com", "politie.nl"]

    def test_a_discarded_proposal_cannot_be_confirmed_and_the_discard_is_audited(self, legal1, legal3, police):
        authority_domains_set(actor=legal3, authority=police, email_domains=["politie-nl.com"])
        body = authority_domains_discard(actor=legal1, authority=police)
        assert (body.email_domains_proposed, body.email_domains_proposed_at) == ([], None)
        with pytest.raises(ApplicationError) as exc:
            authority_domains_confirm(actor=legal1, authority=police, proposed_domains=["politie-nl.com"])
        assert exc.value.message == DOMAINS_NOTHING_PROPOSED and exc.value.extra["field"] == "email_domains"
        assert _stored(police).email_domains == ["politie.nl"]
        entry = AuditEntry.objects.get(action="disclosure.authority_domains_discarded")
        assert entry.actor == pseudonym("user", legal1.pk) and entry.extra == {"proposed": ["politie-nl.com"]}
        with pytest.raises(ApplicationError) as exc:  # nothing left to discard
            authority_domains_discard(actor=legal3, authority=police)
        assert exc.value.message == DOMAINS_NOTHING_PROPOSED

    def test_the_proposer_may_discard_it_and_a_new_proposal_replaces_a_waiting_one(self, legal1, legal3, police):
        authority_domains_set(actor=legal3, authority=police, email_domains=["politie-nl.com"])
        authority_domains_set(actor=legal1, authority=police, email_domains=["om.nl"])
        stored = _stored(police)
        assert stored.email_domains_proposed == ["om.nl"] and stored.email_domains_proposed_by == legal1
        assert authority_domains_discard(actor=legal1, authority=police).email_domains_proposed_at is None

    def test_an_empty_list_is_proposed_and_confirmed_like_any_other(self, legal1, legal3, police):
        authority_domains_set(actor=legal3, authority=police, email_domains=[" ", ""])
        stored = _stored(police)
        assert stored.email_domains == ["politie.nl"] and stored.email_domains_proposed_at is not None
        with pytest.raises(ApplicationError):
            authority_domains_confirm(actor=legal1, authority=police, proposed_domains=["politie.nl"])
        assert authority_domains_confirm(actor=legal1, authority=police, proposed_domains=[]).email_domains == []

    def test_a_proposal_is_cleaned_and_a_bad_one_refused_naming_the_field(self, legal3, police):
        with pytest.raises(ApplicationError) as exc:
            authority_domains_set(actor=legal3, authority=police, email_domains=["politie.nl", "*.politie-nl.com"])
        assert exc.value.message == DOMAIN_WILDCARD and exc.value.extra["field"] == "email_domains"
        assert _stored(police).email_domains_proposed_at is None and _actions() == []

    def test_intake_flags_by_the_list_in_force_until_the_change_is_confirmed(self, legal1, legal3, police):
        # Intake reads the authority it is given, as the pages and the API load it: fresh from the database.
        authority_domains_set(actor=legal3, authority=police, email_domains=["politie-nl.com"])
        assert receive(legal3, _stored(police), received_from=FORGED_ADDRESS).sender_unlisted  # not listed yet
        assert not receive(legal3, _stored(police), received_from=LISTED_ADDRESS).sender_unlisted  # still listed
        authority_domains_confirm(actor=legal1, authority=police, proposed_domains=["politie-nl.com"])
        assert not receive(legal3, _stored(police), received_from=FORGED_ADDRESS).sender_unlisted
        assert receive(legal3, _stored(police), received_from=LISTED_ADDRESS).sender_unlisted

    def test_registering_a_body_puts_its_first_list_in_force_at_once(self, legal1):
        body = authority_create(actor=legal1, name="OM Vier Ogen", kind=AuthorityKind.PROSECUTOR,
                                contact_phone="+31205553999", email_domains=["om.nl"])
        assert body.email_domains == ["om.nl"] and body.email_domains_proposed_at is None

    def test_without_an_actor_the_operator_sets_it_at_once(self, police):
        body = authority_domains_set(actor=None, authority=police, email_domains=["om.nl"])
        assert _stored(body).email_domains == ["om.nl"] and _stored(body).email_domains_proposed_at is None
        entry = AuditEntry.objects.get(action="disclosure.authority_domains")
        assert entry.extra == {"before": ["politie.nl"], "after": ["om.nl"]}

    def test_a_customer_can_neither_propose_confirm_nor_discard(self, alice, legal3, police):
        with pytest.raises(ApplicationError):
            authority_domains_set(actor=alice, authority=police, email_domains=["evil.example"])
        authority_domains_set(actor=legal3, authority=police, email_domains=["evil.example"])
        with pytest.raises(ApplicationError):
            authority_domains_confirm(actor=alice, authority=police, proposed_domains=["evil.example"])
        with pytest.raises(ApplicationError):
            authority_domains_discard(actor=alice, authority=police)
        stored = _stored(police)
        assert stored.email_domains == ["politie.nl"] and stored.email_domains_proposed == ["evil.example"]


class AuthorityDomainsPageTests:
    def _propose(self, client, body, **data):
        return client.post(reverse("disclosures:authority-domains", args=[body.pk]), data, follow=True)

    def test_one_officer_proposes_it_on_the_register_page_and_another_confirms_it(self, client, legal1, legal3,
                                                                                   police):
        staff = verified_client(client, legal3)
        page = self._propose(staff, police, email_domains="politie.nl\npolitie-nl.com")
        assert b"Tick the box to confirm" in page.content and _stored(police).email_domains_proposed_at is None
        page = self._propose(staff, police, email_domains="politie.nl\npolitie-nl.com", confirm="yes")
        assert page.status_code == 200 and b"Change proposed" in page.content
        shown = page.content.decode().split(f'id="domains-proposal-{police.pk}"', 1)[1].split("</div>", 1)[0]
        assert "<ins>politie-nl.com (added)</ins>" in shown  # the second officer sees what is new
        assert "another legal officer confirms it" in shown  # not a button for the proposer
        confirm_url = reverse("disclosures:authority-domains-confirm", args=[police.pk])
        assert confirm_url not in shown and _stored(police).email_domains == ["politie.nl"]
        client.logout()
        second = verified_client(client, legal1)
        page = second.get(reverse("disclosures:authorities")).content.decode()
        assert confirm_url in page and 'name="proposed_domains" value="politie-nl.com,politie.nl"' in page
        seen = {"proposed_domains": "politie-nl.com,politie.nl"}
        page = second.post(confirm_url, seen, follow=True)
        assert b"Tick the box to confirm" in page.content and _stored(police).email_domains == ["politie.nl"]
        page = second.post(confirm_url, {**seen, "confirm": "yes"}, follow=True)
        assert page.status_code == 200 and b"E-mail domains saved" in page.content
        assert _stored(police).email_domains == ["politie-nl.com", "politie.nl"]
        assert f'id="domains-proposal-{police.pk}"'.encode() not in page.content

    def test_a_removal_is_shown_and_a_replaced_proposal_is_not_confirmed_from_the_page(self, client, legal1,
                                                                                      legal3, police):
        authority_domains_set(actor=legal3, authority=police, email_domains=["om.nl"])
        staff = verified_client(client, legal1)
        page = staff.get(reverse("disclosures:authorities")).content.decode()
        shown = page.split(f'id="domains-proposal-{police.pk}"', 1)[1].split("</div>", 1)[0]
        assert "<del>politie.nl (removed)</del>" in shown and "<ins>om.nl (added)</ins>" in shown
        authority_domains_set(actor=legal3, authority=police, email_domains=["om.nl", "politie-nl.com"])
        page = staff.post(reverse("disclosures:authority-domains-confirm", args=[police.pk]),
                          {"proposed_domains": "om.nl", "confirm": "yes"}, follow=True)
        assert b"have changed since this page was shown" in page.content
        assert _stored(police).email_domains == ["politie.nl"]

    def test_a_proposal_is_discarded_on_the_page(self, client, legal3, police):
        staff = verified_client(client, legal3)
        self._propose(staff, police, email_domains="politie-nl.com", confirm="yes")
        page = staff.post(reverse("disclosures:authority-domains-discard", args=[police.pk]), follow=True)
        assert b"e-mail domains was discarded" in page.content
        assert _stored(police).email_domains_proposed_at is None and _stored(police).email_domains == ["politie.nl"]

    def test_the_register_page_works_in_dutch_and_english_with_a_proposal_waiting(self, client, legal1, legal3,
                                                                                   police):
        authority_domains_set(actor=legal3, authority=police, email_domains=["om.nl"])
        staff = verified_client(client, legal1)
        for language in ("nl", "en"):
            page = staff.get(reverse("disclosures:authorities"), HTTP_ACCEPT_LANGUAGE=language)
            assert page.status_code == 200 and f'<html lang="{language}"'.encode() in page.content
            assert f'id="domains-proposal-{police.pk}"'.encode() in page.content

    def test_only_a_post_by_a_legal_officer_reaches_the_confirmation_and_the_discard(self, client, alice, dpo,
                                                                                      legal3, police):
        authority_domains_set(actor=legal3, authority=police, email_domains=["evil.example"])
        confirm = reverse("disclosures:authority-domains-confirm", args=[police.pk])
        discard = reverse("disclosures:authority-domains-discard", args=[police.pk])
        assert verified_client(client, legal3).get(confirm).status_code == 405
        for user in (alice, dpo):
            c = verified_client(client, user)
            assert c.post(confirm, {"proposed_domains": "evil.example", "confirm": "yes"}).status_code == 404
            assert c.post(discard).status_code == 404
        stored = _stored(police)
        assert stored.email_domains == ["politie.nl"] and stored.email_domains_proposed == ["evil.example"]
