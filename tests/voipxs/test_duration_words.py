"""Deadlines read as spans of time (issue 13: "overdue (-60699.7)" said nothing to anyone)."""
from __future__ import annotations

from datetime import timedelta

from django.utils import translation
from django.utils.timezone import now

from voipxs.templatetags.voipxs_time import duration_words


class DurationWordsTests:
    def test_it_gives_the_two_largest_units_whatever_the_sign(self):
        assert duration_words(-60699.7) == "6 years 339 days"
        assert duration_words(49.5) == "2 days 1 hour"
        assert duration_words(5 + 10 / 60) == "5 hours 10 minutes"
        assert duration_words(0.25) == "15 minutes"
        assert duration_words(0) == "0 minutes"

    def test_it_measures_to_a_moment(self):
        assert duration_words(now() + timedelta(days=3, hours=2, minutes=1)) == "3 days 2 hours"

    def test_it_speaks_dutch(self):
        with translation.override("nl"):
            assert duration_words(49.5) == "2 dagen 1 uur"
