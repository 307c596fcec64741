"""The click-to-call promise, end to end (issue 12): the real unpacked extension (extension/) loaded into
Chromium, paired through its options page, on a page of another site full of personal-looking content.
A click on a number sends the number and nothing else: the server sees a body of exactly one field, no
cookie, no referrer, an Origin without a path, and no text or address of the page reaches the server's
request, its logs, its database or the switch."""
from __future__ import annotations

import json
import logging
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.apps import apps
from django.core.cache import cache
from django.utils.timezone import now

from tests.factories import PASSWORD, make_cdr, make_user
from tests.traffic.call_setup_helpers import token_for
from tests.traffic.switch_fakes import FakeAmi
from traffic.api.call_setup import CallSetupApi
from traffic.models import CallSetup

from .conftest import CHROMIUM, CHROMIUM_FLAGS, TIMEOUT_MS, login

pytestmark = pytest.mark.e2e

EXTENSION = Path(__file__).resolve().parents[2] / "extension"
PAGE_PATH = "/patients/jan-jansen/record.html?bsn=123456782&session=PAGE-SECRET-77"
MARKERS = ("Jansen", "jansen", "123456782", "PAGE-SECRET-77", "Hypertension", "Keizersgracht", "patients",
           "record.html", "jan@example.nl", "Medical record")
PAGE = """<!DOCTYPE html><html><head><title>Medical record of Jan Jansen</title></head><body>
<h1>Medical record: Jan Jansen</h1>
<p>Patient Jan Jansen, BSN 123456782, lives at Keizersgracht 1, Amsterdam; e-mail jan@example.nl.</p>
<p>Diagnosis: Hypertension. Appointment on 2026-01-15 - 2026-02-15.</p>
<p>Questions? Call the practice on <strong id="text-number">020-555 0199</strong> during office hours.</p>
<p>Or the pharmacy: <a id="tel-link" href="tel:+31205550188">+31 (0)20 555 0188</a>.</p>
<p hidden>Hidden number 020-555 0177 must not be touched.</p>
</body></html>"""
# A tel: link whose address carries page text besides the number: the extension sends nothing for it.
TRACKED_PAGE = """<!DOCTYPE html><html><head><title>Record</title></head><body>
<p><a id="tracked" href="tel:+31205550177?viewer=jan-jansen">Call the practice</a></p>
<p><a id="plain" href="tel:+31205550188">Call the pharmacy</a></p>
</body></html>"""


class _PageHandler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        body = (TRACKED_PAGE if self.path == "/tracked.html" else PAGE).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Set-Cookie", "patient_session=PAGE-SECRET-77; Path=/")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def other_site():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _PageHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def seen_by_server(monkeypatch):
    """Every request that reaches the call set-up API, as the server received it (method, path, query,
    headers, raw body), recorded before the view reads anything."""
    seen: list[dict] = []
    original = CallSetupApi.dispatch

    def recording(self, request, *args, **kwargs):
        seen.append({"method": request.method, "path": request.path, "query": request.META.get("QUERY_STRING", ""),
                     "headers": dict(request.headers), "body": request.body.decode()})
        return original(self, request, *args, **kwargs)

    monkeypatch.setattr(CallSetupApi, "dispatch", recording)
    return seen


@pytest.fixture
def extension_context(playwright_driver, tmp_path):
    args = [flag for flag in CHROMIUM_FLAGS if flag != "--headless"] + [
        "--headless=new", f"--disable-extensions-except={EXTENSION}", f"--load-extension={EXTENSION}"]
    context = playwright_driver.chromium.launch_persistent_context(
        str(tmp_path / "profile"), executable_path=str(CHROMIUM), headless=False, args=args, locale="en-GB")
    context.set_default_timeout(TIMEOUT_MS)
    try:
        yield context
    finally:
        context.close()


def _extension_id(context) -> str:
    workers = context.service_workers or [context.wait_for_event("serviceworker")]
    url = next(w.url for w in workers if w.url.startswith("chrome-extension://"))
    return url.split("/")[2]


def _pair(context, extension_id: str, server: str, token: str) -> None:
    """Pairing: the options page stores the portal address and the token."""
    options = context.new_page()
    options.goto(f"chrome-extension://{extension_id}/options.html")
    # The page reads the stored pairing asynchronously; typed before that, the address was blanked by it (seen once in
    # CI: "Use the https:// address", for a localhost address). The page now keeps what was typed; wait all the same.
    options.wait_for_selector("html[data-loaded]", timeout=4 * TIMEOUT_MS)
    options.fill("#server", server)
    options.fill("#token", token)
    options.click("#save")
    # Saving writes the extension's storage, nothing more; on a machine running CI's three test runs at once it once
    # took over TIMEOUT_MS to show. A wrong token or address shows "#status.error" at once, whatever the wait.
    options.wait_for_selector("#status.ok, #status.error", timeout=4 * TIMEOUT_MS)
    assert options.get_attribute("#status", "class") == "ok", options.inner_text("#status")
    options.close()


def _every_stored_text() -> str:
    rows = []
    for model in apps.get_models():
        rows.extend(repr(row) for row in model.objects.all().values_list())
    return "\n".join(rows)


