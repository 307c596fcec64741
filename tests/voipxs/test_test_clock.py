"""The test clock of tests/clock.py (--clock / VOIPXS_TEST_CLOCK): it moves the wall clock, not the monotonic one."""
from __future__ import annotations

import datetime as dt
import time

import pytest
import time_machine
from django.utils.timezone import localdate, localtime, now

from tests.clock import PRESETS, TestClock, parse


class TestClockTests:
    def test_day_edge_is_the_next_day_month_and_year_in_amsterdam_and_summer_edge_the_next_month(self):
        winter, summer = parse("day-edge"), parse("summer-edge")
        assert (winter.astimezone(dt.timezone.utc).date(), summer.astimezone(dt.timezone.utc).date()) == (
            dt.date(2026, 12, 31), dt.date(2026, 8, 31))
        assert [localtime(t).strftime("%Y-%m-%d %H:%M") for t in (winter, summer)] == [
            "2027-01-01 00:30", "2026-09-01 00:30"]
        assert parse("2026-03-29T00:30:00Z") == dt.datetime(2026, 3, 29, 0, 30, tzinfo=dt.timezone.utc)

    @pytest.mark.parametrize("when", ["tomorrow", "2026-03-29T00:30:00"])
    def test_it_refuses_what_is_no_preset_nor_an_instant_with_its_offset(self, when):
        with pytest.raises(pytest.UsageError, match="--clock"):
            parse(when)

    @pytest.mark.real_clock("it travels and comes back itself")
    def test_it_moves_the_wall_clock_and_lets_it_tick_but_leaves_the_monotonic_clock_and_the_zone(self):
        clock, before = TestClock(parse(PRESETS["day-edge"])), time.monotonic()
        clock.start()
        try:
            first = now()
            time.sleep(0.05)  # a real sleep: the monotonic clock is not travelled
            assert localdate() == dt.date(2027, 1, 1) and now() > first
            assert abs(first - clock.instant) < dt.timedelta(seconds=5)
            assert 0.05 <= time.monotonic() - before < 5 and time.localtime().tm_zone in ("CET", "CEST")
        finally:
            clock.stop()
        # Back on the real clock (under --clock too: a real_clock test runs with the run's travel paused).
        assert not time_machine.escape_hatch.is_travelling()
