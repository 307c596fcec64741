"""Smoke test in a real browser: the public pages load from our own server only, without errors."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e


class PublicPagesTests:
    def test_it_opens_the_privacy_policy_from_the_welcome_page(self, page, live_server, page_log):
        page.goto(live_server.url + "/")
        assert page.locator("h1").first.inner_text().strip()
        assert page.locator("html").get_attribute("lang") == "en"

        with page.expect_navigation():
            page.locator("footer").get_by_role("link", name="Privacy policy").click()

        assert page.url == live_server.url + "/privacy/"
        assert page.get_by_role("heading", level=1).inner_text() == "Privacy policy"
        assert page.locator("article h2[id^=article-]").count() == 4  # Articles 1-4 of the policy
        # Our stylesheet loaded (served by the live server, no CDN) and applied.
        assert page.evaluate("getComputedStyle(document.body).margin") == "0px"
        assert page_log.console_errors == []
        assert page_log.page_errors == []
        assert page_log.foreign_requests == []

    def test_it_lets_a_keyboard_user_skip_to_the_content(self, page, live_server):
        page.goto(live_server.url + "/privacy/")
        page.keyboard.press("Tab")
        skip = page.locator("a.skip-link")
        assert skip.evaluate("el => el === document.activeElement")
        assert skip.is_visible()

    def test_it_fits_a_phone_screen_without_sideways_scrolling(self, page, live_server):
        page.set_viewport_size({"width": 360, "height": 740})
        for path in ("/", "/privacy/", "/accounts/login/"):
            page.goto(live_server.url + path)
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"{path} is {overflow}px wider than the screen"
