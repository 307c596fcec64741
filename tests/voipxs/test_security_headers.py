"""Issue 16, item 9 and the Redis half of item 4: what a probe found at the edges of every request.

- The API login throttle trusted X-Forwarded-For: a new forged address per try, and no limit held.
- With Redis down, the API login answered 500 (its throttle reads the cache).
- The API schema and docs answered staff who had not passed their second factor.
- Pages with personal data sent no `Cache-Control: no-store`; no page had a Content-Security-Policy.
"""
from __future__ import annotations

import re
import time

import pytest
from django.core.cache import cache
from django.test import override_settings

from tests.accounts.helpers import _fresh_cache  # noqa: F401
from tests.factories import PASSWORD, verified_client

LOGIN = "/api/v1/auth/login/"
# Nothing listens here: a Redis that is down, for real (connection refused), not a mock.
DEAD_REDIS = {"default": {"BACKEND": "voipxs.cache.DegradingRedisCache", "LOCATION": "redis://127.0.0.1:6399/0",
                          "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}}}


def _login(client, username: str, **extra):
    return client.post(LOGIN, {"username": username, "password": "wrong-password-1"}, content_type="application/json",
                       **extra)


@pytest.mark.django_db
@pytest.mark.usefixtures("_fresh_cache")
class LoginThrottleTests:
    def test_a_forged_x_forwarded_for_does_not_reset_the_login_throttle(self, client, alice):
        # A new login name each time, so that only the throttle (10/min per client address) can stop them,
        # not the lockout (per login name and address).
        answers = [_login(client, f"nobody{i}", HTTP_X_FORWARDED_FOR=f"198.51.100.{i}").status_code for i in range(12)]
        assert answers[:10] == [400] * 10
        assert answers[10:] == [429, 429]

    def test_the_api_login_works_while_redis_is_down(self, client, alice):
        with override_settings(CACHES=DEAD_REDIS):
            started = time.monotonic()
            response = client.post(LOGIN, {"username": "alice", "password": PASSWORD}, content_type="application/json")
            assert response.status_code == 200 and response.json()["token"]
            assert time.monotonic() - started < 5

    def test_the_degraded_cache_reads_as_a_miss_and_writes_nothing(self):
        with override_settings(CACHES=DEAD_REDIS):
            cache.set("k", "v")
            assert cache.get("k", "default") == "default"
            assert cache.add("k", "v") is False and cache.get_many(["k"]) == {}


@pytest.mark.django_db
class ApiDocsSecondFactorTests:
    def test_staff_without_their_second_factor_get_no_schema_or_docs(self, client, billing_staff):
        client.force_login(billing_staff)  # password only: the second factor not passed
        assert client.get("/api/schema/").status_code == 403
        assert client.get("/api/docs/").status_code == 403

    def test_staff_with_their_second_factor_get_both(self, client, billing_staff):
        verified = verified_client(client, billing_staff)
        assert verified.get("/api/schema/").status_code == 200
        assert verified.get("/api/docs/").status_code == 200


def _inline_scripts(html: str) -> list[str]:
    return [tag for tag in re.findall(r"<script\b[^>]*>", html) if "src=" not in tag]


@pytest.mark.django_db
class SecurityHeaderTests:
    PERSONAL_PAGES = ["/", "/calls/", "/calls/invoices/", "/calls/usage/", "/accounts/numbers/", "/api/v1/me/calls/"]

    def test_every_page_has_a_csp_without_inline_script_and_a_permissions_policy(self, client, alice):
        for url in ["/accounts/login/", "/privacy/"]:
            response = client.get(url)
            assert "script-src 'self'" in response["Content-Security-Policy"], url
            assert "'unsafe-inline'" not in response["Content-Security-Policy"]
            assert "camera=()" in response["Permissions-Policy"] and response["Referrer-Policy"] == "same-origin"
        signed_in = verified_client(client, alice)
        for url in self.PERSONAL_PAGES + ["/api/docs/"]:
            response = signed_in.get(url)
            assert response.status_code == 200, url
            assert response["Content-Security-Policy"].startswith("default-src 'self'"), url
            assert _inline_scripts(response.content.decode()) == [], url

    def test_the_api_docs_load_their_set_up_script_as_a_file(self, client, alice):
        html = verified_client(client, alice).get("/api/docs/").content.decode()
        script = re.search(r'<script src="([^"]*\?script=?[^"]*)"', html)
        assert script, html[-800:]
        body = client.get(script.group(1).replace("&amp;", "&"))
        assert body.status_code == 200 and b"SwaggerUIBundle" in body.content

    def test_personal_pages_are_not_stored_by_any_cache(self, client, alice):
        signed_in = verified_client(client, alice)
        for url in self.PERSONAL_PAGES:
            assert "no-store" in signed_in.get(url)["Cache-Control"], url

    def test_api_answers_to_a_token_are_not_stored_either(self, client, alice):
        cache.clear()
        token = client.post(LOGIN, {"username": "alice", "password": PASSWORD}, content_type="application/json").json()["token"]
        response = client.get("/api/v1/me/calls/", HTTP_AUTHORIZATION=f"Token {token}")
        assert response.status_code == 200 and "no-store" in response["Cache-Control"]

    def test_the_api_login_answer_with_the_new_token_is_not_stored(self, client, alice):
        """The token is a credential, shown once (RFC 6749 5.1 asks the same of a token endpoint)."""
        cache.clear()
        response = client.post(LOGIN, {"username": "alice", "password": PASSWORD}, content_type="application/json")
        assert response.status_code == 200 and "no-store" in response["Cache-Control"]

    def test_public_pages_may_be_cached(self, client):
        assert "no-store" not in client.get("/privacy/").get("Cache-Control", "")
