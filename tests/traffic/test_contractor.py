from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest

from tests.factories import make_cdr, make_user, verified_client

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 10, 9, 0, tzinfo=timezone.utc)


# Each call's zone is its own, so a call shows on a page by its zone as well as by its (masked) other number.
OWN_CALLS = {"+31699991111": "Zone Bob", "+31699994222": "Zone Carol"}  # Acme's Users bob and carol
# The other tenants' calls: alice (a customer without a contractor), mallory and trent (Users of Other BV).
OTHER_CALLS = {"+31699995333": "Zone Alice", "+31699996444": "Zone Mallory", "+31699997555": "Zone Trent"}


@pytest.fixture
def traffic(bob, carol, alice, mallory):
    trent = make_user("trent", contractor=mallory.contractor, numbers=["+31205550998"])
    make_cdr(account=bob, src="+31205550201", dst="+31699991111", started_at=T0, caller_name="Secret Name",
             zone="Zone Bob")
    make_cdr(account=carol, src="+31205550202", dst="+31699994222", started_at=T0, zone="Zone Carol")
    make_cdr(account=alice, dst="+31699995333", started_at=T0, caller_name="Alice Caller", zone="Zone Alice")
    make_cdr(account=mallory, src="+31205550999", dst="+31699996444", started_at=T0, caller_name="Mallory Caller",
             zone="Zone Mallory")
    make_cdr(account=trent, src="+31205550998", dst="+31699997555", started_at=T0, zone="Zone Trent")


def masked(number: str) -> str:
    return number[:-3] + "•••"


class ContractorTrafficTests:
    def test_it_shows_the_contractor_admin_its_users_masked_on_the_page(self, client, acme_admin, traffic):
        body = verified_client(client, acme_admin).get("/calls/contractor/").content.decode()
        for number, zone in OWN_CALLS.items():
            assert masked(number) in body and zone in body
            assert number not in body
        assert "Secret Name" not in body

    def test_it_shows_no_call_of_another_contractor_or_of_a_customer_without_one(self, client, acme_admin, traffic):
        body = verified_client(client, acme_admin).get("/calls/contractor/").content.decode()
        for number, zone in OTHER_CALLS.items():
            assert masked(number) not in body and number not in body and zone not in body
        for name in ("mallory", "trent", "alice", "Alice Caller", "Mallory Caller"):
            assert name not in body
        assert len(re.findall(r'<td class="c-user">', body)) == len(OWN_CALLS)  # one row per own call, no more

    def test_it_shows_the_same_through_the_api(self, client, acme_admin, traffic):
        results = verified_client(client, acme_admin).get("/api/v1/contractor/calls/").json()["results"]
        assert sorted((r["other_number"], r["zone"]) for r in results) == sorted(
            (masked(number), zone) for number, zone in OWN_CALLS.items())
        assert all(r["masked"] and r["caller_name"] == "" for r in results)

    def test_it_refuses_users_who_are_not_contractor_admins(self, client, bob, mallory, traffic):
        verified_client(client, bob)
        assert client.get("/calls/contractor/").status_code == 403
        assert client.get("/api/v1/contractor/calls/").status_code == 403
        client.logout()
        verified_client(client, mallory)
        assert client.get("/api/v1/contractor/calls/").status_code == 403


class ContractorNumberOracleTests:
    """Issue 16, leak 1: the `number` filter matched full numbers, so a contractor admin could try the
    three masked digits (at most 1,000 requests) and learn a User's real number from the one hit."""

    def _guesses(self):
        # The right guess among wrong ones; the attack needs only a difference between their answers.
        return ["+31699991110", "+31699991111", "+31699991112"]

    def test_it_refuses_a_number_filter_in_the_contractor_api(self, client, acme_admin, traffic):
        api = verified_client(client, acme_admin)
        answers = [api.get("/api/v1/contractor/calls/", {"number": guess}) for guess in self._guesses()]
        assert [a.status_code for a in answers] == [400, 400, 400]
        assert len({a.content for a in answers}) == 1  # the right guess reads exactly like the wrong ones
        assert answers[0].json()["field"] == "number"
        assert "masked" in answers[0].json()["detail"]

    def test_it_gives_the_page_no_number_filter_and_ignores_one_in_the_url(self, client, acme_admin, traffic):
        page = verified_client(client, acme_admin)
        bodies = [page.get("/calls/contractor/", {"number": guess}).content.decode() for guess in self._guesses()]
        assert 'name="number"' not in bodies[0]
        # Every guess shows the same unfiltered list, so no guess stands out.
        for body in bodies:
            assert body.count("+31699991•••") == bodies[0].count("+31699991•••") >= 1
            assert "+31699994•••" in body

    def test_it_keeps_the_number_filter_for_customers_on_their_own_calls(self, client, bob, traffic):
        results = verified_client(client, bob).get("/api/v1/me/calls/", {"number": "+31699991111"}).json()["results"]
        assert [r["other_number"] for r in results] == ["+31699991111"]
