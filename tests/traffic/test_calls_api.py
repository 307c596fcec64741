from __future__ import annotations

import base64
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from tests.factories import make_cdr, verified_client
from traffic.services import invoices as invoicing

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 10, 9, 0, tzinfo=timezone.utc)


class MeCallsApiTests:
    def test_it_returns_only_own_calls_with_a_cursor(self, client, alice, mallory):
        for i in range(3):
            make_cdr(account=alice, dst="+31699993678", started_at=T0 - timedelta(minutes=i))
        make_cdr(account=mallory, src="+31205550999", started_at=T0)
        verified_client(client, alice)
        first = client.get("/api/v1/me/calls/?limit=2").json()
        assert [r["other_number"] for r in first["results"]] == ["+31699993678"] * 2
        rest = client.get(f"/api/v1/me/calls/?limit=2&cursor={first['next_cursor']}").json()
        assert len(rest["results"]) == 1 and rest["next_cursor"] is None
        client.logout()
        verified_client(client, mallory)
        theirs = client.get("/api/v1/me/calls/").json()["results"]
        assert [r["own_number"] for r in theirs] == ["+31205550999"]

    def test_it_answers_bad_filters_with_400_naming_the_field(self, client, alice):
        verified_client(client, alice)
        for query, field in [("cursor=@@@", "field"), ("since=yesterday", "since"), ("direction=up", "direction"),
                             ("limit=0", "limit"), ("number=hello", "field"), ("since=2026-03-05&until=2026-03-01", "until")]:
            response = client.get(f"/api/v1/me/calls/?{query}")
            assert response.status_code == 400, query
            body = response.json()
            assert field in body, (query, body)

    def test_it_refuses_anonymous_callers(self, client):
        assert client.get("/api/v1/me/calls/").status_code in (401, 403)

    def test_it_reports_usage(self, client, alice):
        from django.utils.timezone import now

        make_cdr(account=alice, started_at=now() - timedelta(minutes=1), billsec=42)
        usage = verified_client(client, alice).get("/api/v1/me/usage/?months=2").json()
        assert len(usage) == 2 and usage[-1]["seconds"] == 42


class MeInvoiceApiTests:
    @pytest.fixture
    def invoice(self, alice):
        make_cdr(account=alice, dst="+31699993678", started_at=T0, price=Decimal("0.10"))
        return invoicing.invoice_run(month=date(2026, 3, 1), today=date(2026, 4, 2))[0]

    def test_it_lists_and_shows_own_invoices_without_numbers(self, client, alice, invoice):
        verified_client(client, alice)
        assert [i["number"] for i in client.get("/api/v1/me/invoices/").json()] == [invoice.number]
        detail = client.get(f"/api/v1/me/invoices/{invoice.pk}/")
        assert detail.json()["lines"][0]["calls"] == 1
        assert "3169999" not in detail.content.decode()

    def test_it_hides_another_users_invoice(self, client, mallory, invoice):
        verified_client(client, mallory)
        assert client.get(f"/api/v1/me/invoices/{invoice.pk}/").status_code == 404
        assert client.get("/api/v1/me/invoices/").json() == []

    def test_it_lists_an_invoices_itemised_calls_to_its_owner_only(self, client, alice, mallory, invoice):
        unbilled = make_cdr(account=alice, dst="+31699997321", started_at=T0 + timedelta(days=40))
        verified_client(client, alice)
        rows = client.get(f"/api/v1/me/calls/?invoice={invoice.pk}").json()["results"]
        assert [r["other_number"] for r in rows] == ["+31699993678"]
        assert unbilled.id in [r["id"] for r in client.get("/api/v1/me/calls/").json()["results"]]
        csv_body = b"".join(client.get(f"/api/v1/me/calls.csv?invoice={invoice.pk}").streaming_content).decode()
        assert "+31699993678" in csv_body and "+31699997321" not in csv_body
        bad = client.get("/api/v1/me/calls/?invoice=first")
        assert bad.status_code == 400 and "invoice" in bad.json()
        client.logout()
        verified_client(client, mallory)
        assert client.get(f"/api/v1/me/calls/?invoice={invoice.pk}").json()["results"] == []


