"""A legal hold placed through the API with a time at the calendar's edge (its window ending at 0001-01-01T00:00 UTC,
or expiring in the last hours of 9999) was stored, and from then on the DPO's retention page failed for everyone
(500): the page shows the window's last moment (a microsecond earlier, before year 1) and the times in Amsterdam
(an hour later, year 10000). Now such a time is refused at its field, 400 in DRF's own words ("Datetime value out of
range."), like the disclosure intake's; nothing is stored and the page keeps working."""
from __future__ import annotations

import json

import pytest

from retention.models import LegalHold
from tests.factories import verified_client

pytestmark = pytest.mark.django_db

BODY = {"reason": "disclosure_request", "reference": "H-EDGE", "categories": ["cdr_billed"],
        "numbers": ["+31205550101"]}


@pytest.mark.parametrize("field, value", [
    ("window_end", "0001-01-01T01:00:00+01:00"),
    ("window_start", "0001-01-01T00:00:00Z"),
    ("expires_at", "9999-12-31T23:30:00Z"),
    ("window_end", "9999-12-31T22:00:00Z"),
])
def test_a_hold_time_at_the_calendars_edge_is_refused_at_its_field(client, dpo, field, value):
    dpo_client = verified_client(client, dpo)
    response = dpo_client.post("/api/v1/staff/retention/holds/place/", json.dumps({**BODY, field: value}),
                               content_type="application/json")
    assert response.status_code == 400 and response.json() == {field: ["Datetime value out of range."]}
    assert not LegalHold.objects.filter(reference="H-EDGE").exists()
    assert dpo_client.get("/retention/").status_code == 200


def test_a_time_a_day_inside_the_edge_is_still_taken(client, dpo):
    response = verified_client(client, dpo).post(
        "/api/v1/staff/retention/holds/place/", json.dumps({**BODY, "window_start": "0001-01-02T12:00:00Z"}),
        content_type="application/json")
    assert response.status_code == 201
