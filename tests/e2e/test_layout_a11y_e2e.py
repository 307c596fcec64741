"""Each role's main pages in Chromium at 1280x800 and 390x844 (issue 13 items 1 and 7): nothing wider
than the window, the money column on the screen where a page has money, and no serious or critical
axe-core violation. One browser for the module, one context per role (both sizes), the demo world
seeded once: the whole walk is one test that lists every problem it finds."""
from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from accounts.sections import DEMO_PASSWORD
from tests.e2e.axe import serious_violations
from tests.e2e.conftest import CHROMIUM, CHROMIUM_FLAGS, TIMEOUT_MS, login
from traffic.partitions import cdr_partitions_list_names

# PostgreSQL only, like the other live-server tests (SQLite's flush meets the audit log's trigger).
pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

SIZES = ((1280, 800), (390, 844))
INVOICE = "<alice's newest invoice>"
ADMIN_USER = "<alice's page in the admin>"
STAFF_ADDRESS = "<the invoice address of alice's newest invoice, for billing staff>"
# role -> (demo login, its pages; the first is the page it lands on from home); MONEY: pages with amounts.
ROLE_PAGES = {
    "customer": ("alice", ("/calls/", "/calls/invoices/", INVOICE, "/calls/usage/", "/privacy-requests/", "/",
                           "/accounts/billing-address/")),
    "contractor_admin": ("acme-admin", ("/calls/contractor/",)),
    "billing": ("billing", ("/calls/staff/invoices/", "/calls/staff/tariffs/", "/calls/staff/interconnection/",
                            STAFF_ADDRESS, "/calls/staff/masking-list/")),
    "support": ("support", ("/support/", "/support/?q=%2B31205550101")),
    "legal_officer": ("legal1", ("/disclosures/", "/disclosures/report/")),
    "dpo": ("dpo", ("/retention/", "/privacy-requests/dpo/", "/privacy-requests/dpo/register/")),
    # The Django admin too: its index, changelists with search and filters (and the read-only calls, paged
    # without a count), an add form and a change form. No overflow exemption is needed on a phone: a changelist
    # wider than 390 px scrolls inside its own box (Django's `.results`, overflow-x: auto), not the page.
    "admin": ("admin", ("/", "/admin/", "/admin/traffic/tariff/", "/admin/traffic/tariff/add/", "/admin/accounts/user/",
                        ADMIN_USER, "/admin/traffic/cdr/", "/admin/knox/authtoken/", "/admin/accounts/contractor/")),
}
MONEY = {"/calls/", "/calls/invoices/", INVOICE, "/calls/usage/", "/calls/contractor/", "/calls/staff/invoices/",
         "/calls/staff/tariffs/", "/calls/staff/interconnection/"}

OVERFLOW = "() => document.documentElement.scrollWidth - window.innerWidth"
# The first amount on the page: a call's price cell (the phone layout hides the header row) or a money
# column's header. Visible means: not collapsed, inside the window and not scrolled away in its box.
MONEY_CELL = """() => {
  const shown = e => e.getBoundingClientRect().width > 1;
  const cell = [...document.querySelectorAll('main td.c-price:not(:empty)')].find(shown)
            || [...document.querySelectorAll('main th.price')].find(shown);
  if (!cell) return null;
  const r = cell.getBoundingClientRect(), box = cell.closest('.table-wrap');
  const right = Math.min(window.innerWidth, box ? box.getBoundingClientRect().right : window.innerWidth);
  return {text: cell.innerText.trim(), left: Math.round(r.left), right: Math.round(r.right), limit: Math.round(right)};
}"""


@pytest.fixture(scope="module")
def browser(playwright_driver):
    browser = playwright_driver.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS)
    yield browser
    browser.close()


