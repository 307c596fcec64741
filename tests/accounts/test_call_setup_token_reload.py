"""Making a click-to-call token answers with a redirect (post/redirect/get): reloading the page that shows the
new token neither asks the browser to resend the form nor makes a second token, and the token's text is shown on
that one page only."""
from __future__ import annotations

import re

import pytest

from accounts.models import CallSetupToken
from tests.factories import verified_client

pytestmark = pytest.mark.django_db
SHOWN = re.compile(r'id="new-call-setup-token">([^<]+)<')


class CallSetupTokenReloadTests:
    def test_the_post_redirects_and_the_next_page_shows_the_token_once(self, client, alice):
        verified_client(client, alice)
        response = client.post("/accounts/security/call-setup-tokens/", {"name": "Firefox at home"})
        assert response.status_code == 302 and response["Location"] == "/accounts/security/#click-to-call"
        assert "vxc_" not in response.content.decode()
        first = client.get(response["Location"]).content.decode()
        token = SHOWN.search(first)
        assert token and token.group(1).startswith("vxc_")
        assert first.count(token.group(1)) == 1
        again = client.get("/accounts/security/").content.decode()  # the reload
        assert not SHOWN.search(again) and token.group(1) not in again
        assert "Firefox at home" in again  # still listed, by name
        assert CallSetupToken.objects.filter(user=alice).count() == 1

    def test_a_head_request_does_not_take_the_token_away(self, client, alice):
        verified_client(client, alice)
        client.post("/accounts/security/call-setup-tokens/", {"name": "Chromium"})
        client.head("/accounts/security/")
        assert SHOWN.search(client.get("/accounts/security/").content.decode())

    def test_a_refused_name_is_answered_on_the_page_without_a_redirect(self, client, alice):
        verified_client(client, alice)
        response = client.post("/accounts/security/call-setup-tokens/", {"name": "  "})
        assert response.status_code == 400 and 'id="token-error"' in response.content.decode()
        assert not CallSetupToken.objects.filter(user=alice).exists()


def test_each_token_says_whether_it_is_active_and_a_revoke_button_names_it(client, alice):
    """The status column of a live token held only its Revoke button: nothing said it was active."""
    verified_client(client, alice)
    client.post("/accounts/security/call-setup-tokens/", {"name": "Firefox at home"})
    client.post("/accounts/security/call-setup-tokens/", {"name": "Old laptop"})
    CallSetupToken.objects.filter(user=alice, name="Old laptop").update(revoked_at="2026-01-01T00:00:00Z")
    page = client.get("/accounts/security/").content.decode()
    rows = {name: row for row in re.findall(r"<tr[^>]*>(.*?)</tr>", page, re.DOTALL)
            for name in ("Firefox at home", "Old laptop") if f">{name}</td>" in row}
    assert re.search(r"<td[^>]*>\s*active<form", rows["Firefox at home"]) and ">Revoke<" in rows["Firefox at home"]
    assert 'Revoke<span class="visually-hidden"> Firefox at home</span>' in rows["Firefox at home"]
    assert "revoked" in rows["Old laptop"] and "Revoke" not in rows["Old laptop"]
