"""A notice withheld under a secrecy order that ends on day D may be sent from D's midnight in Amsterdam: at 00:30
on D (22:30 or 23:30 UTC the day before) the officer's send was refused as if the order still ran."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from django.utils.timezone import localdate

from disclosures.models import LegalBasis, Notice
from disclosures.services import notices
from disclosures.services.notices import SECRECY_RUNNING, disclosure_request_notices_send
from voipxs.exceptions import ApplicationError

from .conftest import receive, to_state

pytestmark = pytest.mark.django_db

AMS = ZoneInfo("Europe/Amsterdam")


class NoticeSendDayTests:
    def test_a_withheld_notice_is_sent_just_after_midnight_on_the_day_the_secrecy_order_ends(
            self, legal1, legal2, legal3, dispute_body, alice, monkeypatch):
        until = localdate() + timedelta(days=10)
        req = to_state(receive(legal1, dispute_body, basis=LegalBasis.COURT_ORDER, account_ids=[alice.pk],
                               numbers=[], secrecy_until=until), "delivered", intake=legal1, approvers=[legal2, legal3])
        midnight = datetime(until.year, until.month, until.day, tzinfo=AMS).astimezone(timezone.utc)  # as the clock
        monkeypatch.setattr(notices, "tz_now", lambda: midnight - timedelta(minutes=30))
        with pytest.raises(ApplicationError) as caught:
            disclosure_request_notices_send(actor=legal1, request=req)
        assert caught.value.message == SECRECY_RUNNING
        monkeypatch.setattr(notices, "tz_now", lambda: midnight + timedelta(minutes=30))
        assert [n.state for n in disclosure_request_notices_send(actor=legal1, request=req)] == [Notice.State.SENT]
