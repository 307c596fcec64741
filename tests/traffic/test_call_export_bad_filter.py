""""Download these calls as CSV" on a call page whose filter is wrong (the dates the wrong way round, a number
that is no phone number): the link carries the filter, and the export used to answer a bare text page in
English naming the form's field ("until: The end date must not be before the start date."). Now it leads back
to the call page with the same filter, where the error stands at its field, in the customer's language."""
from __future__ import annotations

import pytest
from django.utils import translation

from tests.factories import make_cdr

pytestmark = pytest.mark.django_db

BACKWARDS = "since=2026-12-01&until=2026-11-01"
END_BEFORE_START = "The end date must not be before the start date."


def _back_on_the_calls_page(client, query: str):
    response = client.get(f"/calls/export.csv?{query}", follow=True)
    assert response.redirect_chain and response.redirect_chain[-1][0] == f"/calls/?{query}"
    assert response.status_code == 400 and response["Content-Type"].startswith("text/html")
    return response.content.decode()


class CallExportBadFilterTests:
    def test_dates_the_wrong_way_round_show_the_error_on_the_calls_page(self, client, alice):
        make_cdr(account=alice)
        client.force_login(alice)
        body = _back_on_the_calls_page(client, BACKWARDS)
        assert END_BEFORE_START in body and "until:" not in body
        assert 'value="2026-12-01"' in body  # the filter the customer typed is still there to correct

    def test_a_number_that_is_no_phone_number_shows_the_error_on_the_calls_page(self, client, alice):
        client.force_login(alice)
        body = _back_on_the_calls_page(client, "number=0612")
        assert "Enter a phone number" in body and "number:" not in body

    def test_in_dutch_the_error_is_dutch(self, client, alice):
        client.force_login(alice)
        client.cookies["django_language"] = "nl"
        body = _back_on_the_calls_page(client, BACKWARDS)
        with translation.override("nl"):
            dutch = translation.gettext(END_BEFORE_START)
        assert dutch != END_BEFORE_START and dutch in body

    def test_a_good_filter_still_downloads_the_csv(self, client, alice):
        make_cdr(account=alice)
        client.force_login(alice)
        response = client.get("/calls/export.csv?since=2020-01-01")
        assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
        b"".join(response.streaming_content)
