from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.utils.timezone import now
from django_otp.plugins.otp_totp.models import TOTPDevice
from knox.models import AuthToken

from tests.accounts.helpers import _fresh_cache, totp_code  # noqa: F401
from tests.factories import PASSWORD, make_user
from voipxs.privacy.purposes import Role
from voipxs.privacy.models import AuditEntry


STAFF_ENDPOINT = "/api/v1/staff/sources/"  # billing staff may read it (purpose BILLING)


def api_login(client, **data):
    return client.post("/api/v1/auth/login/", data, content_type="application/json")


@pytest.mark.django_db
class TokenLoginTests:
    def test_it_issues_a_token_that_is_stored_only_as_a_digest_and_expires(self, client, alice):
        response = api_login(client, username="alice", password=PASSWORD)
        assert response.status_code == 200
        token = response.json()["token"]
        row = AuthToken.objects.get(user=alice)
        assert token not in (row.digest, row.token_key) and row.digest not in token
        assert row.expiry > now() + timedelta(days=1)
        me = client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {token}")
        assert me.status_code == 200 and me.json()["username"] == "alice"

    def test_it_revokes_the_token_on_logout(self, client, alice):
        token = api_login(client, username="alice", password=PASSWORD).json()["token"]
        assert client.post("/api/v1/auth/logout/", HTTP_AUTHORIZATION=f"Token {token}").status_code == 204
        assert not AuthToken.objects.filter(user=alice).exists()
        assert client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {token}").status_code == 401

    def test_it_refuses_an_expired_token(self, client, alice):
        token = api_login(client, username="alice", password=PASSWORD).json()["token"]
        AuthToken.objects.filter(user=alice).update(expiry=now() - timedelta(seconds=1))
        assert client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {token}").status_code == 401

    def test_the_daily_sweep_deletes_expired_tokens_that_a_call_leaves_alone(self, client, alice):
        from accounts.tasks import api_tokens_expired_delete_task

        fresh = api_login(client, username="alice", password=PASSWORD).json()["token"]
        stale = AuthToken.objects.create(user=alice)[0]
        AuthToken.objects.filter(pk=stale.pk).update(expiry=now() - timedelta(days=1))
        assert client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {fresh}").status_code == 200
        assert AuthToken.objects.filter(pk=stale.pk).exists()  # a call reads only its own token
        assert api_tokens_expired_delete_task.apply().get() == 1
        assert not AuthToken.objects.filter(pk=stale.pk).exists()
        assert client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {fresh}").status_code == 200

    def test_the_hourly_sweep_deletes_expired_sessions_and_leaves_live_ones(self, client, alice, bob):
        from django.test import Client

        from accounts.models import UserSession
        from accounts.tasks import sessions_expired_delete_task

        client.force_login(alice)
        other = Client()
        other.force_login(bob)
        UserSession.objects.filter(user=bob).update(expire_date=now() - timedelta(seconds=1))
        assert sessions_expired_delete_task.apply().get() == 1
        assert list(UserSession.objects.values_list("user_id", flat=True)) == [alice.pk]
        assert client.get("/calls/").status_code == 200 and other.get("/calls/").status_code == 302
        entry = AuditEntry.objects.get(action="session.expired_delete")
        assert entry.extra == {"count": 1} and entry.target_id == ""

    def test_it_refuses_a_wrong_password_without_a_server_error(self, client, alice):
        response = api_login(client, username="alice", password="wrong-password-1")
        assert response.status_code == 400 and "token" not in response.json()
        response = api_login(client, username="alice")
        assert response.status_code == 400 and "password" in response.json()

    def test_it_asks_staff_for_the_code_before_any_token(self, client, billing_staff):
        response = api_login(client, username="billing", password=PASSWORD)
        assert response.status_code == 400 and "otp_token" in response.json()
        response = api_login(client, username="billing", password=PASSWORD, otp_token="000000")
        assert response.status_code == 400 and "otp_token" in response.json()
        assert not AuthToken.objects.filter(user=billing_staff).exists()
        device = TOTPDevice.objects.get(user=billing_staff)
        device.throttle_reset()
        response = api_login(client, username="billing", password=PASSWORD, otp_token=totp_code(device))
        assert response.status_code == 200
        token = response.json()["token"]
        assert client.get(STAFF_ENDPOINT, HTTP_AUTHORIZATION=f"Token {token}").status_code == 200

    def test_it_gives_staff_without_a_device_no_token(self, client, db):
        make_user("newbilling", roles=(Role.BILLING,))
        response = api_login(client, username="newbilling", password=PASSWORD, otp_token="123456")
        assert response.status_code == 403 and not AuthToken.objects.exists()

    def test_it_counts_wrong_codes_towards_the_lockout(self, client, legal1):
        for _ in range(5):
            api_login(client, username="legal1", password=PASSWORD, otp_token="000000")
        response = api_login(client, username="legal1", password=PASSWORD, otp_token="111111")
        assert response.status_code == 429

    def test_it_throttles_the_login_endpoint(self, client, alice):
        codes = [api_login(client, username="nobody", password="x").status_code for _ in range(12)]
        assert 429 in codes


