from __future__ import annotations

import re

import pytest

from retention.models import Category, LegalHold, RetentionPolicy
from retention.services import legal_hold_place
from voipxs.models import AuditEntry


@pytest.fixture
def superuser_client(client, dpo):
    """The retention admin is the DPO's (authorization matrix, F3), as the retention pages are."""
    from tests.factories import verified_client

    return verified_client(client, dpo)


@pytest.mark.django_db
class RetentionAdminTests:
    def test_it_lists_policies_holds_receipts_runs_and_held_calls(self, superuser_client):
        for name in ("retentionpolicy", "legalhold", "purgereceipt", "purgerun", "heldcdr"):
            assert superuser_client.get(f"/admin/retention/{name}/").status_code == 200, name

    def test_the_policy_list_shows_the_defaults_as_in_force_since_installation(self, superuser_client):
        policy = RetentionPolicy.objects.get(category=Category.DSR_EXPORT, version=1)
        superuser_client.post(f"/admin/retention/retentionpolicy/{policy.pk}/change/", {
            "trigger": policy.trigger, "period_months": 0, "period_days": 3, "action": "delete",
            "legal_basis": policy.legal_basis, "change_reason": "faster"})
        page = superuser_client.get("/admin/retention/retentionpolicy/").content.decode()
        start = page.index('id="result_list"')
        rows = page[start:page.index("</table>", start)]
        assert rows.count("since installation") == len(Category.values) and "2000" not in rows  # v1 of each
        assert rows.count("<tr") == len(Category.values) + 2  # the header, every v1, and v2 with its own date

    def test_it_saves_a_policy_change_as_a_new_version_through_the_service(self, superuser_client):
        policy = RetentionPolicy.objects.get(category=Category.DSR_EXPORT, version=1)
        response = superuser_client.post(f"/admin/retention/retentionpolicy/{policy.pk}/change/", {
            "trigger": policy.trigger, "period_months": 0, "period_days": 3, "action": "delete",
            "legal_basis": policy.legal_basis, "change_reason": "faster"})
        assert response.status_code == 302
        policy.refresh_from_db()
        assert policy.period_days == 7  # the old version is untouched
        assert RetentionPolicy.objects.get(category=Category.DSR_EXPORT, version=2).period_days == 3
        assert AuditEntry.objects.filter(action="retention.policy_change").exists()

    def test_a_new_versions_reason_starts_empty_and_must_be_given(self, superuser_client):
        policy = RetentionPolicy.objects.get(category=Category.DSR_EXPORT, version=1)
        url = f"/admin/retention/retentionpolicy/{policy.pk}/change/"
        page = superuser_client.get(url).content.decode()
        field = re.search(r'<input [^>]*name="change_reason"[^>]*>', page).group(0)
        assert "value=" not in field and " required" in field and "DESIGN.md defaults" not in page
        response = superuser_client.post(url, {"trigger": policy.trigger, "period_months": 0, "period_days": 3,
                                               "action": "delete", "legal_basis": policy.legal_basis})
        assert response.status_code == 200 and "This field is required." in response.content.decode()
        assert RetentionPolicy.objects.filter(category=Category.DSR_EXPORT).count() == 1

    def test_it_shows_a_refused_change_as_a_form_error_and_saves_nothing(self, superuser_client):
        policy = RetentionPolicy.objects.get(category=Category.CDR_BILLED, version=1)
        url = f"/admin/retention/retentionpolicy/{policy.pk}/change/"
        form = {"trigger": policy.trigger, "period_months": policy.period_months, "period_days": policy.period_days,
                "legal_basis": policy.legal_basis, "change_reason": "r"}
        unsupported = superuser_client.post(url, form | {"action": "anonymise"})
        unchanged = superuser_client.post(url, form | {"action": "delete"})
        assert unsupported.status_code == unchanged.status_code == 200  # the form again, with the reason
        assert "can only delete" in unsupported.content.decode()
        assert "changes nothing" in unchanged.content.decode()
        assert RetentionPolicy.objects.filter(category=Category.CDR_BILLED).count() == 1

    def test_it_releases_holds_through_the_service(self, superuser_client, dpo):
        hold = legal_hold_place(reason="dispute", reference="dispute:1", account_ids=[dpo.pk],
                                categories=["cdr_billed"])
        action = {"action": "release_holds", "_selected_action": [hold.pk]}
        asked = superuser_client.post("/admin/retention/legalhold/", action).content.decode()
        assert "Release 1 legal hold?" in asked and "cannot be undone" in asked
        assert LegalHold.objects.get(pk=hold.pk).released_at is None  # asked first
        response = superuser_client.post("/admin/retention/legalhold/", {**action, "post": "yes"})
        assert response.status_code == 302
        assert LegalHold.objects.get(pk=hold.pk).released_at is not None
        assert AuditEntry.objects.filter(action="retention.hold_release").exists()
