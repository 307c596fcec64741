"""README: a `bad_number` (a dialled string that is no valid number) is kept as written and never priced. The
hourly re-rating (`cdr_rate_pending`) must not price it either, also when it was dialled with a "+" and a
tariff's prefix covers its first digits."""
from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

from traffic.models import Cdr, Tariff
from traffic.services.imports import cdr_bulk_import
from traffic.services.rating import cdr_rate_pending
from traffic.services.sources import source_create

# 8 national digits after +31: too short for a Dutch number, so no number at all.
LINE = ('"acct-7","0205550101","+3120555012","from-internal","""Jansen"" <0205550101>","SIP/alice-00000001",'
        '"SIP/trunk-00000002","Dial","SIP/trunk","2026-05-04 10:00:00","2026-05-04 10:00:05",'
        '"2026-05-04 10:01:06",66,61,"ANSWERED","DOCUMENTATION","1001.9",""\n')


def test_a_bad_number_stays_unpriced_after_the_hourly_re_rating(db):
    Tariff.objects.create(prefix="31", zone="NL", price_per_minute=Decimal("0.60"), increment_first=1,
                          increment_next=1, valid_from=date(2020, 1, 1))
    source = source_create(name="pbx-bad-number", format="asterisk-csv", timezone="Europe/Amsterdam")
    cdr_bulk_import(source=source, stream=io.BytesIO(LINE.encode()), file_name="Master.csv")
    cdr = Cdr.objects.get(source=source)
    assert "bad_number" in cdr.flags and cdr.price is None  # the import did not price it

    assert cdr_rate_pending() == 0
    cdr.refresh_from_db()
    assert (cdr.rating, cdr.price, cdr.zone) == ("unrated", None, "")