@pytest.mark.django_db
class SessionApiTests:
    def test_it_accepts_a_signed_in_session_and_enforces_csrf_on_writes(self, alice):
        from django.test import Client

        client = Client(enforce_csrf_checks=True)
        client.force_login(alice)
        assert client.get("/api/v1/me/").status_code == 200
        assert client.post("/api/v1/auth/logout/").status_code == 403  # no CSRF token
        assert client.get("/api/v1/me/").status_code == 200  # still signed in
        client.get("/accounts/numbers/")
        csrf = client.cookies["csrftoken"].value
        assert client.post("/api/v1/auth/logout/", HTTP_X_CSRFTOKEN=csrf).status_code == 204
        assert client.get("/api/v1/me/").status_code in (401, 403)

    def test_it_refuses_a_staff_session_without_the_second_factor(self, client, billing_staff):
        client.force_login(billing_staff)
        response = client.get(STAFF_ENDPOINT)
        assert response.status_code == 403
        assert "Two-factor" in response.json()["detail"]

    def test_it_accepts_a_staff_session_after_the_second_factor(self, client, billing_staff):
        from tests.factories import verified_client

        assert verified_client(client, billing_staff).get(STAFF_ENDPOINT).status_code == 200


@pytest.mark.django_db
class TokenFromBeforeTheSecondFactorTests:
    def test_it_revokes_a_token_issued_before_the_account_became_staff(self, client, alice):
        """The role came through the service, not the admin: the service revokes the old tokens."""
        from accounts.services.roles import user_roles_set
        from accounts.services.sign_in import api_token_issue

        token, _expiry = api_token_issue(user=alice)
        user_roles_set(user=alice, roles=["customer", "billing"])
        TOTPDevice.objects.create(user=alice, name="default", confirmed=True)
        alice.refresh_from_db()
        assert alice.is_staff
        assert not AuthToken.objects.filter(user=alice).exists()
        response = client.get(STAFF_ENDPOINT, HTTP_AUTHORIZATION=f"Token {token}")
        assert response.status_code == 401

    def test_it_refuses_a_surviving_token_issued_before_the_account_owed_a_second_factor(self, client, alice):
        """Defence in depth: even a token that nothing revoked is not taken as a second factor."""
        from accounts.services.sign_in import api_token_issue

        token, _expiry = api_token_issue(user=alice)
        TOTPDevice.objects.create(user=alice, name="default", confirmed=True)
        alice.groups.add(Group.objects.get(name="billing"))  # bypassing the service on purpose
        response = client.get(STAFF_ENDPOINT, HTTP_AUTHORIZATION=f"Token {token}")
        assert response.status_code == 403 and "Two-factor" in response.json()["detail"]

    def test_staff_read_their_own_profile_but_nobody_elses(self, client, billing_staff, alice):
        from tests.factories import verified_client

        client = verified_client(client, billing_staff)
        me = client.get("/api/v1/me/")
        assert me.status_code == 200 and me.json()["username"] == "billing"
        assert alice.username not in client.get("/api/v1/me/numbers/").content.decode()
