"""A tampered masking or itemisation form (a value the page never offers, a contractor's User posting the choice
their contractor makes) is answered with the site's 400 or 403 page in the reader's language, naming the field or
saying why, never a bare text answer; and nothing changes."""
from __future__ import annotations

import re

import pytest

from accounts.models import User
from tests.factories import verified_client

pytestmark = pytest.mark.django_db


def _page(response) -> str:
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert 'class="site-header"' in page  # the site's layout, with its navigation
    return page


class TamperedMaskingTests:
    @pytest.mark.parametrize("value", ["2", "", "yes", "1' or '1"])
    def test_a_masking_value_the_page_never_offers_gets_the_400_page_naming_the_field(self, client, alice, value):
        response = verified_client(client, alice).post("/accounts/numbers/masking/", {"masked": value})
        assert response.status_code == 400
        field = re.search(r'<p id="refused-field"><code>([^<]*)</code>: ([^<]*)</p>', _page(response))
        assert field and field.groups() == ("masked", "Choose 1 (masked) or 0 (shown in full).")
        assert value not in ("2", "yes") or f">{value}<" not in response.content.decode()
        assert User.objects.get(pk=alice.pk).number_masked == alice.number_masked

    def test_it_is_in_dutch_for_a_dutch_reader(self, client, alice):
        client.cookies["django_language"] = "nl"
        page = _page(verified_client(client, alice).post("/accounts/numbers/masking/", {"masked": "2"}))
        assert '<html lang="nl">' in page and "The request could not be read" not in page


class ContractorItemisationTests:
    def test_a_contractors_user_gets_the_403_page_saying_why(self, client, bob):
        response = verified_client(client, bob).post("/accounts/numbers/itemisation/", {"itemisation": "full"})
        assert response.status_code == 403
        reason = re.search(r'<p id="refusal-reason">([^<]*)</p>', _page(response))
        assert reason and reason.group(1) == "Your contractor decides how your bills are itemised."

    def test_it_is_in_dutch_for_a_dutch_reader(self, client, bob):
        client.cookies["django_language"] = "nl"
        page = _page(verified_client(client, bob).post("/accounts/numbers/itemisation/", {"itemisation": "full"}))
        assert '<html lang="nl">' in page and "Your contractor decides how your bills are itemised." not in page
