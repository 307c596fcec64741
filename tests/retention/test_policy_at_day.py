"""The DPO's "policy in force on <date>": the day as the page shows every time, in Amsterdam."""
from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from retention.models import Category
from retention.services import retention_policy_update
from tests.factories import verified_client

URL = "/retention/"


def _unbilled_in_force(page: str) -> str:
    listed = page.split("Policies in force on", 1)[1].split("</ul>", 1)[0]
    return re.search(r"CDRs of unbilled calls \(failed, free\): ([^<]+?) after .*?; (v\d+)\)", listed).group(1, 2)


@pytest.mark.django_db
class PolicyAtDayTests:
    def test_a_change_made_just_after_midnight_in_amsterdam_is_in_force_from_that_day_not_the_day_before(
            self, client, dpo):
        made = datetime(2026, 5, 1, 0, 30, tzinfo=ZoneInfo("Europe/Amsterdam"))  # 30 April 22:30 in UTC
        retention_policy_update(category=Category.CDR_UNBILLED, actor=dpo, period_months=4, now=made,
                                change_reason="fraud cases take longer")
        c = verified_client(client, dpo)

        assert _unbilled_in_force(c.get(URL, {"at": "2026-04-30"}).content.decode()) == ("3 months", "v1")
        assert _unbilled_in_force(c.get(URL, {"at": "2026-05-01"}).content.decode()) == ("4 months", "v2")
