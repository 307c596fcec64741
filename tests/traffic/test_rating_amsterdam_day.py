"""A tariff's valid_from and valid_to are days in Amsterdam, as billing types them on the tariffs page: a call at
00:30 on the day a new deck starts (22:30 or 23:30 UTC the day before) is priced with the new deck, on import
and when a pending call is rated later. The UTC date priced it with the old one."""
from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from tests.factories import make_cdr
from traffic.models import Cdr, Tariff
from traffic.services.imports import cdr_bulk_import
from traffic.services.rating import cdr_rate_pending
from traffic.services.sources import source_create

from .test_ingest import ast

AMS = ZoneInfo("Europe/Amsterdam")
pytestmark = pytest.mark.django_db


@pytest.fixture
def decks():
    """The old deck ends on 30 April (a summer-time day) and on 24 October; the new one starts the day after.
    25 October 2026 is the day the clocks go back (UTC+2 until 03:00, then UTC+1)."""
    for zone, start, end in (("old", date(2020, 1, 1), date(2026, 4, 30)), ("new", date(2026, 5, 1), date(2026, 10, 24)),
                             ("winter", date(2026, 10, 25), None)):
        Tariff.objects.create(prefix="4930", zone=zone, price_per_minute=Decimal("0.60"), valid_from=start, valid_to=end)


def _zone(cdr_id: int) -> str:
    return Cdr.objects.get(pk=cdr_id).zone


class RatingDayTests:
    @pytest.mark.parametrize("local, zone", [
        (datetime(2026, 5, 1, 0, 30), "new"),  # 30 April 22:30 UTC
        (datetime(2026, 4, 30, 23, 30), "old"),
        (datetime(2026, 10, 25, 0, 30), "winter"),  # 24 October 22:30 UTC, on the day the clocks go back
        (datetime(2026, 10, 24, 23, 59), "new"),
    ])
    def test_an_imported_call_is_priced_with_the_deck_of_its_day_in_amsterdam(self, decks, local, zone):
        pbx = source_create(name="pbx-ams", format="asterisk-csv", timezone="Europe/Amsterdam", default_country="NL")
        start = f"{local:%Y-%m-%d %H:%M:%S}"
        line = ast("day-1", dst="0049301234567", start=start, answer=start, end=start, duration=61, billsec=61)
        report = cdr_bulk_import(source=pbx, stream=io.BytesIO((line + "\n").encode()), file_name="Master.csv")
        assert report.imported == 1
        assert Cdr.objects.get().zone == zone

    def test_a_pending_call_rated_later_is_priced_with_the_deck_of_its_day_in_amsterdam(self, decks, alice):
        first_day = make_cdr(account=alice, dst="+49301234567", started_at=datetime(2026, 5, 1, 0, 30, tzinfo=AMS),
                             billsec=61, rating="unrated")
        last_day = make_cdr(account=alice, dst="+49301234568",
                            started_at=datetime(2026, 4, 30, 23, 30, tzinfo=AMS), billsec=61, rating="unrated")
        assert cdr_rate_pending() == 2
        assert (_zone(first_day.pk), _zone(last_day.pk)) == ("new", "old")


class TariffBookDayTests:
    def test_calls_out_of_order_across_midnights_and_the_clock_change_each_get_their_days_deck(self):
        """The book remembers the last Amsterdam day's UTC bounds (a file's calls come in time order); a call before
        or after them, in any order, is still priced by its own day, the 25-hour day of 25 October included. A deck a
        day makes any call given the wrong day show."""
        from datetime import timedelta, timezone

        from traffic.rating import TariffBook

        for first in (date(2026, 4, 28), date(2026, 10, 22)):
            for n in range(8):
                day = first + timedelta(days=n)
                Tariff.objects.create(prefix="4989", zone=day.isoformat(), price_per_minute=Decimal("0.60"),
                                      valid_from=day, valid_to=day)
        book = TariffBook.load()
        moments = [datetime(2026, 4, 28, 20, 0, tzinfo=timezone.utc) + timedelta(minutes=17 * i) for i in range(500)]
        moments += [datetime(2026, 10, 22, 20, 0, tzinfo=timezone.utc) + timedelta(minutes=13 * i) for i in range(600)]
        shuffled = moments[::3] + moments[1::3][::-1] + moments[2::3]
        for moment in shuffled:
            assert book.tariff_at("+4989123", moment).zone == moment.astimezone(AMS).date().isoformat(), moment
