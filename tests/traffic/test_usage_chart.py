"""The usage chart's geometry (traffic/usage_chart.py) and its page: axes with round values, the
minutes above each bar, and coordinates that stay numbers in Dutch (issue 13 item 1)."""
from __future__ import annotations

import re
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from tests.factories import make_cdr, verified_client
from traffic.selectors.calls import UsageMonth
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
