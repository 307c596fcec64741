"""The police liaison finds a request by what the authority quotes on the phone: its own reference (or part of
it), the authority's name, a target number, or our request number. The dashboard lists only open requests and
the last twenty that ended, so before the search box an older request could be found only by scrolling or by
guessing its number in the address bar."""
from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils.timezone import now

from disclosures.models import DisclosureRequest
from tests.factories import verified_client
from voipxs.privacy.models import AuditEntry

from .conftest import ALICE_NUMBER, receive

pytestmark = pytest.mark.django_db


def _found(html: str) -> str:
    """The search results: from their heading to the next heading."""
    start = html.index('id="found"')
    end = html.find("<h2", start)
    return html[start:end if end >= 0 else None]


def _ended_long_ago(req: DisclosureRequest) -> None:
    """A request closed long ago (set directly: only the lists read the state)."""
    DisclosureRequest.objects.filter(pk=req.pk).update(status="closed", closed_at=now().replace(year=2025))


class DashboardSearchTests:
    def test_it_finds_an_ended_request_by_part_of_the_authoritys_reference(self, client, legal1, authority):
        old = receive(legal1, authority, reference="PL1300-2026/0012345-AMS")
        _ended_long_ago(old)
        receive(legal1, authority, reference="PL1300-2026/0099999-AMS")
        verified_client(client, legal1)
        response = client.get(reverse("disclosures:dashboard"), {"q": "0012345"})
        assert response.status_code == 200
        found = _found(response.content.decode())
        assert reverse("disclosures:detail", args=[old.pk]) in found and "PL1300-2026/0012345-AMS" in found
        assert "Closed" in found and "0099999" not in found
        # The box keeps what was typed, so the officer can correct it.
        assert 'value="0012345"' in response.content.decode()

    def test_it_finds_requests_by_the_authoritys_name_case_aside(self, client, legal1, authority, bare):
        police = receive(legal1, authority, reference="PV-POLICE")
        other = receive(legal1, bare, reference="PV-OTHER-UNIT")
        verified_client(client, legal1)
        found = _found(client.get(reverse("disclosures:dashboard"), {"q": authority.name.upper()}).content.decode())
        assert "PV-POLICE" in found and other.reference not in found
        assert reverse("disclosures:detail", args=[police.pk]) in found

    def test_it_finds_requests_on_a_target_number_without_writing_the_number_down(self, client, legal1, authority):
        on_alice = receive(legal1, authority, reference="PV-ALICE")
        receive(legal1, authority, reference="PV-OTHER", numbers=["+31699990001"])
        verified_client(client, legal1)
        before = AuditEntry.objects.count()
        # Typed as read out on the phone: national format with spaces.
        found = _found(client.get(reverse("disclosures:dashboard"), {"q": "020 555 0101"}).content.decode())
        assert "PV-ALICE" in found and "PV-OTHER" not in found
        assert reverse("disclosures:detail", args=[on_alice.pk]) in found
        entries = list(AuditEntry.objects.order_by("pk")[before:])
        assert any(e.action == "disclosure.search" for e in entries)
        assert not any(ALICE_NUMBER[3:] in repr(e.__dict__) or "555 0101" in repr(e.__dict__) for e in entries)

    def test_it_finds_a_request_by_our_own_number(self, client, legal1, authority):
        req = receive(legal1, authority, reference="PV-BYNUMBER")
        verified_client(client, legal1)
        found = _found(client.get(reverse("disclosures:dashboard"), {"q": f"#{req.pk}"}).content.decode())
        assert "PV-BYNUMBER" in found

    def test_a_found_request_leads_back_to_the_same_results(self, client, legal1, authority):
        req = receive(legal1, authority, reference="PL1300-2026/0012345-AMS")
        verified_client(client, legal1)
        found = _found(client.get(reverse("disclosures:dashboard"), {"q": "0012345 "}).content.decode())
        link = reverse("disclosures:detail", args=[req.pk]) + "?q=0012345"
        assert f'href="{link}"' in found
        page = client.get(link).content.decode()
        assert 'id="back-to-search"' in page and 'href="/disclosures/?q=0012345#found"' in page
        assert 'id="back-to-search"' not in client.get(reverse("disclosures:detail", args=[req.pk])).content.decode()

    def test_no_match_says_what_was_looked_for(self, client, legal1, authority):
        receive(legal1, authority, reference="PV-1")
        verified_client(client, legal1)
        found = _found(client.get(reverse("disclosures:dashboard"), {"q": "XYZ-404"}).content.decode())
        assert "No request matches “XYZ-404”" in found

    def test_a_query_too_long_is_refused_naming_the_field(self, client, legal1):
        verified_client(client, legal1)
        response = client.get(reverse("disclosures:dashboard"), {"q": "x" * 101})
        assert response.status_code == 400
        html = response.content.decode()
        assert "Find a request" in html and "at most 100 characters" in html

    def test_without_a_query_the_dashboard_shows_no_results_section(self, client, legal1, authority):
        receive(legal1, authority, reference="PV-1")
        verified_client(client, legal1)
        html = client.get(reverse("disclosures:dashboard")).content.decode()
        assert 'id="found"' not in html and 'name="q"' in html

    def test_customers_do_not_get_the_search(self, client, alice):
        client.force_login(alice)
        assert client.get(reverse("disclosures:dashboard"), {"q": "PV"}).status_code == 404


def test_the_search_is_in_dutch_on_the_dutch_page(client, legal1, authority):
    receive(legal1, authority, reference="PV-1")
    verified_client(client, legal1)
    client.cookies["django_language"] = "nl"
    html = client.get(reverse("disclosures:dashboard"), {"q": "nergens"}).content.decode()
    assert 'lang="nl"' in html
    for english in ("Find a request", "Clear the search", "Requests matching", "No request matches",
                    "The authority's reference or a part of it"):
        assert english not in html
