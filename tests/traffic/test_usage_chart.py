"""The usage chart's geometry (traffic/usage_chart.py) and its page: axes with round values, the
minutes above each bar, and coordinates that stay numbers in Dutch (issue 13 item 1)."""
from __future__ import annotations

import re
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from unittest import mock

from tests.factories import make_cdr, verified_client
from traffic.selectors import calls as call_selectors
from traffic.selectors.calls import UsageMonth, cdr_usage_by_month
from voipxs.privacy.purposes import Purpose
from traffic.usage_chart import HEIGHT, TOP, nice_step, usage_chart



def _month(n: int, seconds: int) -> UsageMonth:
    return UsageMonth(month=date(2026, n, 1), calls=1, seconds=seconds, amount=Decimal("1.00"))


class UsageChartTests:
    def test_it_picks_round_steps_of_one_two_or_five(self):
        assert [nice_step(p) for p in (0, 3, 4, 7, 40, 191, 1999)] == [1, 1, 1, 2, 10, 50, 500]

    def test_it_ends_the_axis_at_a_round_value_above_the_peak(self):
        chart = usage_chart([_month(1, 191 * 60), _month(2, 0), _month(3, 17 * 60)])
        assert [t.value for t in chart.ticks] == [0, 50, 100, 150, 200]
        assert chart.ticks[-1].y == TOP and chart.ticks[0].y == chart.baseline
        tallest, empty, small = chart.bars
        assert (tallest.minutes, empty.minutes, small.minutes) == (191, 0, 17)
        assert empty.height == 0 and tallest.height > small.height > 0
        assert tallest.y + tallest.height == pytest.approx(HEIGHT - (HEIGHT - chart.baseline))

    def test_it_draws_an_empty_year_without_dividing_by_zero(self):
        chart = usage_chart([_month(m, 0) for m in range(1, 13)])
        assert [t.value for t in chart.ticks] == [0, 1] and all(b.height == 0 for b in chart.bars)


@pytest.mark.django_db
class UsagePageTests:
    def test_it_shows_axis_values_and_minutes_with_dot_coordinates_in_dutch(self, client, alice):
        make_cdr(account=alice, started_at=datetime.now(timezone.utc), billsec=600)
        verified_client(client, alice)
        client.cookies["django_language"] = "nl"
        body = client.get("/calls/usage/").content.decode()
        svg = body[body.index("<svg"):body.index("</svg>")]
        assert ">Minuten</text>" in svg and 'class="tick">10</text>' in svg
        assert 'class="value">10</text>' in svg  # the minutes above the bar
        assert not re.search(r'(?:x|y|height|width)="\d+,\d', svg), "a Dutch decimal comma in an SVG coordinate"
        months = re.findall(r'text-anchor="middle" class="tick">([^<]+)</text>', svg)
        assert len(months) == 12 and all(m == m.lower() for m in months)  # "mrt", as Dutch writes it
        assert "mrt" in months and "mei" in months

    def test_a_customer_without_calls_is_told_so_instead_of_an_empty_chart(self, client, alice):
        verified_client(client, alice)
        body = client.get("/calls/usage/").content.decode()
        assert "No calls in the last 12 months." in body
        assert "<svg" not in body and "<table" not in body  # no axis from 0 to 1 and twelve rows of zeros
        client.cookies["django_language"] = "nl"
        assert "Geen gesprekken in de afgelopen 12 maanden." in client.get("/calls/usage/").content.decode()


def _calls_by_month(alice, **kwargs) -> list[tuple[int, int]]:
    usage = cdr_usage_by_month(actor=alice, purpose=Purpose.SELF_SERVICE, **kwargs)
    return [(u.month.month, u.calls) for u in usage]


@pytest.mark.django_db
class UsageAmsterdamMonthTests:
    """A month on the chart is the month in Amsterdam, where the customer lives: a call at 00:30 on 1 May (22:30 UTC
    on 30 April) is a May call, and on 1 May at 00:30 the chart's last bar is May."""

    def test_a_call_just_after_midnight_on_the_first_counts_in_its_amsterdam_month_in_summer_time(self, alice):
        make_cdr(account=alice, started_at=datetime(2026, 4, 30, 22, 30, tzinfo=timezone.utc), billsec=60)  # CEST
        make_cdr(account=alice, started_at=datetime(2026, 4, 30, 21, 59, tzinfo=timezone.utc), billsec=60)  # 23:59
        assert _calls_by_month(alice, months=2, today=date(2026, 5, 15)) == [(4, 1), (5, 1)]

    def test_a_call_just_after_midnight_on_new_years_day_counts_in_january_in_winter_time(self, alice):
        make_cdr(account=alice, started_at=datetime(2026, 12, 31, 23, 30, tzinfo=timezone.utc), billsec=60)  # CET
        assert _calls_by_month(alice, months=2, today=date(2027, 1, 10)) == [(12, 0), (1, 1)]

    def test_the_chart_ends_at_the_amsterdam_month_just_after_midnight(self, alice):
        moment = datetime(2026, 4, 30, 22, 30, tzinfo=timezone.utc)  # 1 May, 00:30 in Amsterdam
        make_cdr(account=alice, started_at=moment, billsec=60)
        with mock.patch.object(call_selectors, "now", return_value=moment):
            assert _calls_by_month(alice, months=2) == [(4, 0), (5, 1)]


@pytest.mark.django_db
class UsageBillsecCappedTests:
    """A call stored before the import capped billsec at its duration (the switch wrote more talk time than the whole
    call) counted its impossible seconds in the customer's monthly minutes, as it did on the invoice line: the usage
    page now counts it for its duration at most, as the invoice does."""

    def test_a_row_stored_with_billsec_over_duration_counts_its_duration(self, alice):
        make_cdr(account=alice, started_at=datetime(2026, 3, 10, 9, 0, tzinfo=timezone.utc), billsec=600, duration=60)
        make_cdr(account=alice, started_at=datetime(2026, 3, 11, 9, 0, tzinfo=timezone.utc), billsec=60)
        usage = cdr_usage_by_month(actor=alice, purpose=Purpose.SELF_SERVICE, months=1, today=date(2026, 3, 20))
        assert [(u.calls, u.seconds) for u in usage] == [(2, 120)]
