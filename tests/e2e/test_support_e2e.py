"""The support desk in Chromium on a 390 px phone: nothing wider than the screen, the actions
reachable (issue 13 item 6)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils.timezone import now

from tests.e2e.conftest import login
from tests.factories import PASSWORD, make_user
from voipxs.privacy.purposes import Role

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

OVERFLOW = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"


class SupportPhoneE2ETests:
    def test_support_finds_a_customer_and_unlocks_on_a_phone(self, page, live_server, page_log):
        from axes.models import AccessAttempt
        from django_otp.plugins.otp_totp.models import TOTPDevice

        customer = make_user("alice", numbers=["+31205550101"])
        AccessAttempt.objects.create(username="alice", ip_address="192.0.2.7", user_agent="t", failures_since_start=5,
                                     attempt_time=now() - timedelta(minutes=1), get_data="", post_data="")
        support = make_user("support", roles=(Role.SUPPORT,), totp=True)
        page.set_viewport_size({"width": 390, "height": 844})
        login(page, live_server, "support", PASSWORD, totp_device=TOTPDevice.objects.get(user=support))
        page.goto(f"{live_server.url}/support/")
        page.get_by_label("Phone number or e-mail address").fill("020 555 0101")
        with page.expect_navigation():
            page.locator("main form button[type=submit]").click()
        assert page.evaluate(OVERFLOW) <= 0
        with page.expect_navigation():
            page.get_by_role("link", name="alice").click()
        assert page.url.endswith(f"/support/customers/{customer.pk}/")
        assert "locked out" in page.locator("main").inner_text()
        wide = page.evaluate("""() => [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1).map(e => e.tagName + '.' + e.className + '#' + e.id + ' ' + Math.round(e.getBoundingClientRect().right)).slice(0, 15)""")
        assert page.evaluate(OVERFLOW) <= 0, wide
        with page.expect_navigation():
            page.get_by_role("button", name="Forget the failed sign-ins and unlock").click()
        assert "Sign-in unlocked" in page.locator("main").inner_text()
        assert not AccessAttempt.objects.filter(username="alice").exists()
        assert page_log.foreign_requests == [] and page_log.page_errors == []
