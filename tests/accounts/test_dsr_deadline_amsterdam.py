"""A request's deadline is one calendar month after the day it was received in Amsterdam (GDPR art. 12(3); Reg.
1182/71 counts the months on the calendar of the place), not after the UTC day: near midnight the two differ, and
at a month's end the UTC day can be another month."""
from __future__ import annotations

import re

from datetime import datetime, timezone
from unittest import mock
from zoneinfo import ZoneInfo

import pytest

from accounts.dsr.models import DataSubjectRequest
from accounts.dsr.services import dsr_request_create
from tests.factories import verified_client

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
Kind = DataSubjectRequest.Kind


def _request_received(user, moment: datetime) -> DataSubjectRequest:
    # now() gives UTC, as the database stores it
    with mock.patch("accounts.dsr.services.now", return_value=moment.astimezone(timezone.utc)):
        return dsr_request_create(user=user, kind=Kind.RECTIFICATION, details="My label is wrong")


def _answer_by(client, user) -> str:
    page = verified_client(client, user).get("/privacy-requests/").content.decode()
    return re.search(r'data-label="Answer by"[^>]*>([^<]*)<', page).group(1).strip()


@pytest.mark.django_db
class DsrDeadlineAmsterdamTests:
    def test_a_request_of_the_first_of_march_just_after_midnight_is_due_on_the_first_of_april(self, client, alice):
        # 00:30 on 1 March in Amsterdam is still 28 February in UTC: one month after that was 28 March.
        req = _request_received(alice, datetime(2027, 3, 1, 0, 30, tzinfo=AMSTERDAM))
        assert _answer_by(client, alice) == "1 April 2027"
        assert req.deadline.astimezone(AMSTERDAM).date().isoformat() == "2027-04-01"

    def test_a_request_of_the_last_of_march_just_after_midnight_is_due_on_the_last_of_april(self, client, alice):
        # 00:30 on 31 March (summer time) is 30 March in UTC: one month after that ran into 1 May in Amsterdam.
        req = _request_received(alice, datetime(2027, 3, 31, 0, 30, tzinfo=AMSTERDAM))
        assert _answer_by(client, alice) == "30 April 2027"
        assert req.deadline.astimezone(AMSTERDAM).date().isoformat() == "2027-04-30"

    def test_the_time_of_day_stays_across_a_change_to_summer_time(self, alice):
        req = _request_received(alice, datetime(2027, 3, 15, 10, 0, tzinfo=AMSTERDAM))
        assert req.deadline.astimezone(AMSTERDAM) == datetime(2027, 4, 15, 10, 0, tzinfo=AMSTERDAM)
