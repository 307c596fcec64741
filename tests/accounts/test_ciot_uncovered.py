"""The CIOT file: a number held before its holder's name and address were recorded is in it from the day
it was assigned (an empty-name row for the stretch), not from when the address was; no free-text cell is
a spreadsheet formula."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils.timezone import now

from accounts.ciot.adapters import render_csv
from accounts.ciot.selectors import CiotRecord
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


def test_a_formula_in_the_postcode_is_neutralised_as_every_free_text_cell():
    """The README promises formula-like cells quoted; the postcode is free text too (the admin's form takes
    any 12 characters), so a spreadsheet opening the CIOT file must not run it."""
    record = CiotRecord("+31205550101", "VoIP telephony", "Alice", "Damrak", "1", "=1+2", "Amsterdam", now(), None)
    body = render_csv([record], generated_at=now()).decode()
    assert ";'=1+2;" in body


@pytest.mark.django_db
def test_the_admin_is_told_when_a_new_address_starts_before_the_current_one(client, admin_user, alice):
    """A refusal of the service is a message on the form, not a server error (500)."""
    from tests.factories import verified_client

    _address(alice, "Alice Example", at=now() - timedelta(days=5))
    client.raise_request_exception = False
    response = verified_client(client, admin_user).post("/admin/accounts/subscriberdetails/add/", {
        "user": alice.pk, "name": "Alice Example", "street": "Singel", "house_number": "5", "postcode": "1015AB",
        "town": "Amsterdam", "valid_from": (now() - timedelta(days=10)).strftime("%Y-%m-%d %H:%M:%S")}, follow=True)
    assert response.status_code == 200 and response.redirect_chain[-1][0].endswith("/subscriberdetails/add/")
    assert "A new address must start after the current one." in response.content.decode()
    assert "successfully" not in response.content.decode()
    assert [v.street for v in alice.subscriber_details.all()] == ["Damrak"]


@pytest.mark.django_db
def test_a_failure_nobody_could_be_mailed_about_is_logged_and_not_marked_alerted(ciot_dir, alice, caplog):
    """With no active DPO or administrator with an e-mail address the alert reaches no one: the run must not
    say it was alerted, and the error log must say so (ids only)."""
    from .test_ciot import FailingAdapter

    with caplog.at_level("ERROR", logger="accounts.ciot.services"):
        run = ciot_sync(adapter=FailingAdapter())
    run.refresh_from_db()
    assert run.status == "failed" and run.alerted_at is None
    assert any(f"run {run.pk}" in r.getMessage() and "no one" in r.getMessage() for r in caplog.records)
    assert not any("Alice" in r.getMessage() or "Damrak" in r.getMessage() for r in caplog.records)
