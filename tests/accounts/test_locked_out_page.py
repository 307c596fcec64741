"""The page after too many failed sign-ins said "sign-in is paused for a while. Try again later or reset your
password.": how long is a while? and a new password does not lift the pause (the sixth attempt is refused even with the
right password). It says how many minutes (django-axes' cool-off, AXES_COOLOFF_HOURS) and links to setting a new
password for after the pause."""
from __future__ import annotations

import pytest
from django.utils.translation import override

from tests.accounts.helpers import _fresh_cache
from tests.factories import PASSWORD

WRONG = "wrong-password-1234"
pytestmark = pytest.mark.usefixtures(_fresh_cache.__name__)  # the login throttle counts in the cache


def _locked_out_page(client, language: str = "en") -> str:
    client.cookies["django_language"] = language
    for _ in range(5):
        client.post("/accounts/login/", {"username": "alice", "password": WRONG})
    with override(language):
        response = client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 429
    return response.content.decode()


@pytest.mark.django_db
class LockedOutPageTests:
    def test_it_says_for_how_many_minutes_sign_in_is_paused(self, client, alice, settings):
        settings.AXES_COOLOFF_TIME = 0.5  # hours, as the default AXES_COOLOFF_HOURS
        page = _locked_out_page(client)
        assert "sign-in is paused for this account for 30 minutes" in page
        assert "a while" not in page

    def test_it_links_to_setting_a_new_password(self, client, alice):
        page = _locked_out_page(client)
        assert 'href="/accounts/password/reset/"' in page

    def test_it_is_dutch_on_a_dutch_page(self, client, alice):
        page = _locked_out_page(client, "nl")
        assert 'lang="nl"' in page and "30 minuten" in page
        assert "inloggen op dit account 30 minuten gepauzeerd" in page
