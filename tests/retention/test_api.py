from __future__ import annotations

import pytest
from django.utils.timezone import now

from retention.models import LegalHold, PurgeLock, RetentionPolicy
from tests.factories import verified_client

BASE = "/api/v1/staff/retention"


@pytest.mark.django_db
class RetentionApiTests:
    def test_it_lists_policy_versions_for_the_dpo_only(self, client, dpo, alice):
        assert verified_client(client, alice).get(f"{BASE}/policies/").status_code == 403
        response = verified_client(client, dpo).get(f"{BASE}/policies/")
        assert response.status_code == 200
        assert {p["category"] for p in response.json()} >= {"cdr_billed", "invoice", "audit_log"}

    def test_it_adds_a_policy_version_and_names_the_bad_field(self, client, dpo):
        c = verified_client(client, dpo)
        ok = c.post(f"{BASE}/policies/dsr_export/", {"period_days": 3, "change_reason": "r"}, content_type="application/json")
        assert ok.status_code == 201 and ok.json()["version"] == 2
        assert RetentionPolicy.objects.filter(category="dsr_export").count() == 2
        bad = c.post(f"{BASE}/policies/dsr_export/", {"period_days": -3, "change_reason": "r"}, content_type="application/json")
        assert bad.status_code == 400 and "period_days" in bad.json()
        unknown = c.post(f"{BASE}/policies/nope/", {"change_reason": "r"}, content_type="application/json")
        assert unknown.status_code == 400
        unsupported = c.post(f"{BASE}/policies/dsr_export/", {"action": "anonymise", "change_reason": "r"},
                             content_type="application/json")
        assert unsupported.status_code == 400 and unsupported.json()["field"] == "action"

    def test_it_places_lists_and_releases_holds_without_showing_numbers(self, client, dpo):
        c = verified_client(client, dpo)
        placed = c.post(f"{BASE}/holds/place/", {"reason": "dispute", "reference": "dispute:9", "numbers": ["+31205550101"],
                                                  "categories": ["cdr_billed"]}, content_type="application/json")
        assert placed.status_code == 201 and placed.json()["numbers"] == 1
        listed = c.get(f"{BASE}/holds/")
        assert "5550101" not in listed.content.decode()
        hold_id = placed.json()["id"]
        assert c.post(f"{BASE}/holds/{hold_id}/release/").status_code == 200
        assert c.post(f"{BASE}/holds/{hold_id}/release/").status_code == 400  # already released
        bad = c.post(f"{BASE}/holds/place/", {"reason": "dispute", "reference": "x", "categories": ["cdr_billed"],
                                               "numbers": ["banana"]}, content_type="application/json")
        assert bad.status_code == 400 and bad.json()["field"] == "numbers"
        assert LegalHold.objects.count() == 1

    def test_it_runs_a_dry_run_and_lists_receipts(self, client, dpo):
        c = verified_client(client, dpo)
        run = c.post(f"{BASE}/dry-run/")
        assert run.status_code == 200 and run.json()["receipts"]
        receipts = c.get(f"{BASE}/receipts/").json()
        assert receipts and all(r["dry_run"] and r["run_status"] == "done" for r in receipts)

    def test_it_runs_a_dry_run_while_a_purge_holds_the_lease(self, client, dpo):
        PurgeLock.objects.update_or_create(pk=1, defaults={"holder": "a live purge", "renewed_at": now()})
        run = verified_client(client, dpo).post(f"{BASE}/dry-run/")
        assert run.status_code == 200 and run.json()["receipts"]
