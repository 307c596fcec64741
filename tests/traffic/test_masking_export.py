"""Bude art. 4.2(2): billing staff's export of the masking list (/calls/staff/masking-list/?format=csv)
tells the other providers every number to mask: the national list and the numbers our own subscribers
hold and asked to be masked, each number once, in the list's format."""
from __future__ import annotations

import csv
import io
from datetime import datetime, timezone

import pytest
from django.utils.timezone import localdate

from accounts.services.numbers import phone_number_release
from accounts.services.users import user_number_masking_set
from tests.factories import make_user, verified_client
from traffic.services.masking import masking_list_import, masking_list_take_off
from voipxs.privacy.models import AuditEntry

pytestmark = pytest.mark.django_db

HEADER = ["number", "valid_from", "valid_until"]


def _export(client, billing_staff) -> list[list[str]]:
    response = verified_client(client, billing_staff).get("/calls/staff/masking-list/?format=csv")
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


class MaskingExportTests:
    def test_it_holds_our_subscribers_requests_beside_the_list_each_number_once(self, client, bob, billing_staff):
        masking_list_import(actor=billing_staff, text="number\n+318000113\n+31699994222\n",
                            at=datetime(2026, 2, 20, tzinfo=timezone.utc))
        masking_list_take_off(actor=billing_staff, text="+31699994222",
                              at=datetime(2026, 3, 20, tzinfo=timezone.utc))
        masking_list_import(actor=billing_staff, text="number\n+31699995333\n")  # masked from next month on
        for name, number in (("dora", "+31699991111"), ("erin", "+31699994222"), ("finn", "+31699995333")):
            user_number_masking_set(user=make_user(name, numbers=[number]), masked=True)
        today = localdate().isoformat()
        rows = _export(client, billing_staff)
        assert rows[0] == HEADER
        # Numbers start with a quote, as every CSV cell starting with + does (traffic.exports.neutralise).
        assert sorted(rows[1:]) == [
            ["'+31699991111", today, ""],  # dora's request
            ["'+31699994222", "2026-03-01", ""],  # taken off the list, but erin asked: still masked
            ["'+31699995333", today, ""],  # listed from next month on; finn's request masks it now
            ["'+318000113", "2026-03-01", ""],
        ]  # bob (+31205550201) did not ask
        extras = str(list(AuditEntry.objects.filter(action="masking_list.export").values_list("extra", flat=True)))
        assert "1111111" not in extras and "2222222" not in extras

    def test_a_withdrawn_request_and_a_number_given_up_leave_it(self, client, billing_staff):
        dora, erin = make_user("dora", numbers=["+31699991111"]), make_user("erin", numbers=["+31699994222"])
        for user in (dora, erin):
            user_number_masking_set(user=user, masked=True)
        assert len(_export(client, billing_staff)) == 3
        user_number_masking_set(user=dora, masked=False)
        phone_number_release(phone=erin.phone_numbers.get())
        assert _export(client, billing_staff) == [HEADER]
