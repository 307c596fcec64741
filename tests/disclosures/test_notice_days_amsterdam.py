"""The days of a notice to the user (a secrecy order's end, a withheld notice's review date) are days in Amsterdam,
as the officer types and reads them: at 00:30 on the day a secrecy order ends (22:30 or 23:30 UTC the day before)
the officers are reminded, and a review date already past in Amsterdam is refused. The UTC date was a day behind."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from django.utils.timezone import localdate

from disclosures.models import LegalBasis, Notice
from disclosures.services.intake import NOTICE_REVIEW_PAST
from disclosures.services.jobs import disclosure_notice_reviews_remind, disclosure_secrecy_reminders
from voipxs.exceptions import ApplicationError

from .conftest import receive, to_state

pytestmark = pytest.mark.django_db

AMS = ZoneInfo("Europe/Amsterdam")
DAY = timedelta(days=1)


def _just_after_midnight(day: date) -> datetime:
    """00:30 on `day` in Amsterdam, as the clock gives it (in UTC: the day before)."""
    return datetime(day.year, day.month, day.day, 0, 30, tzinfo=AMS).astimezone(timezone.utc)


class NoticeDayTests:
    def test_the_review_reminder_comes_just_after_midnight_on_the_review_day(self, legal1, authority):
        review = localdate() + 10 * DAY
        receive(legal1, authority, notice_review_on=review)
        assert disclosure_notice_reviews_remind(now=_just_after_midnight(review) - 2 * timedelta(hours=1)) == 0
        assert disclosure_notice_reviews_remind(now=_just_after_midnight(review)) == 1

    def test_the_secrecy_reminder_comes_just_after_midnight_on_the_day_the_order_ends(self, legal1, legal2, legal3,
                                                                                     dispute_body, alice):
        until = localdate() + 10 * DAY
        req = to_state(receive(legal1, dispute_body, basis=LegalBasis.COURT_ORDER, account_ids=[alice.pk],
                               numbers=[], secrecy_until=until), "delivered", intake=legal1, approvers=[legal2, legal3])
        assert Notice.objects.get(request=req).state == Notice.State.WITHHELD
        assert disclosure_secrecy_reminders(now=_just_after_midnight(until) - 2 * timedelta(hours=1)) == 0
        assert disclosure_secrecy_reminders(now=_just_after_midnight(until)) == 1

    def test_a_review_date_already_past_in_amsterdam_is_refused_at_intake(self, legal1, authority):
        received = _just_after_midnight(date(2026, 12, 1))  # 30 November 23:30 UTC
        start = datetime(2026, 11, 1, tzinfo=AMS)
        with pytest.raises(ApplicationError) as caught:
            receive(legal1, authority, now=received, window=(start, start + 20 * DAY),
                    notice_review_on=date(2026, 11, 30))
        assert (caught.value.extra["field"], caught.value.message) == ("notice_review_on", NOTICE_REVIEW_PAST)
