"""An erasure under a legal hold keeps the number's assignment period (the hold is about it), but the
person no longer holds the number: the period ends at the erasure, so the number can be given to the next
customer and the CIOT file names that customer from then on."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils.timezone import now

from accounts.ciot.services import ciot_sync, subscriber_details_set
from accounts.dsr.models import DataSubjectRequest
from accounts.dsr.services import dsr_request_create
from accounts.models import PhoneNumber
from accounts.services.numbers import phone_number_port_in
from tests.factories import PASSWORD, make_cdr

from .test_ciot import ALICE, _file, _rows_for


@pytest.mark.django_db
def test_an_erased_holders_number_goes_to_the_next_customer(ciot_dir, alice, carol):
    from retention.services import legal_hold_place

    make_cdr(account=alice, dst="+31699997321", started_at=now() - timedelta(days=3))
    legal_hold_place(reason="preservation_order", reference="TEST-HOLD-2", categories=["cdr_billed", "cdr_unbilled"],
                     numbers=[ALICE], window_start=now() - timedelta(days=60), expires_at=now() + timedelta(days=90))
    req = dsr_request_create(user=alice, kind=DataSubjectRequest.Kind.ERASURE, password=PASSWORD)
    kept = PhoneNumber.objects.get(user_id=alice.pk)  # the hold keeps the period
    assert kept.valid_to == req.completed_at

    taken_over = phone_number_port_in(user=carol, number=ALICE, at=now())
    subscriber_details_set(user=carol, actor=None, at=taken_over.valid_from - timedelta(days=1), name="Carol Caller",
                           street="Damrak", house_number="1", postcode="1012 LG", town="Amsterdam")
    ciot_sync()
    assert [r["name"] for r in _rows_for(_file(ciot_dir), ALICE)] == ["Carol Caller"]
