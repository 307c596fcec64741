"""Rating: longest prefix valid on the call date, increments, Decimal prices fixed at ingest."""
from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from traffic.models import Cdr, Tariff
from traffic.rating import TariffBook, TariffRule, billed_seconds, price_of


def rule(prefix="31", *, ppm="0.60", setup="0", first=60, step=60, frm=date(2020, 1, 1), to=None, zone="NL", id=1):
    return TariffRule(id, prefix, zone, Decimal(ppm), Decimal(setup), first, step, frm, to)


class BilledSecondsTests:
    @pytest.mark.parametrize(
        "billsec, first, step, expected",
        [
            (0, 60, 60, 0), (1, 60, 60, 60), (60, 60, 60, 60), (61, 60, 60, 120),
            (1, 1, 1, 1), (61, 1, 1, 61),
            (1, 30, 6, 30), (30, 30, 6, 30), (31, 30, 6, 36), (61, 30, 6, 66),
        ],
    )
    def test_it_rounds_up_to_first_then_next_increments(self, billsec, first, step, expected):
        assert billed_seconds(billsec, first=first, step=step) == expected


class PriceTests:
    def test_it_adds_the_setup_fee_and_prices_billed_seconds_per_minute(self):
        # 61 s at 30/6 → 66 s × 0.60/60 = 0.66, plus 0.05 setup
        assert price_of(rule(ppm="0.60", setup="0.05", first=30, step=6), 61) == Decimal("0.71000")

    def test_it_keeps_fractions_of_a_cent_as_decimal(self):
        assert price_of(rule(ppm="0.013", first=1, step=1), 7) == Decimal("0.00152")


class TariffBookTests:
    def test_it_picks_the_longest_matching_prefix(self):
        book = TariffBook([rule("31", zone="NL", id=1), rule("316", zone="NL mobile", id=2), rule("3120", zone="Amsterdam", id=3)])
        assert book.tariff_for("+31699993678", date(2026, 5, 1)).zone == "NL mobile"
        assert book.tariff_for("+31205554567", date(2026, 5, 1)).zone == "Amsterdam"
        assert book.tariff_for("+4930123456", date(2026, 5, 1)) is None

    def test_a_dutch_freephone_number_is_free_whatever_the_table_says(self):
        book = TariffBook([rule("31", zone="NL", id=1), rule("31800", zone="priced 0800", ppm="0.10", id=2),
                           rule("318001", zone="priced 08001", ppm="0.20", id=3), rule("44800", zone="UK 0800", id=4)])
        for number in ("+318007654", "+318001234567"):
            found = book.tariff_for(number, date(2026, 5, 1))
            assert found.zone == "NL freephone (0800)" and book.price(found, 3600) == (Decimal("0.00000"), "0.00000")
        assert book.tariff_for("+448001111", date(2026, 5, 1)).zone == "UK 0800"  # another country's: the table
        assert book.tariff_for("+31205550101", date(2026, 5, 1)).zone == "NL"

    def test_it_only_uses_tariffs_valid_on_the_call_date(self):
        book = TariffBook([
            rule("316", zone="old", frm=date(2020, 1, 1), to=date(2026, 4, 30), id=1),
            rule("316", zone="new", frm=date(2026, 5, 1), id=2),
            rule("31", zone="fallback", id=3),
        ])
        assert book.tariff_for("+31699993678", date(2026, 4, 30)).zone == "old"
        assert book.tariff_for("+31699993678", date(2026, 5, 1)).zone == "new"
        assert book.tariff_for("+31699993678", date(2019, 6, 1)) is None

    def test_it_falls_back_to_a_shorter_prefix_when_the_longer_one_is_not_valid_yet(self):
        book = TariffBook([rule("316", zone="mobile", frm=date(2027, 1, 1), id=1), rule("31", zone="NL", id=2)])
        assert book.tariff_for("+31699993678", date(2026, 5, 1)).zone == "NL"

    def test_it_loads_from_the_database(self, db):
        Tariff.objects.create(prefix="+447", zone="UK mobile", price_per_minute=Decimal("0.12"), valid_from=date(2020, 1, 1))
        book = TariffBook.load()
        assert book.tariff_for("+447700900123", date(2026, 1, 1)).zone == "UK mobile"


class RatePendingTests:
    def test_it_rates_unrated_calls_once_a_tariff_exists_and_keeps_fixed_prices(self, db, alice):
        from tests.factories import make_cdr
        from traffic.services.rating import cdr_rate_pending

        when = datetime(2026, 5, 3, 12, tzinfo=timezone.utc)
        unrated = make_cdr(account=alice, dst="+4930123456", started_at=when, billsec=61, rating="unrated")
        fixed = make_cdr(account=alice, dst="+4930123457", started_at=when, billsec=61, rating="rated", price=Decimal("9.99"))
        Tariff.objects.create(prefix="49", zone="Germany", price_per_minute=Decimal("0.60"), increment_first=1,
                              increment_next=1, valid_from=date(2020, 1, 1))

        assert cdr_rate_pending() == 1

        unrated = Cdr.objects.get(pk=unrated.pk)
        assert (unrated.rating, unrated.zone, unrated.price) == ("rated", "Germany", Decimal("0.61000"))
        assert Cdr.objects.get(pk=fixed.pk).price == Decimal("9.99")
