"""In a real browser: the DPO's confirmation pages offer "Go back and change", which brings back the form with
what was typed (the answer to a request; a breach notification), and a breach notification recorded in error is
withdrawn with a reason and stays in the register, struck through. Pages without a serious axe violation. With
VOIPXS_SHOT_DIR set, each page is also saved there at 1280 and 390 px wide, in English and Dutch, to look at."""
from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest

from tests.e2e.axe import serious_violations
from tests.e2e.conftest import CHROMIUM, CHROMIUM_FLAGS, TIMEOUT_MS, login
from tests.factories import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]
ANSWER = "We checked the label on your line and found it as you say.\nIt is corrected."


def _shots(page, name: str) -> None:
    folder = os.environ.get("VOIPXS_SHOT_DIR")
    if not folder:
        return
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(Path(folder) / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


@pytest.fixture
def dpo_page(playwright_driver, live_server, dpo):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    browser = playwright_driver.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS)
    try:
        def open_(language: str = "en"):
            context = browser.new_context(bypass_csp=True)  # axe is injected as a script
            context.set_default_timeout(TIMEOUT_MS)
            context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
            page = context.new_page()
            login(page, live_server, "dpo", PASSWORD, totp_device=TOTPDevice.objects.get(user=dpo))
            return page
        yield open_
    finally:
        browser.close()


class DpoGoBackInBrowserTests:
    @pytest.mark.parametrize("language", ["en", "nl"])
    def test_going_back_from_the_answers_confirmation_keeps_the_answer(self, dpo_page, live_server, alice, language):
        from accounts.dsr.models import DataSubjectRequest
        from accounts.dsr.services import dsr_request_create

        req = dsr_request_create(user=alice, kind=DataSubjectRequest.Kind.RECTIFICATION, details="My label is wrong")
        page = dpo_page(language)
        page.goto(f"{live_server.url}/")
        _shots(page, f"home-{language}")
        page.goto(f"{live_server.url}/privacy-requests/dpo/{req.pk}/")
        page.fill("#id_answer", ANSWER)
        with page.expect_navigation():
            page.locator("button[name=action][value=complete]").click()
        assert page.locator(".confirm").count() == 1 and serious_violations(page) == []
        _shots(page, f"answer-confirm-{language}")
        with page.expect_navigation():
            page.locator("button[name=confirm][value=edit]").click()
        assert page.locator("#id_answer").input_value() == ANSWER and page.url.endswith("#answer-title")
        assert DataSubjectRequest.objects.get(pk=req.pk).status == DataSubjectRequest.Status.RECEIVED
        _shots(page, f"answer-back-{language}")

    @pytest.mark.parametrize("language", ["en", "nl"])
    def test_a_breach_notification_asks_comes_back_and_is_withdrawn_with_a_reason(self, dpo_page, live_server, dpo,
                                                                                 language):
        from django.utils.timezone import localtime, now

        from accounts.dsr.breaches import breach_incident_create
        from accounts.dsr.models import BreachNotification

        inc = breach_incident_create(title="Support notes e-mailed to the wrong customer", scope="One e-mail",
                                     detected_at=now() - timedelta(hours=5), telecom_service=True, actor=dpo)
        page = dpo_page(language)
        page.goto(f"{live_server.url}/privacy-requests/dpo/breaches/{inc.pk}/")
        page.select_option("#id_recipient", "authority")
        page.fill("#id_sent_at", localtime(now() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"))
        page.fill("#id_reference", "AP-2026-77")
        with page.expect_navigation():
            page.locator("button[name=action][value=notify]").click()
        assert page.locator(".confirm").count() == 1 and serious_violations(page) == []
        _shots(page, f"breach-notify-confirm-{language}")
        with page.expect_navigation():
            page.locator("button[name=confirm][value=edit]").click()
        assert page.locator("#id_reference").input_value() == "AP-2026-77" and not BreachNotification.objects.exists()
        with page.expect_navigation():
            page.locator("button[name=action][value=notify]").click()
        with page.expect_navigation():
            page.locator("button.danger").click()
        record = BreachNotification.objects.get()
        assert page.locator("#withdraw-title").count() == 1 and serious_violations(page) == []
        _shots(page, f"breach-recorded-{language}")
        page.select_option("#id_notification", str(record.pk))
        page.fill("#id_reason", "Recorded on the wrong incident")
        with page.expect_navigation():
            page.locator("button[name=action][value=withdraw]").click()
        _shots(page, f"breach-withdraw-confirm-{language}")
        with page.expect_navigation():
            page.locator("button.danger").click()
        assert page.locator("#notifications li.withdrawn del").count() == 1 and serious_violations(page) == []
        assert "Recorded on the wrong incident" in page.locator("#notifications").inner_text()
        _shots(page, f"breach-withdrawn-{language}")


class RetentionWarningInBrowserTests:
    @pytest.mark.parametrize("language", ["en", "nl"])
    def test_a_recipient_told_that_the_key_backup_lacks_is_warned_of(self, dpo_page, live_server, settings, tmp_path,
                                                                     monkeypatch, alice, legal1, dpo, language):
        from tests.retention.test_erasure_list_recipients import _told_without_retake

        settings.BACKUP_KEYS_FILE = tmp_path / "keys" / "month-keys.enc"
        settings.PRIVATE_FILES_DIR = tmp_path / "private"
        _told_without_retake(alice, legal1, dpo, monkeypatch)
        page = dpo_page(language)
        page.goto(f"{live_server.url}/retention/")
        assert page.locator("#erasure-list-recipients").count() == 1 and serious_violations(page) == []
        _shots(page, f"retention-warning-{language}")
