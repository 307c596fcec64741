"""A customer disputes her invoice in a real browser: the form on the invoice page fits 390 and 1280 px in English and
Dutch (no sideways scroll, no serious axe violation), an empty reason is refused on the form, and a reason goes
through the confirmation page to a disputed invoice."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from django.utils.timezone import now

from tests.e2e.axe import serious_violations
from tests.e2e.conftest import CHROMIUM, CHROMIUM_FLAGS, TIMEOUT_MS, login
from tests.factories import PASSWORD, make_cdr
from tests.retention.helpers import make_invoice
from traffic.models import Invoice

# PostgreSQL only, like the other live-server tests (SQLite's flush meets the audit log's trigger).
pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

OVERFLOW = "() => document.documentElement.scrollWidth - window.innerWidth"


class InvoiceDisputeInBrowserTests:
    def test_the_customer_disputes_her_invoice_from_a_page_that_fits_and_passes_axe(self, playwright_driver,
                                                                                     live_server, alice, billing_staff):
        period = (now().date() - timedelta(days=70)).replace(day=1)
        invoice = make_invoice(account=alice, period=period, status="open", window_ends=now().date() + timedelta(days=20))
        make_cdr(account=alice, started_at=datetime(period.year, period.month, 5, 12, tzinfo=timezone.utc),
                 invoice=invoice, src="+31205550101", dst="+31699990042")
        browser = playwright_driver.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS)
        try:
            context = browser.new_context(bypass_csp=True, locale="en-GB", timezone_id="Europe/Amsterdam")
            context.set_default_timeout(TIMEOUT_MS)
            page = context.new_page()
            login(page, live_server, "alice", PASSWORD)
            url = f"{live_server.url}/calls/invoices/{invoice.pk}/"
            for language in ("en", "nl"):
                context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
                for width, height in ((390, 844), (1280, 800)):
                    page.set_viewport_size({"width": width, "height": height})
                    page.goto(url)
                    assert page.locator("textarea[name=reason]").count() == 1, (language, width)
                    assert page.evaluate(OVERFLOW) <= 0, (language, width)
                    assert serious_violations(page) == [], (language, width)
            context.add_cookies([{"name": "django_language", "value": "en", "url": live_server.url}])
            page.set_viewport_size({"width": 390, "height": 844})
            page.goto(url)
            with page.expect_navigation():
                page.locator("#dispute-submit").click()
            assert "Say what is wrong with this invoice." in page.locator("main").inner_text()
            page.fill("textarea[name=reason]", "The call of the 5th is not mine.")
            with page.expect_navigation():
                page.locator("#dispute-submit").click()
            assert "kept until the dispute is decided" in page.locator("main").inner_text()
            assert page.evaluate(OVERFLOW) <= 0 and serious_violations(page) == []
            assert Invoice.objects.get(pk=invoice.pk).status == "open"  # asked, nothing done yet
            with page.expect_navigation():
                page.get_by_role("button", name="Yes, dispute this invoice").click()
            assert "is now disputed" in page.locator("main").inner_text()
            invoice.refresh_from_db()
            assert invoice.status == "disputed" and invoice.dispute_reason == "The call of the 5th is not mine."
        finally:
            browser.close()
