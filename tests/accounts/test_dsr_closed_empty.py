"""The DPO's queue says so when no request has been closed yet, instead of a bare table heading over nothing
(a DPO could not tell an empty list from one that failed to load)."""
from __future__ import annotations

import pytest

from tests.factories import verified_client

pytestmark = pytest.mark.django_db


class DsrClosedEmptyTests:
    def test_the_closed_list_says_none_were_closed_yet(self, client, dpo):
        page = verified_client(client, dpo).get("/privacy-requests/dpo/").content.decode()
        closed = page.split('id="dsr-closed"')[1].split("</table>")[0]
        assert "No request has been closed yet." in closed


@pytest.mark.django_db
def test_the_empty_closed_list_is_in_dutch_on_the_dutch_page(client, dpo):
    verified_client(client, dpo)
    client.cookies["django_language"] = "nl"
    page = client.get("/privacy-requests/dpo/").content.decode()
    assert "No request has been closed yet." not in page
