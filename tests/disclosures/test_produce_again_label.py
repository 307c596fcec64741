"""A produced request's page offered the officer two buttons: "Output checked", and "Produce the package", worded as
the first production is, although pressing it then deletes the package built and builds it anew. The output check's
refusal tells the officer to "Produce it again."; the button now says so, and says what happens to the package built."""
from __future__ import annotations

import re

import pytest
from django.urls import reverse

from tests.factories import verified_client

from .conftest import receive, to_state

pytestmark = pytest.mark.django_db


def _button(html: str, action: str) -> str:
    form = re.search(rf'<form[^>]*action="[^"]*/{action}/"[^>]*>(.*?)</form>', html, re.S)
    assert form, f"no {action} form on the page"
    return " ".join(re.sub(r"<[^>]+>", " ", form.group(1)).split())


def test_a_produced_request_offers_to_produce_the_package_again_saying_it_replaces_it(
        client, legal1, legal2, legal3, authority):
    req = to_state(receive(legal1, authority), "produced", intake=legal1, approvers=[legal2, legal3])
    html = verified_client(client, legal1).get(reverse("disclosures:detail", args=[req.pk])).content.decode()
    text = _button(html, "produce")
    assert "Produce the package again" in text
    assert "The package built is deleted and built anew" in text


def test_an_approved_request_offers_the_first_production_as_before(client, legal1, legal2, legal3, authority):
    req = to_state(receive(legal1, authority), "approved", intake=legal1, approvers=[legal2, legal3])
    html = verified_client(client, legal1).get(reverse("disclosures:detail", args=[req.pk])).content.decode()
    assert _button(html, "produce") == "Produce the package"
