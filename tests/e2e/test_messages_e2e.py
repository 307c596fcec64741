"""In a real browser: the message a page shows after a step (Django's messages, templates/base.html) is announced
as a status and is a list axe accepts. It was a <ul role="status">: the role took the list's place, so its items
were list items outside any list (axe "listitem", serious). Seen on the DPO's request page after "Start"."""
from __future__ import annotations

import pytest

from tests.e2e.axe import serious_violations
from tests.e2e.conftest import CHROMIUM, CHROMIUM_FLAGS, TIMEOUT_MS, login
from tests.factories import PASSWORD

pytestmark = pytest.mark.e2e


class StepMessageTests:
    def test_the_dpo_is_told_what_the_step_did_in_a_status_axe_accepts(self, playwright_driver, live_server, alice,
                                                                        dpo):
        from django_otp.plugins.otp_totp.models import TOTPDevice

        from accounts.dsr.models import DataSubjectRequest
        from accounts.dsr.services import dsr_request_create

        req = dsr_request_create(user=alice, kind=DataSubjectRequest.Kind.RECTIFICATION, details="My label is wrong")
        browser = playwright_driver.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS)
        try:
            context = browser.new_context(bypass_csp=True)  # axe is injected as a script
            context.set_default_timeout(TIMEOUT_MS)
            self._check(context.new_page(), live_server, req, TOTPDevice.objects.get(user=dpo))
        finally:
            browser.close()

    def _check(self, page, live_server, req, device) -> None:
        login(page, live_server, "dpo", PASSWORD, totp_device=device)
        page.goto(f"{live_server.url}/privacy-requests/dpo/{req.pk}/")
        with page.expect_navigation():
            page.locator("button[name=action][value=start]").click()
        status = page.get_by_role("status").filter(has_text=f"Request #{req.pk} is in progress.")
        assert status.count() == 1
        assert page.get_by_role("listitem").filter(has_text=f"Request #{req.pk} is in progress.").count() == 1
        assert serious_violations(page) == []
