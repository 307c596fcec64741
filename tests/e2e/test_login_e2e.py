"""Sign-in in a real browser (Chromium through Playwright, tests/e2e/conftest.py)."""
from __future__ import annotations

import pytest

from tests.e2e.conftest import login, totp_code
from tests.factories import PASSWORD, make_user
from voipxs.privacy.purposes import Role

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


class LoginE2ETests:
    def test_it_shows_alice_her_own_numbers(self, page, live_server, page_log):
        make_user("alice", numbers=["+31205550101"])
        make_user("bob", numbers=["+31205550201"])
        login(page, live_server, "alice", PASSWORD)
        page.goto(f"{live_server.url}/accounts/numbers/")
        assert page.get_by_role("heading", level=1).inner_text() == "My numbers"
        table = page.locator("main table").inner_text()
        assert "+31205550101" in table and "+31205550201" not in table
        assert page_log.foreign_requests == [] and page_log.page_errors == []

    def test_it_makes_a_legal_officer_pass_totp_before_the_staff_home(self, page, live_server, page_log):
        from django_otp.plugins.otp_totp.models import TOTPDevice

        officer = make_user("legal1", roles=(Role.LEGAL_OFFICER,), totp=True)
        device = TOTPDevice.objects.get(user=officer)
        login(page, live_server, "legal1", PASSWORD)
        # Signed in with the password only: every page sends the officer to the code.
        assert page.url.startswith(f"{live_server.url}/accounts/two-factor/")
        page.goto(f"{live_server.url}/")
        assert page.url.startswith(f"{live_server.url}/accounts/two-factor/")
        token = page.get_by_label("Code")
        assert token.evaluate("el => el === document.activeElement")  # focus is on the field
        token.fill("000000")
        with page.expect_navigation():
            page.locator("main form button[type=submit]").first.click()
        assert page.locator("#id_otp_token_error").is_visible()
        assert page.locator("#id_otp_token").get_attribute("aria-invalid") == "true"
        device.refresh_from_db()
        device.throttle_reset()  # the wrong code above started django-otp's back-off
        page.get_by_label("Code").fill(totp_code(device))
        with page.expect_navigation():
            page.locator("main form button[type=submit]").first.click()
        assert page.url == f"{live_server.url}/"
        assert "Legal officer" in page.locator("main").inner_text()
        assert page_log.foreign_requests == [] and page_log.page_errors == []
