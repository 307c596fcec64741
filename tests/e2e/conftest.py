"""Browser tests: Playwright driving Debian's Chromium (/usr/bin/chromium) against pytest-django's
live_server. Mark every test module here with `pytestmark = pytest.mark.e2e`.

Without Chromium or Playwright the tests skip with the reason; with VOIPXS_REQUIRE_BROWSER=1 (set by
.ci/run) they fail instead, so CI cannot pass without having run them.

Fixtures: `page` (a fresh Chromium profile per test), `page_log` (console errors, requests to other
hosts), and the helper `login(page, live_server, username, password, totp_device=None)`.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

CHROMIUM = Path("/usr/bin/chromium")
# Without the background-networking flags Chromium keeps calling Google's hosts, which this
# machine's closed network refuses; the fresh profile comes from launch_persistent_context.
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
TIMEOUT_MS = 15_000


def browser_required() -> bool:
    return os.environ.get("VOIPXS_REQUIRE_BROWSER") == "1"


def skip_or_fail(reason: str) -> None:
    if browser_required():
        pytest.fail(f"{reason} (VOIPXS_REQUIRE_BROWSER=1: browser tests must run here)", pytrace=False)
    pytest.skip(reason)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(autouse=True)
def _flushable_audit_log(audit_log_flushable):
    """Browser tests sign in and so write audit entries; let the live_server flush remove them."""
    yield


@pytest.fixture(scope="package")
def playwright_driver():
    """Playwright for the browser tests, and only for them. Its sync API keeps an event loop running in
    this thread while it is started, so Django (1) would refuse ORM calls from the test body
    (SynchronousOnlyOperation) although nothing here is async: allowed for this package only; and (2)
    would keep this thread's connections in a context variable instead of the thread's own storage, as
    new connections: the test would read through another connection than the one the live server shares
    with it (on SQLite, "database table is locked"), and the last of them would stay open past the run (the
    test database could not be dropped). So the thread's own connections are put in that storage too."""
    if not CHROMIUM.exists():
        skip_or_fail("browser tests need Debian's Chromium at /usr/bin/chromium (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_or_fail("browser tests need playwright (pip install -r requirements-dev.txt)")
    from django.db import connections

    before = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    own = {alias: connections[alias] for alias in connections}
    manager = sync_playwright()
    driver = manager.start()
    for alias, wrapper in own.items():
        connections[alias] = wrapper  # now in the loop's storage: the same connections as before
    try:
        yield driver
    finally:
        manager.__exit__(None, None, None)
        if before is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = before


@dataclass
class PageLog:
    allowed_origin: str
    console_errors: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)


@pytest.fixture
def page_log(live_server) -> PageLog:
    parts = urlsplit(live_server.url)
    return PageLog(allowed_origin=f"{parts.scheme}://{parts.netloc}")


@pytest.fixture
def page(playwright_driver, live_server, page_log, tmp_path):
    context = playwright_driver.chromium.launch_persistent_context(
        str(tmp_path / "chromium-profile"),
        executable_path=str(CHROMIUM),
        headless=True,
        args=CHROMIUM_FLAGS,
        locale="en-GB",
        timezone_id="Europe/Amsterdam",
    )
    context.set_default_timeout(TIMEOUT_MS)
    browser_page = context.pages[0] if context.pages else context.new_page()

    def on_request(request) -> None:
        url = request.url
        if url.startswith(("data:", "blob:", "about:")):
            return
        parts = urlsplit(url)
        if f"{parts.scheme}://{parts.netloc}" != page_log.allowed_origin:
            page_log.foreign_requests.append(url)

    browser_page.on("request", on_request)
    browser_page.on("console", lambda msg: msg.type == "error" and page_log.console_errors.append(msg.text))
    browser_page.on("pageerror", lambda exc: page_log.page_errors.append(str(exc)))
    try:
        yield browser_page
    finally:
        context.close()


def totp_code(device) -> str:
    from django_otp.oath import totp

    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=device.drift):0{device.digits}d}"


def login(page, live_server, username: str, password: str, totp_device=None) -> None:
    """Sign in through the real login form; with a TOTP device, answer the second-factor step too."""
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    with page.expect_navigation():
        page.locator("main form button[type=submit]").first.click()
    if totp_device is not None:
        token_input = page.locator("input[name=otp_token], input[autocomplete=one-time-code]").first
        token_input.wait_for()
        token_input.fill(totp_code(totp_device))
        with page.expect_navigation():
            page.locator("main form button[type=submit]").first.click()
