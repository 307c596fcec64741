"""The second-factor step, between the password and the code: its header showed the whole menu of the person's roles
(Customer support, Admin, Sign-in and security…), each link leading back to the code it asks. It shows only the way out
(Sign out) and the privacy policy until the code is given; once verified, the menu is back."""
from __future__ import annotations

import re

import pytest

from tests.factories import verified_client

pytestmark = pytest.mark.django_db


def _header(page: str) -> str:
    return re.search(r'<header class="site-header">.*?</header>', page, re.DOTALL).group(0)


def test_the_code_step_shows_no_menu_of_pages_it_would_send_back_to_itself(client, support):
    client.force_login(support)  # the password given, the second factor not yet
    response = client.get("/accounts/two-factor/")
    header = _header(response.content.decode())
    assert response.status_code == 200
    assert 'href="/support/"' not in header and 'href="/accounts/security/"' not in header
    assert 'href="/admin/"' not in header
    assert 'action="/accounts/logout/"' in header and 'href="/privacy/"' in header


def test_once_verified_the_menu_is_back(client, support):
    header = _header(verified_client(client, support).get("/support/").content.decode())
    assert 'href="/support/"' in header and 'href="/accounts/security/"' in header
