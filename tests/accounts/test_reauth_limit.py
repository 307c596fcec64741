"""The password asked again on a signed-in page (turning two-factor off, new recovery codes, erasure, the
password change form) had no limit: whoever found a session left open could guess the password there without
end, past the lockout that guards every sign-in form (django-axes: AXES_FAILURE_LIMIT failures, then
AXES_COOLOFF_HOURS). Now the same number of wrong passwords stops it for the same time, per account."""
from __future__ import annotations

import pytest
from django.conf import settings
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.services.sign_in import recovery_codes_regenerate
from tests.factories import PASSWORD, verified_client
from voipxs.privacy.models import AuditEntry

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_limits")]

DISABLE = "/accounts/security/two-factor/disable/"
CHANGE = "/accounts/password/change/"
NEW_PASSWORD = "a-brand-new-passphrase-9"
TOO_MANY = "Too many wrong passwords; try again later."


def _with_second_factor(client, user) -> None:
    TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
    recovery_codes_regenerate(user=user)
    verified_client(client, user)


def _guess_wrong(client, times: int) -> list[int]:
    return [client.post(DISABLE, {"confirm": "yes", "password": f"guess-{i}"}).status_code for i in range(times)]


class SecurityPagePasswordLimitTests:
    def test_after_the_lockout_count_of_wrong_passwords_even_the_right_one_changes_nothing(self, client, alice):
        _with_second_factor(client, alice)
        assert _guess_wrong(client, settings.AXES_FAILURE_LIMIT) == [400] * settings.AXES_FAILURE_LIMIT
        response = client.post(DISABLE, {"confirm": "yes", "password": PASSWORD})
        assert response.status_code == 400 and TOO_MANY in response.content.decode()
        assert TOTPDevice.objects.filter(user=alice).exists()  # two-factor still on

    def test_fewer_wrong_passwords_leave_the_right_one_working(self, client, alice):
        _with_second_factor(client, alice)
        _guess_wrong(client, settings.AXES_FAILURE_LIMIT - 1)
        response = client.post(DISABLE, {"confirm": "yes", "password": PASSWORD})
        assert response.status_code == 302 and not TOTPDevice.objects.filter(user=alice).exists()

    def test_the_limit_is_the_accounts_own(self, client, alice, bob):
        _with_second_factor(client, alice)
        _guess_wrong(client, settings.AXES_FAILURE_LIMIT)
        _with_second_factor(client, bob)
        response = client.post(DISABLE, {"confirm": "yes", "password": PASSWORD})
        assert response.status_code == 302 and not TOTPDevice.objects.filter(user=bob).exists()

    def test_a_refusal_while_stopped_is_audited(self, client, alice):
        _with_second_factor(client, alice)
        _guess_wrong(client, settings.AXES_FAILURE_LIMIT)
        before = AuditEntry.objects.filter(action="two_factor.reauth_failed").count()
        client.post(DISABLE, {"confirm": "yes", "password": PASSWORD})
        assert AuditEntry.objects.filter(action="two_factor.reauth_failed").count() == before + 1


class PasswordChangeLimitTests:
    def _change(self, client, old: str):
        return client.post(CHANGE, {"old_password": old, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    def test_after_the_lockout_count_of_wrong_old_passwords_the_right_one_changes_nothing(self, client, alice):
        client.force_login(alice)
        for i in range(settings.AXES_FAILURE_LIMIT):
            assert self._change(client, f"guess-{i}").status_code == 200  # the form again, with its error
        response = self._change(client, PASSWORD)
        assert response.status_code == 200 and TOO_MANY in response.content.decode()
        alice.refresh_from_db()
        assert alice.check_password(PASSWORD) and not alice.check_password(NEW_PASSWORD)

    def test_wrong_passwords_on_the_change_form_count_for_the_security_page_too(self, client, alice):
        _with_second_factor(client, alice)
        for i in range(settings.AXES_FAILURE_LIMIT):
            self._change(client, f"guess-{i}")
        response = client.post(DISABLE, {"confirm": "yes", "password": PASSWORD})
        assert response.status_code == 400 and TOO_MANY in response.content.decode()

    def test_a_new_password_starts_a_new_count(self, client, alice):
        _with_second_factor(client, alice)
        _guess_wrong(client, settings.AXES_FAILURE_LIMIT)
        alice.set_password(NEW_PASSWORD)
        alice.save()
        verified_client(client, alice)
        response = client.post(DISABLE, {"confirm": "yes", "password": NEW_PASSWORD})
        assert response.status_code == 302 and not TOTPDevice.objects.filter(user=alice).exists()
