"""The page a customer sees after erasing their account, the last one they see of us: on a phone its table of what
the law makes us keep was wider than the screen (101 px at 390 px in Dutch), its "Deleted on" column, the date the
customer wants, swiped out of sight. It is a {% stacked_table %}: on a phone a card per kind of data, each value beside
its heading, as the customer's other lists."""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from django.utils.timezone import now

from accounts.dsr.models import DataSubjectRequest
from tests.factories import PASSWORD, verified_client

pytestmark = pytest.mark.django_db


def test_the_table_of_what_is_kept_is_cards_on_a_phone_each_value_beside_its_heading(client, alice):
    from traffic.models import Invoice

    period = date.today().replace(day=1) - timedelta(days=40)
    Invoice.objects.create(number=f"INV-{alice.pk}-{period:%Y%m}", account=alice, period=period,
                           due_date=period + timedelta(days=45), dispute_window_ends=date.today() + timedelta(days=150),
                           status="paid", paid_at=now())
    verified_client(client, alice)
    response = client.post("/privacy-requests/new/", {"kind": DataSubjectRequest.Kind.ERASURE, "password": PASSWORD,
                                                      "confirm": "yes"})
    page = response.content.decode()
    assert response.status_code == 200 and "Your account is closed" in page
    table = re.search(r"<table[^>]*>.*?</table>", page, re.DOTALL).group(0)
    assert re.search(r'<table class="table stacked"', table), table
    assert 'data-label="Deleted on"' in table and 'data-label="Legal basis"' in table
