"""Hostile input on the pages a person signs in with, before and around the second factor: the sign-in page, the
password reset (its request and its link), the second factor (verify and set-up), the password change, and the API's
login. There is no sign-up page (accounts are made by staff). Each field gets a long text, a NUL byte, the calendar's
edges, numbers past bigint, NaN, a field sent twice, and bytes that are no UTF-8; the API's login gets every JSON type
where text belongs, lone surrogates and duplicate keys. A refusal or a form error is fine; a server error is not.
django-axes records each failure (with the hostile login name), so the lockout page is a fine answer too."""
from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from tests.factories import PASSWORD, verified_client

pytestmark = [pytest.mark.fuzz, pytest.mark.django_db]

LONG = "x" * 20_000
VALUES = ["a\x00b", LONG, "0001-01-01", "9999-12-31T23:59:59.999999", "2026-02-30", str(2 ** 63), "9" * 40, "NaN",
          "Infinity", "1" * 30, "{'a': 1}", "\u202e", "", " "]
JSON_VALUES = ["a\x00b", "\ud800", LONG, [LONG], {"a": 1}, None, 2 ** 64, 1.5, True, "NaN", [], {}]
FORM = "application/x-www-form-urlencoded"


@pytest.fixture(autouse=True)
def _no_api_throttle(monkeypatch):
    """The login API allows ten attempts a minute per client: the fuzzer sends more."""
    from rest_framework.throttling import ScopedRateThrottle

    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"login": "100000/min"})


def _hostile_posts(client, url: str, base: dict) -> list[str]:
    """Each field alone with each value, as a browser's url-encoded form and as multipart; each field twice; bytes
    that are no UTF-8. The failures (5xx) as lines."""
    failures = []
    for field in base:
        for value in VALUES:
            pairs = {**base, field: value}
            for response in (client.post(url, urlencode(pairs).encode(), content_type=FORM), client.post(url, pairs)):
                if response.status_code >= 500:
                    failures.append(f"POST {url} {field}={value[:30]!r} -> {response.status_code}")
        response = client.post(url, urlencode([*base.items(), (field, "second")]).encode(), content_type=FORM)
        if response.status_code >= 500:
            failures.append(f"POST {url} {field} twice -> {response.status_code}")
    response = client.post(url, b"\xff\xfe=\xff&" + urlencode(base).encode(), content_type=FORM)
    if response.status_code >= 500:
        failures.append(f"POST {url} invalid UTF-8 -> {response.status_code}")
    return failures


def test_the_sign_in_and_password_reset_pages(alice):
    client = Client()
    failures = _hostile_posts(client, "/accounts/login/", {"username": "alice", "password": "wrong", "next": "/"})
    failures += _hostile_posts(client, "/accounts/password/reset/", {"email": "alice@example.org"})
    failures += _hostile_posts(client, "/admin/login/", {"username": "alice", "password": "wrong", "otp_token": "1"})
    assert failures == [], "\n".join(failures)


def test_the_password_reset_link(alice):
    from django.contrib.auth.tokens import default_token_generator

    client = Client()
    failures = []
    for uid in ["", "x", "AAAA", urlsafe_base64_encode(b"1\x00"), urlsafe_base64_encode(force_bytes(2 ** 64)),
                urlsafe_base64_encode(b"\xff\xfe"), urlsafe_base64_encode(force_bytes(-1)), "A" * 5000]:
        for token in ["x", "set-password", "0-0", "z" * 5000, "9" * 40 + "-abc"]:
            response = client.get(f"/accounts/password/reset/{uid or 'MQ'}/{token}/")
            if response.status_code >= 500:
                failures.append(f"GET reset link {uid[:20]}/{token[:20]} -> {response.status_code}")
    link = client.get(f"/accounts/password/reset/{urlsafe_base64_encode(force_bytes(alice.pk))}/"
                      f"{default_token_generator.make_token(alice)}/")
    assert link.status_code == 302
    failures += _hostile_posts(client, link["Location"], {"new_password1": "x", "new_password2": "y"})
    assert failures == [], "\n".join(failures)


def test_the_second_factor_pages(legal1, dpo, alice):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    client = Client()
    client.force_login(legal1)  # the password passed, the second factor owed
    failures = _hostile_posts(client, "/accounts/two-factor/", {"otp_token": "123456", "next": "/"})
    TOTPDevice.objects.filter(user=dpo).delete()
    setup = Client()
    setup.force_login(dpo)  # staff without a device: the set-up page
    failures += _hostile_posts(setup, "/accounts/two-factor/setup/", {"otp_token": "123456", "next": "/"})
    failures += _hostile_posts(verified_client(Client(), alice), "/accounts/password/change/",
                               {"old_password": PASSWORD, "new_password1": "x", "new_password2": "x"})
    assert failures == [], "\n".join(failures)


def test_the_api_login(alice, legal1):
    client = Client()
    failures = []
    base = {"username": "legal1", "password": PASSWORD, "otp_token": "123456"}
    bodies = [json.dumps({**base, field: value}) for field in base for value in JSON_VALUES]
    bodies += ['{"username": "alice", "username": "legal1", "password": "x"}', '{"username": "\\ud800"}',
               '{"username": "a", "password": "' + "\\u0000" * 10 + '"}', "[" * 5000, "null", '"x"']
    for body in bodies:
        response = client.post("/api/v1/auth/login/", body.encode("utf-8", "surrogatepass"),
                               content_type="application/json")
        if response.status_code >= 500:
            failures.append(f"login {body[:80]!r} -> {response.status_code}")
    for raw in [b"\xff\xfe{", b'{"username": "\xff", "password": "x"}', b"username=a%00&password=x"]:
        response = client.post("/api/v1/auth/login/", raw, content_type="application/json")
        if response.status_code >= 500:
            failures.append(f"login {raw[:40]!r} -> {response.status_code}")
    assert failures == [], "\n".join(failures)


def test_a_login_name_past_axes_column_is_a_wrong_login_that_still_counts(alice):
    """Django's sign-in form does not check a name's length before authenticating; django-axes then could not store
    a name past 255 characters and the sign-in failed with a 500 on PostgreSQL. Now the form's own error."""
    from axes.models import AccessAttempt

    response = Client().post("/accounts/login/", {"username": "a" * 300, "password": "x"})
    assert response.status_code == 200 and response.context["form"].errors["__all__"]
    assert AccessAttempt.objects.get().username == "a" * 255


def test_json_nested_past_the_recursion_limit_is_a_parse_error():
    response = Client().post("/api/v1/auth/login/", "[" * 5000, content_type="application/json")
    assert response.status_code == 400 and response.json() == {"detail": "JSON parse error - nested too deeply"}
