"""Ending a Contractor's contract in the admin, in Chromium on a 390 px phone and in Dutch: the action asks
first on a page naming the contractor, how many accounts close and the reason, which fits the screen and
passes axe; nothing happens until it is confirmed."""
from __future__ import annotations

import pytest

from accounts.models import Contractor, User
from tests.e2e.axe import serious_violations
from tests.e2e.conftest import CHROMIUM, CHROMIUM_FLAGS, login
from tests.factories import PASSWORD, ContractorFactory, make_user
from voipxs.privacy.purposes import Role

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

OVERFLOW = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"


class ContractorCloseAdminE2ETests:
    def test_an_administrator_ends_a_contract_on_a_phone_in_dutch(self, playwright_driver, live_server, tmp_path):
        from django_otp.plugins.otp_totp.models import TOTPDevice

        browser = playwright_driver.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS)
        try:  # bypass_csp: axe is injected as an inline script (tests/e2e/axe.py)
            self._walk(browser.new_context(bypass_csp=True).new_page(), live_server, tmp_path, TOTPDevice)
        finally:
            browser.close()

    def _walk(self, page, live_server, tmp_path, TOTPDevice) -> None:

        acme = ContractorFactory(name="Acme BV")
        bob = make_user("bob", contractor=acme, numbers=["+31205550201"])
        admin = make_user("admin", roles=(Role.ADMIN,), totp=True)
        page.context.add_cookies([{"name": "django_language", "value": "nl", "url": live_server.url}])
        page.set_viewport_size({"width": 390, "height": 844})
        login(page, live_server, "admin", PASSWORD, totp_device=TOTPDevice.objects.get(user=admin))

        page.goto(f"{live_server.url}/admin/accounts/contractor/")
        page.locator(f"input[name=_selected_action][value='{acme.pk}']").check()
        page.select_option("select[name=action]", "close_contractors")
        page.select_option("select[name=reason]", "non_payment")
        with page.expect_navigation():
            page.locator("button[name=index]").click()

        text = page.locator("#content").inner_text()
        page.screenshot(path=str(tmp_path / "contractor-close-confirm-390-nl.png"), full_page=True)
        assert "Contract van 1 opdrachtgever(s) beëindigen?" in text and "Acme BV" in text
        assert "Alle 1 open account(s)" in text and "Vastgelegde reden" in text
        assert page.evaluate(OVERFLOW) <= 0 and serious_violations(page) == []
        assert User.objects.get(pk=bob.pk).closed_at is None  # asked first

        with page.expect_navigation():
            page.get_by_role("button", name="Ja, beëindig hun contracten").click()
        assert "1 opdrachtgever(s) opgeheven." in page.locator("body").inner_text()
        assert User.objects.get(pk=bob.pk).closed_at is not None
        assert Contractor.objects.get(pk=acme.pk).closed_at is not None
