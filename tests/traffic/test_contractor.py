from __future__ import annotations

from datetime import datetime, timezone

import pytest

from tests.factories import make_cdr, verified_client

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 10, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def traffic(bob, carol, alice, mallory):
    make_cdr(account=bob, src="+31205550201", dst="+31611111111", started_at=T0, caller_name="Secret Name")
    make_cdr(account=carol, src="+31205550202", dst="+31622222222", started_at=T0)
    make_cdr(account=alice, dst="+31633333333", started_at=T0)
    make_cdr(account=mallory, src="+31205550999", dst="+31644444444", started_at=T0)


class ContractorTrafficTests:
    def test_it_shows_the_contractor_admin_its_users_masked_on_the_page(self, client, acme_admin, traffic):
        body = verified_client(client, acme_admin).get("/calls/contractor/").content.decode()
        assert "+31611111•••" in body and "+31622222•••" in body
        for hidden in ("+31611111111", "+31633333", "+31644444", "Secret Name"):
            assert hidden not in body

    def test_it_shows_the_same_through_the_api(self, client, acme_admin, traffic):
        results = verified_client(client, acme_admin).get("/api/v1/contractor/calls/").json()["results"]
        assert sorted(r["other_number"] for r in results) == ["+31611111•••", "+31622222•••"]
        assert all(r["masked"] and r["caller_name"] == "" for r in results)

    def test_it_refuses_users_who_are_not_contractor_admins(self, client, bob, mallory, traffic):
        verified_client(client, bob)
        assert client.get("/calls/contractor/").status_code == 403
        assert client.get("/api/v1/contractor/calls/").status_code == 403
        client.logout()
        verified_client(client, mallory)
        assert client.get("/api/v1/contractor/calls/").status_code == 403