def _wait_for(predicate, timeout=TIMEOUT_MS / 1000):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.05)


@pytest.mark.django_db(transaction=True)
def test_a_click_sends_only_the_number(extension_context, live_server, other_site, seen_by_server, settings, caplog):
    alice = make_user("alice", numbers=["+31205550101"])
    token = token_for(alice, name="Chromium")
    cache.clear()
    context = extension_context
    extension_id = _extension_id(context)
    with FakeAmi() as switch, caplog.at_level(logging.DEBUG):
        settings.CALL_SETUP_BACKEND = "asterisk"
        settings.CALL_SETUP_URL = f"ami://voipxs:secret@127.0.0.1:{switch.port}"

        _pair(context, extension_id, live_server.url, token)

        page = context.new_page()
        dialogs: list[str] = []
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.accept()))
        page.goto(other_site + PAGE_PATH)
        page.wait_for_selector("#text-number .voipxs-c2c")
        assert page.locator(".voipxs-c2c").count() == 1  # the visible text number; links and hidden text stay as they are

        page.click("#text-number .voipxs-c2c")
        _wait_for(lambda: len(seen_by_server) >= 1)
        # The switch is asked from a task: wait for the first Originate, else a quick second click can reach the
        # switch first (seen once on a loaded machine) and the order below would be the tasks', not the clicks'.
        _wait_for(lambda: sum("Exten: " in message for message in switch.received) >= 1)
        page.click("#tel-link")
        _wait_for(lambda: CallSetup.objects.count() == 2)
        page.wait_for_selector("[data-voipxs-toast='ok']", state="attached")
        # The row is stored before the switch is asked: wait for the second Originate too (a loaded machine
        # took longer than the toast).
        _wait_for(lambda: sum("Exten: " in message for message in switch.received) >= 2)

    posts = [r for r in seen_by_server if r["method"] == "POST"]
    assert [json.loads(r["body"]) for r in posts] == [{"number": "020-555 0199"}, {"number": "+31205550188"}]
    assert dialogs and all("Only this number is sent" in text for text in dialogs)
    for request in seen_by_server:
        headers = {k.lower(): v for k, v in request["headers"].items()}
        assert "cookie" not in headers and "referer" not in headers
        assert headers.get("origin") in (None, f"chrome-extension://{extension_id}")
        assert request["path"] == "/api/v1/me/calls/setup/" and request["query"] == ""
        for marker in MARKERS:
            assert marker not in json.dumps(request), marker

    dialled = [line for message in switch.received for line in message.split("\r\n") if line.startswith("Exten: ")]
    assert dialled == ["Exten: +31205550199", "Exten: +31205550188"]
    stored, logged = _every_stored_text(), caplog.text
    for marker in MARKERS + ("127.0.0.1:" + other_site.rsplit(":", 1)[1],):
        assert marker not in stored, marker
        assert marker not in logged, marker
        assert marker not in repr(switch.received), marker


@pytest.mark.django_db(transaction=True)
def test_the_portal_call_button_uses_the_same_api_under_the_csp(page, page_log, live_server, settings):
    alice = make_user("alice", numbers=["+31205550101"])
    make_cdr(account=alice, dst="+31699993678", started_at=now() - timedelta(hours=2))
    cache.clear()
    with FakeAmi() as switch:
        settings.CALL_SETUP_BACKEND = "asterisk"
        settings.CALL_SETUP_URL = f"ami://voipxs:secret@127.0.0.1:{switch.port}"
        login(page, live_server, "alice", PASSWORD)
        page.goto(f"{live_server.url}/calls/")
        page.on("dialog", lambda dialog: dialog.accept())
        page.click("button[data-call-number='+31699993678']")
        page.wait_for_selector("#call-setup-status.ok")
    assert "+31699993678" in page.inner_text("#call-setup-status")
    assert CallSetup.objects.get().via == "portal"
    assert page_log.console_errors == [] and page_log.page_errors == [] and page_log.foreign_requests == []


@pytest.mark.django_db(transaction=True)
def test_a_tel_link_with_page_text_sends_nothing(extension_context, live_server, other_site, seen_by_server, settings):
    token = token_for(make_user("alice", numbers=["+31205550101"]), name="Chromium")
    cache.clear()
    with FakeAmi() as switch:
        settings.CALL_SETUP_BACKEND = "asterisk"
        settings.CALL_SETUP_URL = f"ami://voipxs:secret@127.0.0.1:{switch.port}"
        _pair(extension_context, _extension_id(extension_context), live_server.url, token)
        for link in ("#tracked", "#plain"):  # the plain number still goes, after the other would have
            page = extension_context.new_page()
            page.on("dialog", lambda dialog: dialog.accept())
            page.goto(other_site + "/tracked.html")
            page.click(link, no_wait_after=True)
            time.sleep(1)
        _wait_for(lambda: any(r["method"] == "POST" for r in seen_by_server))
    posts = [json.loads(r["body"]) for r in seen_by_server if r["method"] == "POST"]
    assert posts == [{"number": "+31205550188"}]
    assert "jan-jansen" not in json.dumps(seen_by_server)