def _problems_on(page, url: str, *, money: bool, language: str) -> list[str]:
    problems = []
    page.goto(url)
    shown = page.evaluate("() => document.documentElement.lang")
    if not shown.startswith(language):
        problems.append(f"the page is in {shown!r}, not in {language!r}")
    overflow = page.evaluate(OVERFLOW)
    if overflow > 0:
        problems.append(f"{overflow}px wider than the window")
    if money:
        cell = page.evaluate(MONEY_CELL)
        if cell is None:
            problems.append("no price or amount column shown")
        elif cell["left"] < 0 or cell["right"] > cell["limit"] + 1:
            problems.append(f"the amount column ({cell['text']!r}) ends at {cell['right']}px, past {cell['limit']}px")
    for violation in serious_violations(page):
        problems.append(f"axe {violation['impact']} {violation['id']} ({violation['help']}) at {violation['nodes']}")
    return problems


def _walk(browser, live_server, role: str, username: str, paths: tuple[str, ...], invoice_id: int,
          language: str = "en") -> list[str]:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from accounts.models import User

    places = {INVOICE: f"/calls/invoices/{invoice_id}/", STAFF_ADDRESS: f"/calls/staff/invoices/{invoice_id}/address/",
              ADMIN_USER: f"/admin/accounts/user/{User.objects.get(username='alice').pk}/change/"}
    context = browser.new_context(locale="en-GB", timezone_id="Europe/Amsterdam", bypass_csp=True)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        login(page, live_server, username, DEMO_PASSWORD, totp_device=TOTPDevice.objects.filter(user__username=username).first())
        context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
        problems = []
        for width, height in SIZES:
            page.set_viewport_size({"width": width, "height": height})
            for path in paths:
                url = live_server.url + places.get(path, path)
                found = _problems_on(page, url, money=path in MONEY, language=language)
                problems += [f"{role} ({language}) {width}px {path}: {p}" for p in found]
        return problems
    finally:
        context.close()


def _partitions_drop(names: set[str]) -> None:
    """The month partitions the demo data made: the flush after the test empties tables, it does not
    drop them, and a later purge test would find (and purge) these months too."""
    from django.db import connection

    with connection.cursor() as cursor:
        for name in sorted(names):
            cursor.execute(f"DROP TABLE IF EXISTS {connection.ops.quote_name(name)}")  # nosec B608


class LayoutAndAccessibilityTests:
    def test_every_roles_pages_fit_show_the_money_and_pass_axe(self, browser, live_server, settings, tmp_path):
        from traffic.models import Invoice

        settings.PRIVATE_FILES_DIR = tmp_path / "private"
        before = set(cdr_partitions_list_names())
        try:
            call_command("seed_demo", stdout=io.StringIO())
            invoice = Invoice.objects.filter(account__username="alice").order_by("-period").first()
            problems = []
            for role, (username, paths) in ROLE_PAGES.items():
                problems += _walk(browser, live_server, role, username, paths, invoice.pk)
            # Dutch labels are longer: the customer's money pages once more in Dutch.
            problems += _walk(browser, live_server, "customer", "alice", ROLE_PAGES["customer"][1][:4],
                              invoice.pk, language="nl")
            # And the admin, which Django translates itself: its Dutch labels in our layout.
            problems += _walk(browser, live_server, "admin", "admin", ROLE_PAGES["admin"][1],
                              invoice.pk, language="nl")
            assert problems == [], "\n".join(problems)
        finally:
            _partitions_drop(set(cdr_partitions_list_names()) - before)

    def test_the_check_catches_a_price_column_pushed_off_a_phone(self, browser, live_server):
        """The walk above can fail: a table wider than its box hides the price, and axe names an
        unlabelled field (a page of our own markup, served by the live server's origin)."""
        context = browser.new_context(bypass_csp=True, viewport={"width": 390, "height": 844})
        page = context.new_page()
        try:
            page.goto(live_server.url + "/privacy/")
            page.evaluate("""() => { document.querySelector('main').innerHTML =
              '<div class="table-wrap"><table class="table"><tr><th>' + 'x'.repeat(120) +
              '</th><th class="price">Price</th></tr></table></div><input type="text">'; }""")
            cell = page.evaluate(MONEY_CELL)
            assert cell["right"] > cell["limit"] + 1
            assert any(v["id"] == "label" for v in serious_violations(page))
        finally:
            context.close()
