from __future__ import annotations

import re

import pytest
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.accounts.helpers import _fresh_cache, totp_code  # noqa: F401
from tests.factories import PASSWORD, make_user, verified_client
from voipxs.privacy.purposes import Role


def sign_in(client, username: str):
    return client.post("/accounts/login/", {"username": username, "password": PASSWORD})


def enrol(client, next_url: str = "/") -> list[str]:
    """Walk the enrolment page as a person would: read the secret off the page, type a code."""
    page = client.get(f"/accounts/two-factor/setup/?next={next_url}")
    assert page.status_code == 200
    html = page.content.decode()
    assert "<svg" in html  # the QR code is inline, drawn by us
    secret = re.search(r'data-secret="([A-Z2-7]+)"', html).group(1)
    device = TOTPDevice.objects.get(confirmed=False, user__username=page.wsgi_request.user.username)
    from base64 import b32encode

    assert b32encode(device.bin_key).decode() == secret
    response = client.post("/accounts/two-factor/setup/", {"otp_token": totp_code(device), "next": next_url})
    assert response.status_code == 200
    return re.findall(r"<li><code>([a-z0-9]+)</code></li>", response.content.decode())


@pytest.mark.django_db
class StaffTwoFactorPortalTests:
    def test_it_sends_staff_without_a_device_to_enrolment_then_lets_them_in(self, client, db):
        make_user("newlegal", roles=(Role.LEGAL_OFFICER,))
        sign_in(client, "newlegal")
        response = client.get("/")
        assert response.status_code == 302 and response["Location"].startswith("/accounts/two-factor/setup/")
        assert client.get("/accounts/numbers/").status_code == 302  # no portal page before the second factor
        codes = enrol(client)
        assert len(codes) == 10 and len(set(codes)) == 10
        assert client.get("/").status_code == 200

    def test_it_asks_staff_with_a_device_for_the_code_before_any_page(self, client, legal1):
        sign_in(client, "legal1")
        response = client.get("/calls/")
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/two-factor/?next=/calls/")
        # and the enrolment page will not hand out a new device to skip the check
        response = client.get("/accounts/two-factor/setup/")
        assert response.status_code == 302 and response["Location"].startswith("/accounts/two-factor/")
        page = client.get("/accounts/two-factor/")
        html = page.content.decode()
        assert 'name="otp_token"' in html and 'autocomplete="one-time-code"' in html and '<label for="id_otp_token"' in html
        device = TOTPDevice.objects.get(user=legal1)
        response = client.post("/accounts/two-factor/", {"otp_token": totp_code(device), "next": "/calls/"})
        assert response.status_code == 302 and response["Location"] == "/calls/"
        assert client.get("/").status_code == 200

    def test_it_refuses_a_wrong_code_and_names_the_field(self, client, legal1):
        sign_in(client, "legal1")
        response = client.post("/accounts/two-factor/", {"otp_token": "000000"})
        html = response.content.decode()
        assert response.status_code == 400
        assert 'id="id_otp_token_error"' in html and 'aria-invalid="true"' in html
        assert client.get("/").status_code == 302

    def test_it_never_redirects_to_another_site_after_the_code(self, client, legal1):
        sign_in(client, "legal1")
        device = TOTPDevice.objects.get(user=legal1)
        response = client.post("/accounts/two-factor/", {"otp_token": totp_code(device), "next": "https://evil.example/"})
        assert response["Location"] == "/"

    def test_it_accepts_a_recovery_code_once(self, client, legal1):
        from accounts.services.sign_in import recovery_codes_regenerate

        codes = recovery_codes_regenerate(user=legal1)
        sign_in(client, "legal1")
        assert client.post("/accounts/two-factor/", {"otp_token": codes[0]}).status_code == 302
        assert client.get("/").status_code == 200
        client.post("/accounts/logout/")
        sign_in(client, "legal1")
        assert client.post("/accounts/two-factor/", {"otp_token": codes[0]}).status_code == 400
        assert StaticToken.objects.filter(device__user=legal1).count() == 9

    def test_it_does_not_let_staff_turn_two_factor_off(self, client, legal1):
        verified_client(client, legal1)
        page = client.get("/accounts/security/")
        assert page.status_code == 200 and b"two-factor/disable" not in page.content
        client.post("/accounts/security/two-factor/disable/")
        assert TOTPDevice.objects.filter(user=legal1).exists()

    def test_it_shows_new_recovery_codes_once_and_the_old_ones_stop_working(self, client, legal1):
        from accounts.services.sign_in import recovery_codes_regenerate

        old = recovery_codes_regenerate(user=legal1)
        verified_client(client, legal1)
        response = client.post("/accounts/security/recovery-codes/", {"confirm": "yes", "password": PASSWORD})
        new = re.findall(r"<li><code>([a-z0-9]+)</code></li>", response.content.decode())
        assert len(new) == 10 and not set(new) & set(old)
        assert set(StaticToken.objects.filter(device__user=legal1).values_list("token", flat=True)) == set(new)


