"""Billing staff's invoice list in the API pages by keyset, as the staff invoice page does: before, it answered the
200 newest invoices and nothing more, so older ones could not be reached through the API at all. Now each answer
holds a page (`results`) and a `next` link to the older ones (null on the last page), filters hold on that link,
an invoice is found by the start of its number, and the schema (/api/schema/) says so."""
from __future__ import annotations

from datetime import date

import pytest

from tests.factories import verified_client
from tests.traffic.test_staff_invoice_paging import invoices_over_months

pytestmark = pytest.mark.django_db


@pytest.fixture
def many(alice, bob):
    return invoices_over_months(alice, bob)  # 230 invoices over 115 months, the oldest alice's

URL = "/api/v1/staff/invoices/"


class StaffInvoiceApiPagingTests:
    def test_every_invoice_is_reached_by_following_next(self, client, billing_staff, many):
        verified_client(client, billing_staff)
        seen, link, pages = [], URL, 0
        while link:
            body = client.get(link).json()
            assert len(body["results"]) <= 50
            seen += [row["number"] for row in body["results"]]
            link, pages = body["next"], pages + 1
            assert link is None or link.startswith("http://testserver" + URL)
        expected = [i.number for i in sorted(many, key=lambda i: (i.period, i.pk), reverse=True)]
        assert seen == expected and pages == 5  # 230 invoices, 50 a page: the oldest is reachable
        assert seen[-1] == f"INV-201001-{many[0].account_id:06d}"

    def test_the_filters_and_page_size_hold_on_the_next_link(self, client, billing_staff, many):
        verified_client(client, billing_staff)
        first = client.get(URL, {"status": "open", "limit": 10}).json()
        assert len(first["results"]) == 10 and "status=open" in first["next"] and "limit=10" in first["next"]
        second = client.get(first["next"]).json()
        opened = {i.number for i in many if i.status == "open"}
        numbers = [r["number"] for r in first["results"] + second["results"]]
        assert set(numbers) <= opened and len(set(numbers)) == 20

    def test_an_invoice_is_found_by_its_number(self, client, billing_staff, many):
        verified_client(client, billing_staff)
        body = client.get(URL, {"number": "inv-201001"}).json()
        assert sorted(r["number"] for r in body["results"]) == sorted(
            i.number for i in many if i.period == date(2010, 1, 1))
        assert body["next"] is None

    def test_a_broken_cursor_is_a_400_at_its_field(self, client, billing_staff, many):
        verified_client(client, billing_staff)
        response = client.get(URL, {"cursor": "not-a-cursor"})
        assert response.status_code == 400 and response.json()["field"] == "cursor"

    def test_the_schema_shows_the_page_and_its_filters(self, client, billing_staff):
        verified_client(client, billing_staff)
        schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
        operation = schema["paths"][URL]["get"]
        assert {"status", "number", "cursor", "limit"} <= {p["name"] for p in operation["parameters"]}
        ref = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
        page = schema["components"]["schemas"][ref]
        assert {"results", "next", "next_cursor"} <= set(page["properties"])
        assert page["properties"]["results"]["type"] == "array"