class StaffInvoiceApiTests:
    @pytest.fixture
    def invoice(self, alice):
        make_cdr(account=alice, started_at=T0)
        return invoicing.invoice_run(month=date(2026, 3, 1), today=date(2026, 4, 2))[0]

    def test_it_lets_billing_mark_paid_and_dispute(self, client, billing_staff, invoice):
        verified_client(client, billing_staff)
        assert [i["id"] for i in client.get("/api/v1/staff/invoices/?status=open").json()["results"]] == [invoice.pk]
        assert client.post(f"/api/v1/staff/invoices/{invoice.pk}/paid/").json()["status"] == "paid"
        again = client.post(f"/api/v1/staff/invoices/{invoice.pk}/paid/")
        assert again.status_code == 400 and again.json()["field"] == "status"
        assert client.post(f"/api/v1/staff/invoices/{invoice.pk}/dispute/").json()["status"] == "disputed"

    def test_it_refuses_customers(self, client, alice, invoice):
        verified_client(client, alice)
        assert client.get("/api/v1/staff/invoices/").status_code == 403
        assert client.post(f"/api/v1/staff/invoices/{invoice.pk}/paid/").status_code == 403


class SchemaTests:
    def test_it_documents_the_endpoints_and_their_filters(self, client, alice):
        verified_client(client, alice)
        schema = client.get("/api/schema/?format=json").json()
        params = {p["name"] for p in schema["paths"]["/api/v1/me/calls/"]["get"]["parameters"]}
        assert {"since", "until", "direction", "number", "cursor", "limit"} <= params
        for path in ("/api/v1/me/calls.csv", "/api/v1/me/usage/", "/api/v1/me/invoices/{invoice_id}/",
                     "/api/v1/contractor/calls/", "/api/v1/staff/interconnection/",
                     "/api/v1/staff/invoices/{invoice_id}/dispute/"):
            assert path in schema["paths"], path


class EdgeDateTests:
    def test_it_answers_dates_at_the_calendar_edges_without_a_500(self, client, alice):
        verified_client(client, alice)
        for query in ("until=9999-12-31", "since=0001-01-01", "since=9999-12-31"):
            response = client.get(f"/api/v1/me/calls/?{query}")
            assert response.status_code in (200, 400), query
        assert verified_client(client, alice).get("/calls/?until=9999-12-31").status_code in (200, 400)
        assert client.get("/calls/export.csv?until=9999-12-31", follow=True).status_code in (200, 400)

    def test_a_page_link_edited_to_an_id_past_any_call_is_a_400_not_a_500(self, client, alice):
        # a cursor is base64 of "<microseconds>.<id>": one edited by hand to an id past what the id column holds
        make_cdr(account=alice, started_at=T0)
        cursor = base64.urlsafe_b64encode(f"{int(T0.timestamp() * 1_000_000)}.{10**20}".encode()).decode().rstrip("=")
        verified_client(client, alice)
        for url in (f"/api/v1/me/calls/?cursor={cursor}", f"/calls/?after={cursor}",
                    f"/calls/?after={cursor}&direction=out"):
            assert client.get(url).status_code == 400, url
        assert "This page link is not valid" in client.get(f"/calls/?after={cursor}").content.decode()

    def test_an_invoice_id_past_any_invoice_is_a_400_naming_the_field_not_a_500(self, client, alice):
        make_cdr(account=alice, started_at=T0)
        verified_client(client, alice)
        for response in (client.get(f"/api/v1/me/calls/?invoice={10**20}"),
                         client.get(f"/api/v1/me/calls.csv?invoice={10**20}"),
                         client.post("/api/v1/me/call-exports/", {"invoice": 10**20}, content_type="application/json")):
            assert response.status_code == 400 and "invoice" in response.json()
