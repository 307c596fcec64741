"""A click-to-call token outlived a password change, a password reset and the account becoming staff: whoever
had copied it (from a stolen laptop's extension options) could still list the owner's numbers and set up calls
on their bill after the owner changed the password, though every other API token died with it
(accounts.services.users.user_password_set). Now a call set-up token goes wherever the API tokens go."""
from __future__ import annotations

import re

import pytest
from django.core import mail

from accounts.models import CallSetupToken
from accounts.services.roles import user_roles_set
from tests.factories import PASSWORD
from tests.traffic.call_setup_helpers import URL, token_for
from voipxs.privacy.models import AuditEntry
from voipxs.privacy.purposes import Role

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-brand-new-passphrase-9"


def _opens(client, token: str) -> bool:
    return client.get(URL, HTTP_AUTHORIZATION=f"CallSetup {token}").status_code == 200


def test_a_password_change_ends_the_click_to_call_token(client, alice):
    token = token_for(alice)
    assert _opens(client, token)
    client.force_login(alice)
    response = client.post("/accounts/password/change/", {
        "old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 302
    client.logout()
    assert not _opens(client, token)
    assert not CallSetupToken.objects.filter(user=alice, revoked_at__isnull=True).exists()


def test_a_password_reset_ends_the_click_to_call_token(client, alice):
    token = token_for(alice)
    client.post("/accounts/password/reset/", {"email": "alice@example.org"})
    link = re.search(r"http://testserver(/accounts/password/reset/\S+/)", mail.outbox[0].body).group(1)
    form = client.get(link, follow=True).redirect_chain[-1][0]
    assert client.post(form, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}).status_code == 302
    assert not _opens(client, token)


def test_becoming_staff_ends_the_click_to_call_token(client, alice):
    """Staff must pass a second factor; this token was made before the account owed one."""
    token = token_for(alice)
    user_roles_set(user=alice, roles=[Role.CUSTOMER, Role.SUPPORT])
    assert not _opens(client, token)


def test_a_refused_password_change_keeps_the_token(client, alice):
    token = token_for(alice)
    client.force_login(alice)
    client.post("/accounts/password/change/", {
        "old_password": "not-the-password", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    client.logout()
    assert _opens(client, token)


def test_the_revocation_is_audited_with_a_count_only(client, alice):
    token_for(alice)
    client.force_login(alice)
    client.post("/accounts/password/change/", {
        "old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    entry = AuditEntry.objects.filter(action="call_setup_token.revoke_all").latest("id")
    assert entry.extra == {"count": 1, "reason": "password_set"} and entry.purpose
