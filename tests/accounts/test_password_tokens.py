"""Issue 16, leak 3: an API token outlived a password change and a password reset, so whoever had
stolen it kept the account after its owner changed the password. Web sessions already ended."""
from __future__ import annotations

import re

import pytest
from django.core import mail
from knox.models import AuthToken

from tests.factories import PASSWORD
from voipxs.models import AuditEntry

NEW_PASSWORD = "a-brand-new-passphrase-9"


def _token(client) -> str:
    response = client.post("/api/v1/auth/login/", {"username": "alice", "password": PASSWORD},
                           content_type="application/json")
    assert response.status_code == 200
    return response.json()["token"]


def _works(client, token: str) -> bool:
    return client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {token}").status_code == 200


@pytest.mark.django_db
class PasswordChangeEndsTokensTests:
    def test_it_revokes_api_tokens_when_the_password_is_changed(self, client, alice):
        token = _token(client)
        assert _works(client, token)
        client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
        response = client.post("/accounts/password/change/", {
            "old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
        assert response.status_code == 302
        client.logout()
        assert not _works(client, token)
        assert not AuthToken.objects.filter(user=alice).exists()

    def test_it_revokes_api_tokens_when_the_password_is_reset_by_mail(self, client, alice):
        token = _token(client)
        client.post("/accounts/password/reset/", {"email": "alice@example.org"})
        link = re.search(r"http://testserver(/accounts/password/reset/\S+/)", mail.outbox[0].body).group(1)
        form = client.get(link, follow=True).redirect_chain[-1][0]
        response = client.post(form, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
        assert response.status_code == 302
        assert not _works(client, token)

    def test_it_keeps_tokens_when_a_password_change_is_refused(self, client, alice):
        token = _token(client)
        client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
        client.post("/accounts/password/change/", {
            "old_password": "not-the-password", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
        assert _works(client, token)

    def test_it_audits_the_revocation_without_the_password(self, client, alice):
        _token(client)
        client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
        client.post("/accounts/password/change/", {
            "old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
        entry = AuditEntry.objects.filter(action="api_token.revoke_all").latest("id")
        assert entry.extra["reason"] == "password_set" and entry.extra["count"] == 1
        assert NEW_PASSWORD not in str(entry.extra) and PASSWORD not in str(entry.extra)
