"""A request's page names the data categories it asks for as officers read them, in the page's language
("Traffic data (calls)", "Verkeersgegevens (gesprekken)"), not by their codes ("traffic_data")."""
from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import verified_client

from .conftest import receive

pytestmark = pytest.mark.django_db


class RequestDetailCategoriesTests:
    def test_it_names_the_categories_in_english_and_in_dutch(self, client, legal1, authority):
        req = receive(legal1, authority, categories=("traffic_data",))
        c = verified_client(client, legal1)
        english = c.get(reverse("disclosures:detail", args=[req.pk])).content.decode()
        dutch = c.get(reverse("disclosures:detail", args=[req.pk]), HTTP_ACCEPT_LANGUAGE="nl").content.decode()
        assert "<dd>Traffic data (calls)</dd>" in english and "<dd>traffic_data</dd>" not in english
        assert "<dd>Verkeersgegevens (gesprekken)</dd>" in dutch
