"""In a real browser: the DPO records on a carried-out rectification's page that a recipient of the person's data
was told of it (GDPR art. 19), and the page, with its form in the table and a recipient pending the person's notice
(a secrecy order that ended, the notice not yet sent), has no serious axe violation."""
from __future__ import annotations

from datetime import timedelta

import pytest

from tests.e2e.axe import serious_violations
from tests.e2e.conftest import CHROMIUM, CHROMIUM_FLAGS, TIMEOUT_MS, login
from tests.factories import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]


def _pending(user, officer, today) -> None:
    """A disclosure to a court whose secrecy order ended yesterday, its notice still withheld."""
    from django.utils.timezone import now

    from disclosures.models import Authority
    from tests.accounts.dsr_helpers import delivered_disclosure

    req = delivered_disclosure(user=user, officer=officer, reference="ENDED-1", secrecy_days=30)
    req.authority = Authority.objects.create(name="Rechtbank Test", kind="court", contact_phone="+31205559998",
                                             verified_at=now())
    req.secrecy_until = today - timedelta(days=1)
    req.save(update_fields=["authority", "secrecy_until"])


class RecipientStepInBrowserTests:
    def test_the_dpo_records_when_and_how_the_recipient_was_told(self, playwright_driver, live_server, alice, legal1,
                                                                 dpo):
        from django.utils.timezone import localdate
        from django_otp.plugins.otp_totp.models import TOTPDevice

        from accounts.dsr.models import DataSubjectRequest, RecipientNotification
        from accounts.dsr.services import dsr_request_complete, dsr_request_create
        from tests.accounts.dsr_helpers import delivered_disclosure

        delivered_disclosure(user=alice, officer=legal1, reference="TOLD-1", secrecy_days=None)
        _pending(alice, legal1, localdate())
        req = dsr_request_create(user=alice, kind=DataSubjectRequest.Kind.RECTIFICATION, details="My label is wrong")
        req = dsr_request_complete(request=req, answer="We corrected it.", actor=dpo)
        browser = playwright_driver.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS)
        try:
            context = browser.new_context(bypass_csp=True)  # axe is injected as a script
            context.set_default_timeout(TIMEOUT_MS)
            page = context.new_page()
            login(page, live_server, "dpo", PASSWORD, totp_device=TOTPDevice.objects.get(user=dpo))
            page.goto(f"{live_server.url}/privacy-requests/dpo/")
            with page.expect_navigation():
                page.locator(".recipients-to-notify").first.click()
            table = page.locator("#recipient-notifications")
            assert "Politie Eenheid Test" in table.inner_text() and "Not yet notified" in table.inner_text()
            pending = page.locator("#recipient-notifications tr.recipient-pending")
            assert "Rechtbank Test" in pending.inner_text() and "notice is not yet sent" in pending.inner_text()
            assert pending.locator("form").count() == 0  # nothing to record until the notice is sent
            assert serious_violations(page) == []
            page.set_viewport_size({"width": 390, "height": 900})  # the form inside the phone's card, not past its edge
            assert page.locator("#recipient-notifications").evaluate(
                "t => [...t.querySelectorAll('form label, form input:not([type=hidden]), form select, form button')]"
                ".every(e => e.getBoundingClientRect().right <= t.parentElement.getBoundingClientRect().right)")
            assert page.locator("#recipient-notifications").evaluate("t => t.scrollWidth <= t.parentElement.clientWidth")
            page.locator("#recipient-notifications input[name=notified_on]").fill(localdate().isoformat())
            page.locator("#recipient-notifications select[name=how]").select_option("letter")
            with page.expect_navigation():
                page.locator("#recipient-notifications button[type=submit]").click()
            assert page.get_by_role("status").filter(has_text="Recorded that the recipient was notified.").count() == 1
            assert "Not yet notified" not in page.locator("#recipient-notifications").inner_text()
        finally:
            browser.close()
        assert RecipientNotification.objects.get(request=req).how == "letter"
