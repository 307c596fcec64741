"""The contractor's view of its Users' calls (traffic.selectors.masking, `mask_rule` for CONTRACTOR_INFORMATION) takes
each call under the setting of its own billing period, and a billing period is an invoice's: Amsterdam's month. Two
places reckon that month from a call's moment: `MaskRule.omits` (whether a free call is left off, under the
setting of the call's month) and `MaskRule.periods_q` (only the calls of the months whose bills were itemised). A
call in the first hour of a month in Amsterdam (23:30 UTC on the last day of a winter month, 22:30 UTC in summer)
is the new month's in both; one in the last hour is the old month's."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest

from accounts.services.users import contractor_itemisation_set
from tests.factories import make_cdr, verified_client
from traffic.models import Cdr
from traffic.selectors.masking import mask_rule
from voipxs.privacy.purposes import Purpose

pytestmark = pytest.mark.django_db

UTC = timezone.utc
BOBS, FREEPHONE, OTHER = "+31205550201", "+318007654", "+31699991111"
FREEPHONE_MASKED, OTHER_MASKED = "+318007•••", "+31699991•••"
CONTRACTOR_CALLS = "/api/v1/contractor/calls/"


def _view(client, acme_admin) -> list[tuple[datetime, str]]:
    """(moment, number) of the calls the contractor's admin sees (masked), oldest first."""
    results = verified_client(client, acme_admin).get(CONTRACTOR_CALLS).json()["results"]
    return sorted((datetime.fromisoformat(r["started_at"]), r["other_number"]) for r in results)


def _rule(acme_admin):
    return mask_rule(actor=acme_admin, purpose=Purpose.CONTRACTOR_INFORMATION)


class ContractorViewFreeCallsMonthTests:
    """Acme leaves free calls off (the default) and chose to list them from a month on: a free call in that
    month's first Amsterdam hour is listed, one in the last hour before it is left off."""

    @pytest.mark.parametrize(("asked_at", "last_hour", "first_hour"), [
        # summer time (UTC+2): listed from April, whose first hour starts at 22:00 UTC on 31 March
        (datetime(2026, 3, 15, 12, tzinfo=UTC), datetime(2026, 3, 31, 21, 30, tzinfo=UTC),
         datetime(2026, 3, 31, 22, 30, tzinfo=UTC)),
        # winter time (UTC+1): listed from February, whose first hour starts at 23:00 UTC on 31 January
        (datetime(2026, 1, 15, 12, tzinfo=UTC), datetime(2026, 1, 31, 22, 30, tzinfo=UTC),
         datetime(2026, 1, 31, 23, 30, tzinfo=UTC)),
    ], ids=["summer", "winter"])
    def test_a_free_call_is_judged_by_its_amsterdam_month(self, client, acme, bob, acme_admin, asked_at, last_hour,
                                                          first_hour):
        contractor_itemisation_set(contractor=acme, itemisation="full", omit_free_numbers=False, at=asked_at)
        rule = _rule(acme_admin)
        assert rule.omits(FREEPHONE, last_hour, Decimal("0")) is True  # the month before: still left off
        assert rule.omits(FREEPHONE, first_hour, Decimal("0")) is False  # 00:30 on the 1st in Amsterdam: listed
        for started_at in (last_hour, first_hour):
            make_cdr(account=bob, src=BOBS, dst=FREEPHONE, started_at=started_at, price=Decimal("0"), zone="NL free")
        make_cdr(account=bob, src=BOBS, dst=OTHER, started_at=last_hour, price=Decimal("0.10"))  # charged: listed
        assert _view(client, acme_admin) == [(last_hour, OTHER_MASKED), (first_hour, FREEPHONE_MASKED)]


class ContractorViewItemisedPeriodsTests:
    """Acme was itemised in January, chose "none" for February and "masked" again from March: the view lists
    January's calls up to 23:59 on 31 January in Amsterdam and March's from 00:00 on 1 March there, none between."""

    LAST_JANUARY_HOUR = datetime(2026, 1, 31, 22, 50, tzinfo=UTC)  # 23:50 on 31 January in Amsterdam
    FIRST_FEBRUARY_HOUR = datetime(2026, 1, 31, 23, 30, tzinfo=UTC)  # 00:30 on 1 February in Amsterdam
    LAST_FEBRUARY_HOUR = datetime(2026, 2, 28, 22, 50, tzinfo=UTC)  # 23:50 on 28 February in Amsterdam
    FIRST_MARCH_HOUR = datetime(2026, 2, 28, 23, 30, tzinfo=UTC)  # 00:30 on 1 March in Amsterdam

    @pytest.fixture
    def periods(self, acme, bob):
        contractor_itemisation_set(contractor=acme, itemisation="none", at=datetime(2026, 1, 20, tzinfo=UTC))
        contractor_itemisation_set(contractor=acme, itemisation="masked", at=datetime(2026, 2, 20, tzinfo=UTC))
        for started_at in (self.LAST_JANUARY_HOUR, self.FIRST_FEBRUARY_HOUR, self.LAST_FEBRUARY_HOUR,
                           self.FIRST_MARCH_HOUR):
            make_cdr(account=bob, src=BOBS, dst=OTHER, started_at=started_at)

    def test_the_filter_keeps_the_itemised_months_to_the_amsterdam_hour(self, acme_admin, periods):
        kept = Cdr.objects.filter(_rule(acme_admin).periods_q()).order_by("started_at")
        assert list(kept.values_list("started_at", flat=True)) == [self.LAST_JANUARY_HOUR, self.FIRST_MARCH_HOUR]

    def test_the_contractor_admin_sees_the_same_calls(self, client, acme_admin, periods):
        assert _view(client, acme_admin) == [(self.LAST_JANUARY_HOUR, OTHER_MASKED),
                                             (self.FIRST_MARCH_HOUR, OTHER_MASKED)]
