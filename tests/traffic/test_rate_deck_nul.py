"""A rate deck uploaded as a file (multipart: no text field to refuse it) with a NUL byte in a description was shown
in the preview as a new tariff, and applying it failed with a server error on PostgreSQL (500: text cannot hold NUL),
after the preview had promised it. Now the zone text's own rule (traffic.tariff_rules.validate_zone_text, on the
model, the forms, the API and the deck) refuses it: the preview names the line and the field, in Django's words.
The 500 was PostgreSQL's only; the refusal is the same on SQLite."""
from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.factories import verified_client
from traffic.models import Tariff

pytestmark = pytest.mark.django_db

DECK = "3120556,Fixed\x00 NL,0.01,60/60\n".encode()


def test_a_nul_byte_in_a_decks_description_is_refused_at_its_line(client, billing_staff):
    response = verified_client(client, billing_staff).post("/api/v1/staff/tariffs/rate-deck/preview/", {
        "valid_from": "2030-01-01", "file": SimpleUploadedFile("deck.csv", DECK, content_type="text/csv")})
    assert response.status_code == 400
    assert response.json()["errors"] == [{"line": "1", "field": "description",
                                          "message": "Null characters are not allowed."}]
    assert not Tariff.objects.filter(prefix="3120556").exists()


def test_the_page_refuses_it_too(client, billing_staff):
    response = verified_client(client, billing_staff).post("/calls/staff/tariffs/rate-deck/", {
        "valid_from": "2030-01-01", "file": SimpleUploadedFile("deck.csv", DECK, content_type="text/csv")})
    assert response.status_code == 400 and "Null characters are not allowed." in response.content.decode()
