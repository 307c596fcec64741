"""A legal hold placed on the DPO's page with dates: the days as the DPO means them, in Amsterdam, the end day included."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils.formats import date_format

from retention.models import Category, LegalHold
from retention.purge.run import purge_expired
from tests.factories import make_cdr, verified_client
from tests.retention.helpers import surviving

AMS = ZoneInfo("Europe/Amsterdam")


def _call(account, *when: int) -> int:
    return make_cdr(account=account, started_at=datetime(*when, tzinfo=AMS), rating="free").id  # unbilled: 3 months


@pytest.mark.django_db
class HoldFormDaysTests:
    def test_a_hold_from_the_page_keeps_the_calls_of_its_first_and_last_day_and_says_so(self, client, dpo, alice):
        # March 2026: winter time on the 1st (UTC+1), summer time on the 31st (UTC+2).
        first_day = _call(alice, 2026, 3, 1, 0, 30)  # 28 February in UTC
        last_day = _call(alice, 2026, 3, 31, 12, 0)
        outside = [_call(alice, 2026, 2, 28, 12, 0), _call(alice, 2026, 4, 1, 12, 0)]
        c = verified_client(client, dpo)

        response = c.post(reverse("retention:hold-place"), {
            "reason": "dispute", "reference": "court:2026-41", "account_ids": str(alice.pk),
            "categories": [Category.CDR_BILLED, Category.CDR_UNBILLED],
            "window_start": "2026-03-01", "window_end": "2026-03-31"})
        assert response.status_code == 302
        purge_expired()  # today: March's calls are long past their 3 months

        assert surviving([first_day, last_day]) == {first_day, last_day}
        assert surviving(outside) == set()  # the days around the window are not held
        # the page names the days the DPO chose, not the day after
        row = c.get(reverse("retention:dashboard")).content.decode()
        hold = LegalHold.objects.get(reference="court:2026-41")
        shown = f"{date_format(datetime(2026, 3, 1), 'DATE_FORMAT')} – {date_format(datetime(2026, 3, 31), 'DATE_FORMAT')}"
        assert shown in row, hold.window_end
