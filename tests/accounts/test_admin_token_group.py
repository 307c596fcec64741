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
