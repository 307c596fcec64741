"""A number held before its holder's name and address were recorded must still be in the CIOT file from
the day it was assigned (an empty-name row for the stretch), not appear to start when the address did."""
from __future__ import annotations

from datetime import timedelta

import pytest

from accounts.ciot.services import ciot_sync

from .test_ciot import BOB, _address, _file, _rows_for


@pytest.mark.django_db
def test_the_stretch_before_the_first_address_is_in_the_file(ciot_dir, bob):
    phone = bob.phone_numbers.get()
    recorded = phone.valid_from + timedelta(days=3)
    _address(bob, "Bob Builder", at=recorded)

    run = ciot_sync()

    rows = _rows_for(_file(ciot_dir), BOB)
    assert [(r["name"], r["valid_from"], r["valid_to"]) for r in rows] == [
        ("", phone.valid_from.isoformat(timespec="seconds"), recorded.isoformat(timespec="seconds")),
        ("Bob Builder", recorded.isoformat(timespec="seconds"), ""),
    ]
    assert run.incomplete == 1 and run.records == len(_file(ciot_dir))
