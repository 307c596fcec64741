"""The customer's call pages as a customer reads them: a month on the usage page leads to that month's calls (finding
last month's calls took typing two dates), and a call history with no calls at all says so instead of "No calls
match." (match what? nothing was filtered)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils.timezone import localdate, localtime, now
from django.utils.translation import override

from tests.factories import make_cdr, verified_client

pytestmark = pytest.mark.django_db


def _month_before(day):
    first = day.replace(day=1)
    last = first - timedelta(days=1)
    return last.replace(day=1), last


class UsageMonthLinksTests:
    def test_a_month_with_calls_links_to_that_months_calls(self, client, alice):
        start, end = _month_before(localdate())
        make_cdr(account=alice, started_at=localtime().replace(day=1) - timedelta(days=3), billsec=600)  # Amsterdam's
        body = verified_client(client, alice).get("/calls/usage/").content.decode()
        href = f'href="/calls/?since={start:%Y-%m-%d}&amp;until={end:%Y-%m-%d}"'
        assert body.count(href) == 1, body
        # the link is the month's name in the table, where a customer looks for the month
        assert f'<th scope="row"><a {href}>' in body

    def test_a_month_without_calls_is_no_link(self, client, alice):
        make_cdr(account=alice, started_at=now() - timedelta(minutes=5), billsec=60)
        body = verified_client(client, alice).get("/calls/usage/").content.decode()
        assert body.count('href="/calls/?since=') == 1  # this month only, not the eleven empty ones


class CallHistoryEmptyTests:
    def test_a_customer_without_calls_is_told_so_not_that_nothing_matches(self, client, alice):
        body = verified_client(client, alice).get("/calls/").content.decode()
        assert '<td colspan="10" class="empty">You have no calls to show yet.</td>' in body
        assert "No calls match." not in body

    def test_a_filter_that_finds_nothing_still_says_nothing_matches(self, client, alice):
        make_cdr(account=alice, started_at=now() - timedelta(days=1))
        body = verified_client(client, alice).get("/calls/?direction=in").content.decode()
        assert "No calls match." in body
        assert "You have no calls to show yet." not in body

    def test_the_empty_history_is_dutch_on_a_dutch_page(self, client, alice):
        verified_client(client, alice)
        client.cookies["django_language"] = "nl"
        with override("nl"):
            body = client.get("/calls/").content.decode()
        assert 'lang="nl"' in body and '<td colspan="10" class="empty">' in body
        assert "You have no calls to show yet." not in body and "U hebt nog geen gesprekken om te tonen." in body
