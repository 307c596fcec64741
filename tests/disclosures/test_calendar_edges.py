"""Dates at the calendar's edge on the officers' intake and narrowing (page and API): 1 January of year 1 in
Amsterdam is still in year 0 in UTC, which Python cannot hold. The page took such a day and the server failed
(500, OverflowError) where it should say, at the field, that the date is not one it takes (400)."""
from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from disclosures.models import DisclosureRequest
from tests.factories import verified_client

from .conftest import ALICE_NUMBER, receive, to_state

pytestmark = pytest.mark.django_db

API = "/api/v1/staff/disclosures/requests/"


def _page_form(authority, **changes) -> dict:
    return {"authority": authority.pk, "reference": "PV-EDGE", "legal_basis": "court_order",
            "categories": ["traffic_data"], "numbers": ALICE_NUMBER, "window_start": "2026-01-01",
            "window_end": "2026-02-01", "deadline": "2099-01-01T10:00", **changes}


def _api(user) -> APIClient:
    client = APIClient()
    verified_client(client, user)
    return client


class PageTests:
    @pytest.mark.parametrize("field", ["window_start", "window_end"])
    def test_the_intake_page_refuses_the_first_day_of_year_one_at_its_field(self, client, legal1, authority, field):
        changes = {field: "0001-01-01"} if field == "window_start" else {"window_start": "0001-01-01",
                                                                           "window_end": "0001-01-01"}
        response = verified_client(client, legal1).post(reverse("disclosures:request-new"),
                                                        _page_form(authority, **changes))
        assert response.status_code == 400
        assert response.context["form"].errors[field] == ["Enter a valid date."]
        assert not DisclosureRequest.objects.exists()

    def test_narrowing_on_the_page_refuses_it_too(self, client, legal1, legal2, authority):
        req = to_state(receive(legal1, authority), "under_review", intake=legal1, approvers=[])
        response = verified_client(client, legal2).post(f"/disclosures/requests/{req.pk}/narrow/",
                                                        {"window_start": "0001-01-01", "confirm": "yes"})
        assert response.status_code == 400
        assert DisclosureRequest.objects.get(pk=req.pk).window_start == req.window_start


class ApiTests:
    @pytest.mark.parametrize("field", ["window_start", "deadline"])
    def test_receive_refuses_a_time_before_year_one_in_utc_at_its_field(self, legal1, authority, field):
        body = {"authority": authority.pk, "reference": "PV-EDGE", "legal_basis": "court_order",
                "categories": ["traffic_data"], "numbers": [ALICE_NUMBER], "window_start": "2026-01-01T00:00:00Z",
                "window_end": "2026-02-01T00:00:00Z", "deadline": "2099-01-01T10:00:00Z",
                field: "0001-01-01T00:00:00"}
        response = _api(legal1).post(f"{API}receive/", body, format="json")
        assert response.status_code == 400 and response.json() == {field: ["Datetime value out of range."]}
        assert not DisclosureRequest.objects.exists()

    def test_narrow_refuses_it_too(self, legal1, legal2, authority):
        req = to_state(receive(legal1, authority), "under_review", intake=legal1, approvers=[])
        response = _api(legal2).post(f"{API}{req.pk}/narrow/", {"window_start": "0001-01-01T00:00:00"},
                                     format="json")
        assert response.status_code == 400 and response.json() == {"window_start": ["Datetime value out of range."]}
