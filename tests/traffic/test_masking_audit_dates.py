"""The audit entries of the masking list name the day its change takes effect: the 1st of the next billing month in
Amsterdam, as the page says, not the UTC date of that moment (23:00 or 22:00 UTC on the last day before it)."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from traffic.services.masking import masking_list_import, masking_list_take_off
from voipxs.privacy.models import AuditEntry

MARCH = datetime(2026, 3, 10, 9, 0, tzinfo=timezone.utc)  # the next billing period starts 1 April 00:00 (CEST)
LAST_OF_MARCH = datetime(2026, 3, 31, 22, 30, tzinfo=timezone.utc)  # 00:30 on 1 April in Amsterdam: April's


@pytest.mark.django_db
class MaskingAuditDatesTests:
    def test_the_import_and_the_take_off_are_audited_with_the_amsterdam_day_they_take_effect(self, billing_staff):
        masking_list_import(actor=billing_staff, text="number\n+318000113\n", at=MARCH)
        masking_list_take_off(actor=billing_staff, text="+318000113\n", at=LAST_OF_MARCH)
        listed = AuditEntry.objects.filter(action="masking_list.import").exclude(extra={}).get()
        taken = AuditEntry.objects.filter(action="masking_list.take_off").exclude(extra={}).get()
        assert listed.extra["valid_from"] == "2026-04-01"
        assert taken.extra["valid_until"] == "2026-05-01"  # at 00:30 on 1 April it is April: May's bills show it
