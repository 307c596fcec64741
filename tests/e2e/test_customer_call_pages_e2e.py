"""The customer's call pages read in Chromium, at 1280 and 390 px: a refused filter's error looks like one (it was body
text beside a field with the grey border of every field), a call not answered says so on a phone's card (it showed
"0 s" only, as a call picked up and hung up at once), and a month on the usage page leads to that month's calls.
Each page also passes axe-core (no serious or critical violation) and is no wider than the window."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils.timezone import localdate, localtime, now

from tests.e2e.axe import serious_violations
from tests.e2e.conftest import CHROMIUM, CHROMIUM_FLAGS, TIMEOUT_MS, login
from tests.factories import PASSWORD, make_cdr

pytestmark = pytest.mark.e2e

ERR = "rgb(176, 0, 32)"  # --err in static/css/site.css
OVERFLOW = "() => document.documentElement.scrollWidth - window.innerWidth"
# The face of each call's card on a phone: its shown cells outside "Details".
FACES = """() => [...document.querySelectorAll('table.calls > tbody > tr:not(.leg):not(.note)')].map(tr =>
  [...tr.children].filter(td => !td.classList.contains('c-more') && td.getBoundingClientRect().width > 0)
    .map(td => td.innerText.trim()))"""


@pytest.fixture
def customer_page(playwright_driver, live_server, alice):
    """alice signed in, in a context that lets axe-core in (the site's CSP refuses an injected script)."""
    browser = playwright_driver.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS)
    context = browser.new_context(locale="en-GB", timezone_id="Europe/Amsterdam", bypass_csp=True)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    login(page, live_server, "alice", PASSWORD)
    try:
        yield page
    finally:
        context.close()
        browser.close()


def _axe(page) -> list[str]:
    return [f"axe {v['impact']} {v['id']} at {v['nodes']}" for v in serious_violations(page)]


@pytest.mark.parametrize("width", [1280, 390])
def test_a_refused_filter_shows_its_error_in_the_error_colour(customer_page, live_server, width):
    page = customer_page
    page.set_viewport_size({"width": width, "height": 844})
    page.goto(f"{live_server.url}/calls/")
    page.fill("#id_since", "2026-12-01")
    page.fill("#id_until", "2026-11-30")
    with page.expect_navigation():
        page.get_by_role("button", name="Filter").click()
    error = page.locator("#id_until-error")
    assert "must not be before the start date" in error.inner_text()
    assert error.evaluate("e => getComputedStyle(e).color") == ERR
    assert page.locator("#id_until").evaluate("e => getComputedStyle(e).borderTopColor") == ERR
    assert page.locator("#id_since").evaluate("e => getComputedStyle(e).borderTopColor") != ERR  # only the one named
    assert page.evaluate(OVERFLOW) <= 0
    assert _axe(page) == []


@pytest.mark.parametrize("language, unanswered", [("en", "no answer"), ("nl", "geen antwoord")])
def test_a_phone_card_says_a_call_was_not_answered(customer_page, live_server, alice, language, unanswered):
    moment = now() - timedelta(hours=2)
    make_cdr(account=alice, dst="+31699993678", started_at=moment, disposition="no_answer", billsec=0)
    make_cdr(account=alice, dst="+31699993679", started_at=moment - timedelta(hours=1), billsec=60)
    page = customer_page
    page.context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/calls/")
    missed, picked_up = page.evaluate(FACES)
    assert unanswered in missed and "0:00" not in missed, missed
    assert "1:00" in picked_up and unanswered not in picked_up, picked_up
    assert page.evaluate(OVERFLOW) <= 0
    assert _axe(page) == []
    # on a wide screen the table keeps its Result and Billed time columns for every call
    page.set_viewport_size({"width": 1280, "height": 800})
    assert page.locator("table.calls td.c-dur").evaluate_all("cells => cells.map(c => c.innerText)") == ["0:00", "1:00"]


@pytest.mark.parametrize("width", [1280, 390])
def test_a_month_on_the_usage_page_opens_that_months_calls(customer_page, live_server, alice, width):
    first = localdate().replace(day=1)
    last_month = (first - timedelta(days=1)).replace(day=1)
    make_cdr(account=alice, dst="+31699993678", started_at=localtime(now()).replace(day=1) - timedelta(days=2))
    make_cdr(account=alice, dst="+31699993679", started_at=now())  # this month, even at 00:00 on the 1st
    page = customer_page
    page.set_viewport_size({"width": width, "height": 844})
    page.goto(f"{live_server.url}/calls/usage/")
    assert page.evaluate(OVERFLOW) <= 0
    assert _axe(page) == []
    with page.expect_navigation():
        page.get_by_role("link", name=last_month.strftime("%B %Y")).click()
    assert page.input_value("#id_since") == last_month.isoformat()
    assert page.input_value("#id_until") == (first - timedelta(days=1)).isoformat()
    text = page.locator("table.calls").inner_text()
    assert "+31699993678" in text and "+31699993679" not in text


# The erased account's page on a phone: its table of what is kept, as cards, none wider than its box, and its caption as
# wide as the cards (shown as the caption of a table laid out as a block, it was a word a line).
KEPT = """() => { const t = document.querySelector('main table'), c = t.querySelector('caption');
  return {stacked: t.classList.contains('stacked'), caption: c.getBoundingClientRect().width,
          table: t.getBoundingClientRect().width, overflow: t.closest('.table-wrap').scrollWidth -
          t.closest('.table-wrap').clientWidth}; }"""


@pytest.mark.parametrize("language", ["en", "nl"])
def test_the_erased_accounts_page_fits_a_phone(customer_page, live_server, alice, language):
    from datetime import date

    from traffic.models import Invoice

    period = date.today().replace(day=1) - timedelta(days=40)
    Invoice.objects.create(number=f"INV-{alice.pk}-{period:%Y%m}", account=alice, period=period,
                           due_date=period + timedelta(days=45), dispute_window_ends=date.today() + timedelta(days=150),
                           status="open")
    page = customer_page
    page.context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/privacy-requests/")
    page.select_option("#id_kind", "erasure")
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.locator("main form button[type=submit]").last.click()
    page.fill("input[type=password]", PASSWORD)  # asked again on the confirmation page
    with page.expect_navigation():
        page.locator("main form button[type=submit]").first.click()
    kept = page.evaluate(KEPT)
    assert kept["stacked"] and kept["overflow"] <= 0, kept
    assert kept["caption"] >= kept["table"] - 1, kept
    assert page.evaluate(OVERFLOW) <= 0
    assert _axe(page) == []
