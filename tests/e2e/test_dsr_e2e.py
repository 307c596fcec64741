"""In a real browser: a customer asks for her data, downloads the ZIP, and sees the notice of a new
privacy-policy version on every page until she opens the policy."""
from __future__ import annotations

import json

import pytest

from tests.e2e.conftest import login
from tests.e2e.flows import data_export_download
from tests.factories import PASSWORD, make_cdr

# PostgreSQL only, like the other live-server tests (SQLite's flush meets the audit log's trigger).
pytestmark = [pytest.mark.e2e, pytest.mark.postgres]


class DsrInBrowserTests:
    def test_it_exports_downloads_and_shows_the_policy_notice_until_read(self, page, live_server, page_log, settings,
                                                                          tmp_path, alice, bob, dpo):
        from accounts.dsr.policy import policy_version_create, policy_version_publish

        settings.PRIVATE_FILES_DIR = tmp_path / "private"
        make_cdr(account=alice, dst="+31699993678")
        make_cdr(account=bob, src="+31205550201", dst="+31699995777")

        login(page, live_server, "alice", PASSWORD)
        archive = data_export_download(page, tmp_path)
        data = json.loads(archive.read("export.json"))
        calls = next(s for s in data["sections"] if s["name"] == "calls")
        assert [c["to"] for c in calls["rows"]] == ["+31699993678"]
        assert b"+31699995777" not in b"".join(archive.read(n) for n in archive.namelist())

        assert page.locator("#policy-notice").count() == 0
        pv = policy_version_create(version="2", summary="Unbilled calls are now kept two months.", text="Article 1\n\nNew.",
                                   substantive=True, actor=dpo)
        policy_version_publish(policy=pv, actor=dpo)
        for url in ("/", "/calls/", "/privacy-requests/"):
            page.goto(f"{live_server.url}{url}")
            assert "Unbilled calls are now kept two months." in page.locator("#policy-notice").inner_text(), url
        for width in (390, 1280):  # a banner, its text aligned with the page's, not run against the window's edge
            page.set_viewport_size({"width": width, "height": 800})
            text, heading = page.locator("#policy-notice p").bounding_box(), page.locator("main h1").bounding_box()
            assert abs(text["x"] - heading["x"]) <= 8 and text["x"] >= 12, width
            assert page.locator("#policy-notice").evaluate("e => getComputedStyle(e).backgroundColor") not in (
                "rgba(0, 0, 0, 0)", "rgb(255, 255, 255)")
        with page.expect_navigation():
            page.get_by_role("link", name="Read the new policy").click()
        assert "Version history" in page.content()
        for url in ("/", "/calls/"):
            page.goto(f"{live_server.url}{url}")
            assert page.locator("#policy-notice").count() == 0, url
        assert page_log.page_errors == [] and page_log.foreign_requests == []
