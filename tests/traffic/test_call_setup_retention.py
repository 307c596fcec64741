"""Set-up records (issue 12) follow the register: kept 30 days by the daily purge, in the person's export,
gone with an erasure."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils.timezone import now

from traffic.models import CallSetup
from retention.purgers import call_setups_purge
from voipxs.privacy.registry import purgers, sections

pytestmark = pytest.mark.django_db


def setup_for(user, *, age_days: int) -> CallSetup:
    return CallSetup.objects.create(user=user, own_number=user.phone_numbers.get(), number="+31699993678",
                                    via="extension", backend="asterisk", created_at=now() - timedelta(days=age_days))


def test_the_daily_purge_deletes_set_ups_older_than_30_days(alice):
    old, recent = setup_for(alice, age_days=31), setup_for(alice, age_days=29)
    assert purgers()["call_setup"] is call_setups_purge
    assert call_setups_purge(now=now(), dry_run=True)["deleted"] == 1 and CallSetup.objects.count() == 2
    assert call_setups_purge(now=now())["deleted"] == 1
    assert list(CallSetup.objects.values_list("pk", flat=True)) == [recent.pk] and old.pk != recent.pk


def test_export_and_erasure(alice, bob):
    setup_for(alice, age_days=1)
    setup_for(bob, age_days=1)
    section = next(s for s in sections() if s.name == "call_setups")
    assert section.purpose == "call_setup"
    rows = list(section.exporter(alice))
    assert [(r["number"], r["own_number"], r["via"]) for r in rows] == [("+31699993678", "+31205550101", "extension")]
    assert section.eraser(alice, [])["deleted"] == 1
    assert not CallSetup.objects.filter(user=alice).exists() and CallSetup.objects.filter(user=bob).exists()


def test_a_purge_that_deleted_set_ups_records_it_under_the_retention_purpose_with_counts_only(alice):
    from voipxs.models import AuditEntry
    from voipxs.privacy.purposes import RETENTION_PURPOSE

    setup_for(alice, age_days=31), setup_for(alice, age_days=45), setup_for(alice, age_days=29)
    assert call_setups_purge(now=now(), dry_run=True)["deleted"] == 2
    assert not AuditEntry.objects.filter(action="call_setup.purge").exists()  # a dry run writes nothing
    result = call_setups_purge(now=now())
    entry = AuditEntry.objects.get(action="call_setup.purge")
    assert entry.purpose == RETENTION_PURPOSE and entry.outcome == "ok"
    assert entry.extra == {"deleted": 2, "kept": 0, "cutoff": result["cutoff"]}  # counts, no number, no person
    assert entry.target_id == "" and entry.actor == "system"
    assert call_setups_purge(now=now())["deleted"] == 0
    assert AuditEntry.objects.filter(action="call_setup.purge").count() == 1  # nothing deleted, nothing recorded
