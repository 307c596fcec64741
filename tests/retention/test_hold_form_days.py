"""A legal hold placed on the DPO's page with dates: the days as the DPO means them, in Amsterdam, the end day included."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.timezone import localdate

from retention.models import Category, LegalHold
from retention.purge.run import purge_expired
from retention.selectors import legal_hold_active_q
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

    def test_a_hold_set_to_expire_on_a_day_ends_at_that_days_midnight_in_amsterdam(self, client, dpo, alice):
        # 1 April is in summer time: its midnight is 22:00 UTC on 31 March; read as UTC midnight the hold went on
        # holding until 02:00 on the day the DPO typed, and its end showed as 02:00. Next year's, always ahead.
        year = localdate().year + 1
        c = verified_client(client, dpo)
        response = c.post(reverse("retention:hold-place"), {
            "reason": "dispute", "reference": f"court:{year}-7", "account_ids": str(alice.pk),
            "categories": [Category.CDR_BILLED], "expires_at": f"{year}-04-01"})
        assert response.status_code == 302
        hold = LegalHold.objects.get(reference=f"court:{year}-7")

        assert hold.expires_at == datetime(year, 4, 1, tzinfo=AMS)
        assert not LegalHold.objects.filter(legal_hold_active_q(at=datetime(year, 4, 1, 0, 30, tzinfo=AMS)),
                                            pk=hold.pk).exists()
        assert LegalHold.objects.filter(legal_hold_active_q(at=datetime(year, 3, 31, 23, 30, tzinfo=AMS)),
                                        pk=hold.pk).exists()
        page = c.get(reverse("retention:dashboard")).content.decode()
        assert date_format(datetime(year, 4, 1), "DATE_FORMAT") in page

    @pytest.mark.parametrize("field", ["window_start", "window_end", "expires_at"])
    def test_the_first_day_of_year_one_is_refused_at_its_field(self, client, dpo, alice, field):
        response = verified_client(client, dpo).post(reverse("retention:hold-place"), {
            "reason": "dispute", "reference": "court:edge", "account_ids": str(alice.pk),
            "categories": [Category.CDR_BILLED], field: "0001-01-01"})
        assert response.status_code == 400
        assert field in response.context["hold_form"].errors
