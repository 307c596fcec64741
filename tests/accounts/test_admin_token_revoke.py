"""An administrator revokes API tokens from the admin (a lost laptop, a leaked script: noted missing
since stop 17), through the same service as signing out, after a confirmation naming whose tokens."""
from __future__ import annotations

import pytest
from knox.models import AuthToken

from accounts.services.sign_in import api_token_issue
from tests.factories import verified_client
from voipxs.privacy.models import AuditEntry

pytestmark = pytest.mark.django_db
URL = "/admin/knox/authtoken/"


def _api_status(client, key: str) -> int:
    client.logout()
    return client.get("/api/v1/me/calls/", HTTP_AUTHORIZATION=f"Token {key}").status_code


class AdminTokenRevokeTests:
    def test_it_asks_naming_the_owner_then_the_token_stops_working(self, client, admin_user, alice, bob):
        alice_key, _expiry = api_token_issue(user=alice)
        bob_key, _expiry = api_token_issue(user=bob)
        assert _api_status(client, alice_key) == 200
        token = AuthToken.objects.get(user=alice)
        admin = verified_client(client, admin_user)
        action = {"action": "revoke_tokens", "_selected_action": [token.pk]}
        asked = admin.post(URL, action).content.decode()
        assert "Revoke 1 API token(s)?" in asked and "alice, signed in" in asked and "cannot be undone" in asked
        assert AuthToken.objects.filter(user=alice).exists()  # nothing done yet
        done = admin.post(URL, {**action, "post": "yes"}, follow=True).content.decode()
        assert "1 API token(s) revoked." in done
        assert _api_status(client, alice_key) == 401
        assert _api_status(client, bob_key) == 200  # only the selected one
        entry = AuditEntry.objects.get(action="api_token.revoke")
        assert entry.actor not in ("", "system") and entry.target_type == "user"

    def test_staff_who_are_not_administrators_cannot_revoke(self, client, admin_user, support, alice):
        api_token_issue(user=alice)
        token = AuthToken.objects.get(user=alice)
        response = verified_client(client, support).post(URL, {"action": "revoke_tokens", "_selected_action": [token.pk],
                                                               "post": "yes"})
        assert response.status_code in (302, 403)
        assert AuthToken.objects.filter(user=alice).exists()
