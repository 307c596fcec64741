"""The transparency report counts requests by the half-year of the day they came in, in Amsterdam: a request
received at 00:30 on 1 July (22:30 UTC on 30 June) belongs to the second half, as the register shows its date."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from disclosures.models import DisclosureRequest
from disclosures.selectors import transparency_report

from .conftest import receive

pytestmark = pytest.mark.django_db

AMS = ZoneInfo("Europe/Amsterdam")


class ReportHalfYearTests:
    @pytest.mark.parametrize("received, counted_in, not_in", [
        (datetime(2026, 7, 1, 0, 30, tzinfo=AMS), (2026, 2), (2026, 1)),  # 30 June 22:30 UTC
        (datetime(2026, 6, 30, 23, 30, tzinfo=AMS), (2026, 1), (2026, 2)),
        (datetime(2027, 1, 1, 0, 30, tzinfo=AMS), (2027, 1), (2026, 2)),  # 31 December 23:30 UTC
    ])
    def test_it_counts_a_request_in_the_half_year_of_its_day_in_amsterdam(self, settings, legal1, authority,
                                                                           received, counted_in, not_in):
        settings.DISCLOSURE_REPORT_THRESHOLD = 1
        req = receive(legal1, authority)
        DisclosureRequest.objects.filter(pk=req.pk).update(received_at=received)

        def total(year: int, half: int):
            return transparency_report(actor=legal1, year=year, half=half)["total"]

        assert (total(*counted_in), total(*not_in)) == ("1", "0")
