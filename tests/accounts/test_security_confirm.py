"""The security page's steps that weaken the sign-in or cannot be taken back ask first (voipxs/confirm.py):
turning two-factor sign-in off and making new recovery codes ask for the password again on the confirmation
page; revoking a click-to-call token names the token. The first click changes nothing."""
from __future__ import annotations

import re

import pytest
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import CallSetupToken
from accounts.services.call_setup_tokens import call_setup_token_create
from accounts.services.sign_in import recovery_codes_regenerate
from tests.factories import PASSWORD, verified_client
from voipxs.privacy.models import AuditEntry

pytestmark = pytest.mark.django_db

DISABLE = "/accounts/security/two-factor/disable/"
CODES = "/accounts/security/recovery-codes/"


def _with_second_factor(client, user) -> list[str]:
    TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
    codes = recovery_codes_regenerate(user=user)
    verified_client(client, user)
    return codes


def _codes_of(user) -> set[str]:
    return set(StaticToken.objects.filter(device__user=user).values_list("token", flat=True))


class TwoFactorOffTests:
    def test_the_first_click_only_asks_for_the_password(self, client, alice):
        _with_second_factor(client, alice)
        response = client.post(DISABLE)
        body = response.content.decode()
        assert response.status_code == 200 and "Turn two-factor sign-in off?" in body
        assert "password alone signs you in" in body and 'type="password" name="password"' in body
        assert 'name="confirm" value="yes"' in body
        assert TOTPDevice.objects.filter(user=alice).exists()

    def test_the_confirmation_page_is_in_dutch(self, client, alice):
        _with_second_factor(client, alice)
        client.cookies["django_language"] = "nl"
        body = client.post(DISABLE).content.decode()
        assert '<html lang="nl">' in body and "Bevestig alstublieft" in body and "Annuleren, niets wijzigen" in body
        assert TOTPDevice.objects.filter(user=alice).exists()

    def test_a_wrong_password_changes_nothing_and_says_so_at_the_field(self, client, alice):
        _with_second_factor(client, alice)
        response = client.post(DISABLE, {"confirm": "yes", "password": "not-the-password"})
        body = response.content.decode()
        assert response.status_code == 400 and "Turn two-factor sign-in off?" in body
        field = re.search(r'<ul class="errorlist" id="confirm-password-error"><li>([^<]+)</li></ul>\s*<input '
                          r'id="confirm-password"[^>]*aria-invalid="true"', body)
        assert field and field.group(1) == "The password is not correct."
        assert TOTPDevice.objects.filter(user=alice).exists() and _codes_of(alice)
        assert AuditEntry.objects.filter(action="two_factor.reauth_failed").exists()

    def test_a_wrong_password_is_said_in_dutch(self, client, alice):
        _with_second_factor(client, alice)
        client.cookies["django_language"] = "nl"
        body = client.post(DISABLE, {"confirm": "yes", "password": "fout"}).content.decode()
        assert "<li>Het wachtwoord is niet juist.</li>" in body
        assert TOTPDevice.objects.filter(user=alice).exists()

    def test_the_confirmed_click_with_the_password_turns_it_off(self, client, alice):
        _with_second_factor(client, alice)
        response = client.post(DISABLE, {"confirm": "yes", "password": PASSWORD}, follow=True)
        assert "Two-factor sign-in is off for your account." in response.content.decode()
        assert not TOTPDevice.objects.filter(user=alice).exists() and not _codes_of(alice)

    def test_staff_are_refused_before_any_confirmation(self, client, legal1):
        verified_client(client, legal1)
        response = client.post(DISABLE, follow=True)
        assert "Staff accounts must keep two-factor sign-in." in response.content.decode()
        assert "Turn two-factor sign-in off?" not in response.content.decode()
        client.post(DISABLE, {"confirm": "yes", "password": PASSWORD})
        assert TOTPDevice.objects.filter(user=legal1).exists()


class NewRecoveryCodesTests:
    def test_the_first_click_keeps_the_old_codes_and_asks_for_the_password(self, client, alice):
        old = _with_second_factor(client, alice)
        body = client.post(CODES).content.decode()
        assert "Make new recovery codes?" in body and "stop working at once" in body
        assert 'type="password" name="password"' in body and "<code>" not in body
        assert _codes_of(alice) == set(old)

    def test_the_confirmation_page_is_in_dutch(self, client, alice):
        old = _with_second_factor(client, alice)
        client.cookies["django_language"] = "nl"
        body = client.post(CODES).content.decode()
        assert '<html lang="nl">' in body and "Bevestig alstublieft" in body
        assert _codes_of(alice) == set(old)

    def test_a_wrong_password_keeps_the_old_codes_and_says_so_at_the_field(self, client, alice):
        old = _with_second_factor(client, alice)
        response = client.post(CODES, {"confirm": "yes", "password": "wrong"})
        body = response.content.decode()
        assert response.status_code == 400 and 'id="confirm-password-error"' in body
        assert "The password is not correct." in body and _codes_of(alice) == set(old)

    def test_the_confirmed_click_shows_new_codes_once(self, client, alice):
        old = _with_second_factor(client, alice)
        body = client.post(CODES, {"confirm": "yes", "password": PASSWORD}).content.decode()
        new = re.findall(r"<li><code>([a-z0-9]+)</code></li>", body)
        assert len(new) == 10 and not set(new) & set(old) and _codes_of(alice) == set(new)


class TokenRevokeTests:
    def test_the_first_click_names_the_token_and_revokes_nothing(self, client, alice):
        token, _text = call_setup_token_create(user=alice, name="Firefox at home")
        verified_client(client, alice)
        body = client.post(f"/accounts/security/call-setup-tokens/{token.pk}/revoke/").content.decode()
        assert "Revoke the token “Firefox at home”?" in body and token.hint in body
        assert 'type="password"' not in body
        assert CallSetupToken.objects.get(pk=token.pk).revoked_at is None

    def test_the_confirmation_page_is_in_dutch(self, client, alice):
        token, _text = call_setup_token_create(user=alice, name="Firefox at home")
        verified_client(client, alice)
        client.cookies["django_language"] = "nl"
        body = client.post(f"/accounts/security/call-setup-tokens/{token.pk}/revoke/").content.decode()
        assert '<html lang="nl">' in body and "Bevestig alstublieft" in body and "Firefox at home" in body
        assert CallSetupToken.objects.get(pk=token.pk).revoked_at is None

    def test_the_confirmed_click_revokes_it_and_says_which(self, client, alice):
        token, _text = call_setup_token_create(user=alice, name="Firefox at home")
        verified_client(client, alice)
        response = client.post(f"/accounts/security/call-setup-tokens/{token.pk}/revoke/", {"confirm": "yes"},
                               follow=True)
        assert "The token “Firefox at home” is revoked" in response.content.decode()
        assert CallSetupToken.objects.get(pk=token.pk).revoked_at is not None

    def test_a_revoked_or_anothers_token_is_not_found(self, client, alice, bob):
        theirs, _text = call_setup_token_create(user=bob, name="Bob's browser")
        verified_client(client, alice)
        assert client.post(f"/accounts/security/call-setup-tokens/{theirs.pk}/revoke/").status_code == 404
        assert "Bob" not in client.post(f"/accounts/security/call-setup-tokens/{theirs.pk}/revoke/",
                                        {"confirm": "yes"}).content.decode()
