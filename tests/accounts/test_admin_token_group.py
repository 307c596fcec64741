"""Authorization matrix findings F1 and F2 (issue 16): the admin could mint API tokens for anyone in
knox's token admin, and rename groups to give itself a legal officer's role without a second admin."""
from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from knox.models import AuthToken

from tests.factories import verified_client


@pytest.mark.django_db
class AdminCannotMintOrRenameTests:
    def test_the_admin_cannot_add_an_api_token(self, client, admin_user, legal1):
        admin = verified_client(client, admin_user)
        assert admin.get("/admin/knox/authtoken/add/").status_code == 403
        admin.post("/admin/knox/authtoken/add/", {"user": legal1.pk})
        assert not AuthToken.objects.filter(user=legal1).exists()

    def test_the_admin_cannot_rename_a_role_group(self, client, admin_user, legal1):
        admin = verified_client(client, admin_user)
        group = Group.objects.get(name="legal_officer")
        admin.post(f"/admin/auth/group/{group.pk}/change/", {"name": "renamed"})
        group.refresh_from_db()
        assert group.name == "legal_officer"
        assert admin.get("/admin/auth/group/add/").status_code == 403


@pytest.mark.django_db
class RetentionAdminIsTheDposTests:
    """Finding F3: the retention admin had no role gate, so the admin role shortened retention periods,
    placed and released holds, and saw a disclosure request's hold (whom a secret request targets)."""

    def test_the_admin_role_sees_no_retention_policy_hold_or_held_call(self, client, admin_user):
        admin = verified_client(client, admin_user)
        for page in ("retentionpolicy", "legalhold", "heldcdr"):
            assert admin.get(f"/admin/retention/{page}/").status_code == 403, page
        assert admin.get("/admin/retention/legalhold/add/").status_code == 403
        assert b"/admin/retention/legalhold/" not in admin.get("/admin/").content

    def test_the_dpo_still_manages_them(self, client, dpo):
        officer = verified_client(client, dpo)
        assert officer.get("/admin/retention/legalhold/").status_code == 200
        assert officer.get("/admin/retention/retentionpolicy/add/").status_code == 200
        assert officer.get("/admin/retention/heldcdr/add/").status_code == 403  # held copies: read-only


@pytest.mark.django_db
def test_the_admins_password_form_is_the_portals_which_revokes_tokens(client, admin_user):
    """Django admin's own password form saved past `user_password_set`, leaving API tokens alive."""
    response = verified_client(client, admin_user).get("/admin/password_change/")
    assert response.status_code == 302 and response["Location"] == "/accounts/password/change/"
