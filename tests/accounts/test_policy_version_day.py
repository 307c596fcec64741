"""A version the system publishes is numbered by its day ("2026-12-08.1"), the day users read on the policy page:
the day in Amsterdam, not in UTC, so one published at 00:30 on 8 December is not numbered the 7th."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from accounts.dsr import policy
from accounts.dsr.policy import policy_version_generated


@pytest.mark.django_db
class PolicyVersionDayTests:
    def test_a_version_generated_just_after_midnight_is_numbered_by_its_day_in_amsterdam(self, dpo, monkeypatch):
        monkeypatch.setattr(policy, "now", lambda: datetime(2026, 12, 7, 23, 30, tzinfo=timezone.utc))
        new = policy_version_generated(summaries={"en": "Failed calls are kept longer."}, substantive=False,
                                       actor=dpo)
        assert new.version == "2026-12-08.1"
