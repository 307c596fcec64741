"""A NUL byte (raw, or written %00) in the session cookie or in the CSRF cookie, sent to a page, to a form post and
to the API: the answer is the page as to someone signed out, the sign-in page, or a 400, never a 500; a
signed-in person's real session is not disturbed by a forged one beside it."""
from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import verified_client

pytestmark = pytest.mark.django_db
# Long enough to pass Django's session-key check (eight characters or more), so the key reaches the database.
VALUES = ["abcdefghijkl\x00mnopqrstuvwxyz012345", "abcdefghijkl%00mnopqrstuvwxyz012345", "\x00", "%00"]


def _client(cookie: str, value: str) -> Client:
    client = Client(enforce_csrf_checks=True, raise_request_exception=False)
    # As the browser sends it: the raw header, so no cookie quoting hides the NUL.
    client.defaults["HTTP_COOKIE"] = f"{cookie}={value}"
    return client


@pytest.mark.parametrize("value", VALUES)
@pytest.mark.parametrize("cookie", ["sessionid", "csrftoken"])
class NulCookieTests:
    def test_a_public_page_answers_as_to_someone_signed_out(self, cookie, value):
        response = _client(cookie, value).get("/privacy/")
        assert response.status_code in (200, 400)
        if response.status_code == 200:
            assert 'href="/accounts/login/' in response.content.decode()

    def test_a_personal_page_sends_to_sign_in(self, cookie, value):
        response = _client(cookie, value).get("/calls/")
        assert response.status_code in (302, 400)
        if response.status_code == 302:
            assert response["Location"].startswith("/accounts/login/")

    def test_a_form_post_is_refused_not_crashed(self, cookie, value):
        response = _client(cookie, value).post("/accounts/login/", {"username": "alice", "password": "x"})
        assert response.status_code in (400, 403)

    def test_the_api_answers_unauthenticated_or_400(self, cookie, value):
        response = _client(cookie, value).get("/api/v1/me/")
        assert response.status_code in (400, 401, 403)
        assert response["Content-Type"].startswith("application/json")

    def test_the_api_post_answers_unauthenticated_or_400(self, cookie, value):
        response = _client(cookie, value).post("/api/v1/auth/login/", {"username": "alice", "password": "x"},
                                               content_type="application/json")
        assert response.status_code in (400, 401, 403)


@pytest.mark.parametrize("value", VALUES)
def test_a_signed_in_persons_post_with_a_nul_csrf_cookie_is_refused_and_changes_nothing(client, alice, value):
    from accounts.models import CallSetupToken

    verified_client(client, alice)
    client.handler.enforce_csrf_checks = True
    session = client.cookies["sessionid"].value
    client.defaults["HTTP_COOKIE"] = f"sessionid={session}; csrftoken={value}"
    response = client.post("/accounts/security/call-setup-tokens/", {"name": "pc", "csrfmiddlewaretoken": value})
    assert response.status_code in (400, 403)  # the NUL in the form field: the site's 400; %00: the CSRF refusal
    assert not CallSetupToken.objects.filter(user=alice).exists()
    assert client.get("/accounts/security/").status_code == 200  # still signed in
