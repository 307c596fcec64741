"""The test clock: `--clock=WHEN` or VOIPXS_TEST_CLOCK=WHEN moves Python's wall clock to WHEN for the whole run,
and lets it tick (time-machine). VoIPXS reckons days, months and deadlines in Europe/Amsterdam, which is an hour
or two ahead of UTC: between 22:00/23:00 and 24:00 UTC it is already the next day there. A test or a piece of code
that takes "today" in UTC is wrong only then; on the clock `day-edge` every run is "then".

WHEN is an instant with its offset (`2026-03-29T00:30:00Z`) or a preset below. Only the wall clock moves
(time.time, datetime.now, django.utils.timezone.now): the monotonic clock, and so every sleep, timeout and timed
wait, stays real. What runs in another process (a subprocess, a database's own now()) keeps the real time; a test
that depends on it carries `@pytest.mark.real_clock("why")` and runs on the real clock, listed at the end of the
run, never skipped in silence.
"""
from __future__ import annotations

import datetime as dt
import os
import time
from zoneinfo import ZoneInfo

import pytest

PRESETS = {
    # Winter (CET, UTC+1): 00:30 on 1 January 2027 in Amsterdam, still 31 December 2026 in UTC.
    "day-edge": "2026-12-31T23:30:00Z",
    # Summer (CEST, UTC+2): 00:30 on 1 September in Amsterdam, still 31 August in UTC.
    "summer-edge": "2026-08-31T22:30:00Z",
}
ENV = "VOIPXS_TEST_CLOCK"
AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def parse(when: str) -> dt.datetime:
    """A preset's name or an ISO 8601 instant with an offset; a usage error otherwise."""
    text = PRESETS.get(when, when)
    try:
        instant = dt.datetime.fromisoformat(text)
    except ValueError:
        raise pytest.UsageError(f"--clock / {ENV}: {when!r} is neither a preset ({', '.join(PRESETS)}) "
                                "nor an ISO 8601 instant such as 2026-03-29T00:30:00Z") from None
    if instant.tzinfo is None:
        raise pytest.UsageError(f"--clock / {ENV}: {when!r} has no offset; write Z or +01:00")
    return instant


class TestClock:
    """The travelled wall clock: real time plus a fixed offset, ticking. Paused around a real_clock test."""

    __test__ = False  # not a test class, whatever its name

    def __init__(self, instant: dt.datetime) -> None:
        self.instant = instant
        self.offset = instant.timestamp() - time.time()
        self.real_clock_tests: list[tuple[str, str]] = []
        self._travel = None

    def start(self) -> None:
        import time_machine

        # A float, not the datetime: time-machine sets TZ for an aware destination (TZ=UTC for Z), which would
        # move the process's local time away from Django's Europe/Amsterdam.
        self._travel = time_machine.travel(time.time() + self.offset, tick=True)
        self._travel.start()

    def stop(self) -> None:
        if self._travel is not None:
            self._travel.stop()
            self._travel = None

    def describe(self) -> str:
        there = self.instant.astimezone(AMSTERDAM)
        return (f"test clock: {self.instant.astimezone(dt.timezone.utc):%Y-%m-%d %H:%M} UTC = "
                f"{there:%Y-%m-%d %H:%M} Europe/Amsterdam, ticking ({ENV} / --clock)")


def add_option(parser: pytest.Parser) -> None:
    parser.addoption("--clock", default=os.environ.get(ENV, ""), metavar="WHEN",
                     help=f"move the wall clock to WHEN for the run: an instant with offset or one of "
                          f"{', '.join(PRESETS)} (default: ${ENV}; empty: the real clock)")


def configure(config: pytest.Config) -> None:
    when = config.getoption("--clock")
    if when:
        config._voipxs_clock = TestClock(parse(when))
        config._voipxs_clock.start()


def clock_of(config: pytest.Config) -> TestClock | None:
    return getattr(config, "_voipxs_clock", None)


def run_on_real_clock(item: pytest.Item):
    """A generator for pytest_runtest_protocol's wrapper: a real_clock test's setup, call and teardown run on
    the real clock, the rest of the run goes on travelled (the offset is kept, so the clock never jumps back)."""
    clock, marker = clock_of(item.config), item.get_closest_marker("real_clock")
    if clock is None or marker is None or item.get_closest_marker("skip") is not None:
        return (yield)  # a test skipped at collection (needs PostgreSQL, Redis) runs on nothing
    reason = marker.args[0] if marker.args else marker.kwargs.get("reason", "")
    if not reason:
        raise pytest.UsageError(f"{item.nodeid}: @pytest.mark.real_clock needs a reason")
    clock.real_clock_tests.append((item.nodeid, reason))
    clock.stop()
    try:
        return (yield)
    finally:
        clock.start()


def summary(terminalreporter, config: pytest.Config) -> None:
    clock = clock_of(config)
    if clock is None:
        return
    terminalreporter.section("test clock")
    terminalreporter.write_line(clock.describe())
    if clock.real_clock_tests:
        terminalreporter.write_line(f"{len(clock.real_clock_tests)} test(s) ran on the real clock:")
        for nodeid, reason in clock.real_clock_tests:
            terminalreporter.write_line(f"  {nodeid}: {reason}")
