"""On a phone (390 px): a customer can download each invoice's PDF from her invoice list without sideways
scrolling (the list is a card an invoice there, its PDF link a row of the card); and a form post with a NUL
byte shows the site's 400 page naming the field, in Dutch for a Dutch reader, fitting the screen."""
from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.utils.timezone import now

from tests.e2e.axe import serious_violations
from tests.e2e.conftest import CHROMIUM, CHROMIUM_FLAGS, TIMEOUT_MS, login
from tests.factories import PASSWORD
from tests.retention.helpers import make_invoice

# PostgreSQL only, like the other live-server tests (SQLite's flush meets the audit log's trigger).
pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

OVERFLOW = "() => document.documentElement.scrollWidth - window.innerWidth"
PHONE, DESK = {"width": 390, "height": 844}, {"width": 1280, "height": 800}


@pytest.fixture
def browser(playwright_driver):
    browser = playwright_driver.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS)
    yield browser
    browser.close()


def _in(browser, live_server, language: str, viewport: dict):
    context = browser.new_context(bypass_csp=True, locale="en-GB", timezone_id="Europe/Amsterdam", viewport=viewport)
    context.set_default_timeout(TIMEOUT_MS)
    context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
    return context, context.new_page()


def _inside_window(page, locator) -> bool:
    box = locator.bounding_box()
    return box is not None and box["x"] >= 0 and box["x"] + box["width"] <= page.viewport_size["width"]


class InvoicePdfOnAPhoneTests:
    @pytest.mark.parametrize("language", ["en", "nl"])
    def test_each_invoices_pdf_link_is_on_the_screen_at_390_px(self, browser, live_server, alice, language,
                                                                tmp_path):
        period = (now().date() - timedelta(days=70)).replace(day=1)
        invoice = make_invoice(account=alice, period=period, status="open",
                               window_ends=now().date() + timedelta(days=20))
        context, page = _in(browser, live_server, language, PHONE)
        login(page, live_server, "alice", PASSWORD)
        page.goto(f"{live_server.url}/calls/invoices/")
        page.screenshot(path=tmp_path / f"invoices-390-{language}.png", full_page=True)  # to look at when it fails
        pdf = page.locator(f"main a.pdf[href='/calls/invoices/{invoice.pk}/pdf/']:visible")
        assert pdf.count() == 1 and _inside_window(page, pdf)
        assert page.evaluate(OVERFLOW) <= 0 and serious_violations(page) == []
        with page.expect_download() as download:
            pdf.click()
        assert download.value.suggested_filename.endswith(".pdf")
        page.set_viewport_size(DESK)  # the desk keeps its PDF column, and one link a row
        assert page.locator(f"main a.pdf[href='/calls/invoices/{invoice.pk}/pdf/']:visible").count() == 1
        context.close()


class NulPostPageTests:
    def test_a_post_with_a_nul_shows_the_400_page_naming_the_field_in_dutch_fitting_a_phone(self, browser,
                                                                                            live_server, alice,
                                                                                            tmp_path):
        context, page = _in(browser, live_server, "nl", PHONE)
        login(page, live_server, "alice", PASSWORD)
        page.goto(f"{live_server.url}/accounts/security/")
        token = page.locator("input[name=csrfmiddlewaretoken]").first.get_attribute("value")
        # As the browser posts the click-to-call token form, its name field carrying a NUL (a form cannot type one).
        response = page.request.post(f"{live_server.url}/accounts/security/call-setup-tokens/",
                                     data=urlencode({"csrfmiddlewaretoken": token, "name": "pc\x00"}),
                                     headers={"Content-Type": "application/x-www-form-urlencoded",
                                              "Referer": f"{live_server.url}/accounts/security/"})
        assert response.status == 400
        page.set_content(response.text(), wait_until="domcontentloaded")  # shown as the browser would show it
        page.screenshot(path=tmp_path / "nul-400-390-nl.png", full_page=True)
        assert page.locator("html").get_attribute("lang") == "nl"
        refused = page.locator("#refused-field")
        assert refused.locator("code").inner_text() == "name"
        assert "Null characters are not allowed." not in refused.inner_text()  # Django's words, in Dutch
        assert "The request could not be read" not in page.locator("main").inner_text()
        assert page.evaluate(OVERFLOW) <= 0
        context.close()
