"""Issue 13 item 6: a contractor admin sees which of its Users made each call (the login name the
contractor created them under), on the page and through the API, and never another contractor's User;
its own pages are in its menu."""
from __future__ import annotations

import re

import pytest

from tests.factories import verified_client
from voipxs.models import AuditEntry

from .test_contractor import traffic  # noqa: F401  (the fixture)

pytestmark = pytest.mark.django_db


class ContractorUserColumnTests:
    def test_the_page_names_the_user_of_each_call(self, client, acme_admin, traffic):  # noqa: F811
        body = verified_client(client, acme_admin).get("/calls/contractor/").content.decode()
        assert '<th scope="col" class="c-user">User</th>' in body
        rows = re.findall(r"<tr>(.*?)</tr>", body, flags=re.S)
        bob_row = next(r for r in rows if "+31699991•••" in r)
        carol_row = next(r for r in rows if "+31699994•••" in r)
        assert '<td class="c-user">bob</td>' in bob_row and '<td class="c-user">carol</td>' in carol_row
        assert "mallory" not in body and "alice" not in body

    def test_the_api_gives_each_call_its_user(self, client, acme_admin, traffic):  # noqa: F811
        results = verified_client(client, acme_admin).get("/api/v1/contractor/calls/").json()["results"]
        assert sorted((r["user"], r["other_number"]) for r in results) == [
            ("bob", "+31699991•••"), ("carol", "+31699994•••")]
        assert AuditEntry.objects.filter(action="user.names", purpose="contractor_information").exists()

    def test_a_customers_own_calls_have_no_user_column(self, client, bob, traffic):  # noqa: F811
        body = verified_client(client, bob).get("/calls/").content.decode()
        assert '<th scope="col">User</th>' not in body
        assert "user" not in verified_client(client, bob).get("/api/v1/me/calls/").json()["results"][0]


class ContractorMenuTests:
    def test_the_contractor_admin_finds_its_own_pages_in_the_menu_and_on_home(self, client, acme_admin):
        body = verified_client(client, acme_admin).get("/").content.decode()
        nav = body.split('aria-label="Main"')[1].split("</nav>")[0]
        assert 'href="/calls/contractor/"' in nav
        main = body.split('id="main"')[1]
        for url in ("/calls/contractor/", "/calls/", "/calls/invoices/", "/privacy-requests/"):
            assert f'href="{url}"' in main, url

    def test_a_customer_has_no_contractor_link(self, client, bob):
        body = verified_client(client, bob).get("/").content.decode()
        assert 'href="/calls/contractor/"' not in body
