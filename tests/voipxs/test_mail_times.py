"""A time in a staff mail reads as the recipient reads a clock: Amsterdam time with its zone named, in their
language; a deadline at 23:30 UTC on 6 December is "7 December 2026 00:30 CET", not 6 December (UTC)."""
from __future__ import annotations

from datetime import datetime, timezone
from types import SimpleNamespace

import pytest
from django.utils import timezone as dj_timezone, translation

from disclosures.services.deadlines import _written_orders_mail
from voipxs.mail import mail_datetime


@pytest.mark.parametrize("utc, language, shown", [
    (datetime(2026, 12, 6, 23, 30, tzinfo=timezone.utc), "en", "7 December 2026 00:30 CET"),
    (datetime(2026, 12, 6, 23, 30, tzinfo=timezone.utc), "nl", "7 december 2026 00:30 CET"),
    (datetime(2026, 3, 29, 1, 0, tzinfo=timezone.utc), "en", "29 March 2026 03:00 CEST"),  # just after the change
    (datetime(2026, 10, 25, 0, 30, tzinfo=timezone.utc), "nl", "25 oktober 2026 02:30 CEST"),  # the hour twice:
    (datetime(2026, 10, 25, 1, 30, tzinfo=timezone.utc), "nl", "25 oktober 2026 02:30 CET"),  # the zone tells which
])
def test_a_mail_prints_amsterdam_time_with_its_zone_in_the_readers_language(utc, language, shown):
    with translation.override(language):
        assert mail_datetime(utc) == shown


def test_a_mail_prints_amsterdam_time_whatever_time_zone_the_sending_code_has_active():
    # A task or request that activated another zone (UTC, a visitor's) must not change what the staff mail says.
    with dj_timezone.override("UTC"), translation.override("en"):
        assert mail_datetime(datetime(2026, 12, 6, 23, 30, tzinfo=timezone.utc)) == "7 December 2026 00:30 CET"


def test_the_late_written_order_mail_names_the_amsterdam_time_it_was_due():
    late = SimpleNamespace(pk=7, emergency=True, written_order_due_at=datetime(2026, 12, 7, 15, 30, tzinfo=timezone.utc))
    with translation.override("en"):
        _subject, body = _written_orders_mail([late], [])
    assert "was due 7 December 2026 16:30 CET and is not on file" in body
