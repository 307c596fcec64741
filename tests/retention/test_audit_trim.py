"""The daily purge trims the audit log after the audit_log policy's period (5 years, GDPR 5(2)) behind an
anchor, says so in its receipt and on the DPO's page, and leaves a chain that still verifies."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils.timezone import now

from retention.models import Category
from retention.purge.rules import shift_months
from retention.purge.run import purge_expired
from retention.services import retention_policy_update
from tests.factories import verified_client
from voipxs.models import AuditAnchor, AuditEntry

# A frozen clock six years ahead: the cutoff (five years before it) lies a year after the test's own
# entries, so whatever the fixtures and services write during a test is old enough to go.
NOW = now() + timedelta(days=6 * 365)
CUTOFF = shift_months(NOW, -60)


def _entries(n: int, *, at, action: str) -> list[int]:
    return [AuditEntry.objects.create(actor="system:test", action=action, created_at=at).pk for _ in range(n)]


def _left(ids: list[int]) -> int:
    return AuditEntry.objects.filter(pk__in=ids).count()


def _audit_receipt(result: dict) -> dict:
    return next(r for r in result["receipts"] if r["category"] == Category.AUDIT_LOG)


@pytest.mark.django_db
class AuditLogPurgeTests:
    def test_it_removes_entries_older_than_five_years_and_keeps_newer_ones(self, capsys):
        old = _entries(3, at=CUTOFF - timedelta(minutes=1), action="test.old")
        young = _entries(2, at=CUTOFF + timedelta(minutes=1), action="test.young")
        result = purge_expired(now=NOW)
        receipt = _audit_receipt(result)
        assert _left(old) == 0 and _left(young) == 2
        assert receipt["deleted"] >= 3 and receipt["cutoff"] == CUTOFF.isoformat()
        assert receipt["details"]["up_to_seq"] == AuditAnchor.objects.get().up_to_seq
        call_command("verify_audit_log")
        assert "audit chain intact" in capsys.readouterr().out

    def test_a_dry_run_reports_the_count_and_deletes_nothing(self):
        old = _entries(3, at=CUTOFF - timedelta(days=1), action="test.old")
        total = AuditEntry.objects.count()
        result = purge_expired(now=NOW, dry_run=True)
        assert _audit_receipt(result)["deleted"] == total
        assert _left(old) == 3 and not AuditAnchor.objects.exists()
        assert not AuditEntry.objects.filter(action="audit.trim").exists()

    def test_the_cutoff_is_the_period_of_the_policy_in_force(self, dpo):
        retention_policy_update(category=Category.AUDIT_LOG, actor=dpo, period_months=84,
                                change_reason="kept longer after review")
        old = _entries(3, at=CUTOFF - timedelta(days=1), action="test.old")
        result = purge_expired(now=NOW)
        assert _audit_receipt(result)["cutoff"] == shift_months(NOW, -84).isoformat()
        assert _audit_receipt(result)["deleted"] == 0 and _left(old) == 3

    def test_the_dpo_page_lists_the_audit_log_receipt(self, client, dpo):
        c = verified_client(client, dpo)
        _entries(2, at=CUTOFF + timedelta(days=1), action="test.young")  # the page's own reads stay
        deleted = _audit_receipt(purge_expired(now=NOW))["deleted"]
        assert deleted > 0
        receipts = c.get("/retention/").content.decode().split('id="receipts"', 1)[1]
        assert re.search(rf">Audit log \(pseudonymous\)</td><td[^>]*>{deleted}</td>", receipts)
