"""Customer A cannot read customer B's profile or numbers through any page or endpoint.

Besides the direct checks, this walks every URL pattern of the project as alice, filling each
integer parameter with ids that exist (bob's rows among them), and asserts that no answer carries
bob's number, e-mail address or call."""
from __future__ import annotations

import re

import pytest
from django.http import Http404
from django.urls import URLPattern, URLResolver, get_resolver

from accounts.selectors import access_user, phone_number_list
from tests.accounts.helpers import _fresh_cache  # noqa: F401
from tests.factories import make_cdr
from voipxs.privacy.purposes import Purpose

BOB_SECRETS = ("+31205550201", "205550201", "bob@example.org", "+31699990001")
SKIP_PREFIXES = ("/admin/", "/accounts/logout/", "/api/v1/auth/logout/", "/i18n/", "/static/")


def all_routes(patterns=None, prefix: str = "") -> list[str]:
    routes = []
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            routes += all_routes(entry.url_patterns, route)
        elif isinstance(entry, URLPattern):
            routes.append(route)
    return routes


def concrete_paths(route: str, ids: list[int]) -> list[str]:
    """'calls/<int:pk>/' → '/calls/1/', '/calls/2/', …; other converters get a plain word."""
    if route.startswith("^"):
        return []  # regex routes (i18n, static) are not ours
    params = re.findall(r"<(?:(\w+):)?(\w+)>", route)
    if not params:
        return ["/" + route]
    paths = []
    for value in ids:
        path = route
        for converter, _name in params:
            path = re.sub(r"<[^>]+>", str(value) if converter in ("int", "") else "x", path, count=1)
        paths.append("/" + path)
    return paths


def walk_pages(client, ids: list[int]):
    """GET every route with every id in `ids` (as the logged-in client), asserting no 5xx; yields
    (path, body as text, raw bytes) for the caller's own checks."""
    for route in all_routes():
        for path in concrete_paths(route, ids):
            if path.startswith(SKIP_PREFIXES):
                continue
            response = client.get(path)
            assert response.status_code < 500, path
            body = b"".join(response.streaming_content) if response.streaming else response.content
            yield path, body.decode("utf-8", "replace"), body


@pytest.mark.django_db
class AccessIsolationTests:
    def test_it_answers_404_for_another_customers_profile_and_numbers(self, alice, bob):
        with pytest.raises(Http404):
            access_user(actor=alice, purpose=Purpose.SELF_SERVICE, user_id=bob.pk)
        with pytest.raises(Http404):
            list(phone_number_list(actor=alice, purpose=Purpose.SELF_SERVICE, user=bob))

    def test_it_shows_only_my_own_numbers_on_the_page_and_the_api(self, client, alice, bob):
        client.force_login(alice)
        page = client.get("/accounts/numbers/").content.decode()
        api = client.get("/api/v1/me/numbers/").content.decode()
        assert "+31205550101" in page and "+31205550101" in api
        for secret in BOB_SECRETS:
            assert secret not in page and secret not in api

    def test_it_leaks_nothing_of_bob_through_any_url(self, client, alice, bob, carol):
        make_cdr(account=bob, src="+31205550201", dst="+31699990001")
        from accounts.models import PhoneNumber

        ids = sorted({1, 2, 3, bob.pk, *PhoneNumber.objects.filter(user=bob).values_list("pk", flat=True)})
        client.force_login(alice)
        checked = 0
        for path, text, _body in walk_pages(client, ids):
            for secret in BOB_SECRETS:
                assert secret not in text, f"{path} shows bob's data"
            checked += 1
        assert checked > 20