@pytest.mark.django_db
class CustomerTwoFactorTests:
    def test_it_lets_a_customer_sign_in_without_a_second_factor(self, client, alice):
        sign_in(client, "alice")
        assert client.get("/accounts/numbers/").status_code == 200

    def test_it_holds_a_customer_who_opted_in_to_the_code(self, client, alice):
        sign_in(client, "alice")
        enrol(client)
        client.post("/accounts/logout/")
        sign_in(client, "alice")
        response = client.get("/accounts/numbers/")
        assert response.status_code == 302 and response["Location"].startswith("/accounts/two-factor/")
        device = TOTPDevice.objects.get(user=alice)
        device.last_t = -1  # the code used at enrolment may be reused in this test's 30-second window
        device.save(update_fields=["last_t"])
        client.post("/accounts/two-factor/", {"otp_token": totp_code(device)})
        assert client.get("/accounts/numbers/").status_code == 200

    def test_it_lets_a_customer_turn_it_off_again(self, client, alice):
        sign_in(client, "alice")
        enrol(client)
        response = client.post("/accounts/security/two-factor/disable/", {"confirm": "yes", "password": PASSWORD},
                               follow=True)
        assert b"off" in response.content
        assert not TOTPDevice.objects.filter(user=alice).exists()
        assert not StaticToken.objects.filter(device__user=alice).exists()
        client.post("/accounts/logout/")
        sign_in(client, "alice")
        assert client.get("/accounts/numbers/").status_code == 200


@pytest.mark.django_db
class TwoFactorThrottleTests:
    def test_it_refuses_even_the_right_code_right_after_wrong_ones(self, client, legal1):
        """django-otp's ThrottlingMixin: after a wrong code the device refuses every code for 1, 2, 4 … s."""
        sign_in(client, "legal1")
        device = TOTPDevice.objects.get(user=legal1)
        for _ in range(3):
            client.post("/accounts/two-factor/", {"otp_token": "123456"})
        device.refresh_from_db()
        assert device.throttling_failure_count >= 1
        response = client.post("/accounts/two-factor/", {"otp_token": totp_code(device)})
        assert response.status_code == 400
        assert b"Too many wrong codes" in response.content
        assert client.get("/").status_code == 302


@pytest.mark.django_db
class StaffRefusedWithoutSecondFactorTests:
    """Issue 2 must-show: staff without a second factor are refused by the portal, the API and the admin."""

    def test_it_refuses_them_everywhere(self, client, billing_staff):
        sign_in(client, "billing")
        assert client.get("/").status_code == 302
        assert client.get("/accounts/numbers/").status_code == 302
        api = client.get("/api/v1/staff/sources/")
        assert api.status_code == 403 and "Two-factor" in api.json()["detail"]
        assert client.get("/admin/").status_code == 302
        assert client.get("/admin/accounts/user/").status_code == 302


@pytest.mark.django_db
class EnrolmentRevokesTokensTests:
    def test_it_revokes_tokens_issued_before_the_customer_turned_two_factor_on(self, client, alice):
        from knox.models import AuthToken

        from accounts.services.sign_in import api_token_issue

        token, _expiry = api_token_issue(user=alice)
        sign_in(client, "alice")
        enrol(client)
        assert not AuthToken.objects.filter(user=alice).exists()
        assert client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {token}").status_code == 401
