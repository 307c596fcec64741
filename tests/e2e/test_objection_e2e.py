"""In a real browser: a customer objects (GDPR art. 21) to the security purpose from her privacy page, and the DPO
decides it with the balancing record; both pages fit a 390 px phone and a 1280 px screen."""
from __future__ import annotations

import pytest

from tests.e2e.conftest import login
from tests.factories import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]


def _fits(page, tmp_path, name: str) -> None:
    for width in (390, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(tmp_path / f"{name}-{width}.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), (name, width)


class ObjectionInBrowserTests:
    def test_a_customer_objects_and_the_dpo_decides(self, page, live_server, page_log, tmp_path, alice, dpo):
        from django_otp.plugins.otp_totp.models import TOTPDevice

        from accounts.dsr.objection_models import Objection

        login(page, live_server, "alice", PASSWORD)
        page.goto(f"{live_server.url}/privacy-requests/")
        page.select_option("#id_kind", "objection")
        page.get_by_label("Fraud and abuse prevention, security of the service").check()
        page.fill("#id_details", "Grounds relating to my particular situation")
        _fits(page, tmp_path, "portal")
        with page.expect_navigation():
            page.get_by_role("button", name="Send request").click()
        assert "Your request is registered" in page.content()
        objection = Objection.objects.get(user=alice)
        page.context.clear_cookies()

        login(page, live_server, "dpo", PASSWORD, totp_device=TOTPDevice.objects.get(user=dpo))
        page.goto(f"{live_server.url}/privacy-requests/dpo/{objection.request_id}/objection/")
        page.select_option("#id_outcome_security", "upheld")
        page.fill("#id_legitimate_interest_security", "Detecting fraud on the account")
        page.fill("#id_person_interests_security", "The grounds the customer gave")
        page.fill("#id_reasons_security", "No fraud signal; the customer's grounds prevail")
        page.fill("#id_answer", "We stop processing your data for fraud prevention.")
        _fits(page, tmp_path, "dpo-decision")
        with page.expect_navigation():
            page.get_by_role("button", name="Decide", exact=True).click()
        with page.expect_navigation():
            page.get_by_role("button", name="Yes, decide and send the answer").click()
        objection.refresh_from_db()
        assert objection.outcome == Objection.Outcome.UPHELD
        assert page_log.page_errors == [] and page_log.foreign_requests == []
