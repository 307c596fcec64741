"""In a real browser: legal1 takes a request in with its written order and records the callback, legal2 and
legal3 approve it, legal1 starts the production, legal2 checks the output and downloads the package; the
package verifies against its manifest and the audit chain verifies afterwards."""
from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils.timezone import localtime, now
from django_otp.plugins.otp_totp.models import TOTPDevice

from disclosures.models import DisclosureRequest, PackageDownload
from disclosures.services.authorities import authority_create, authority_verify
from tests.e2e.conftest import login
from tests.factories import PASSWORD, make_cdr

pytestmark = [pytest.mark.e2e]


def _as(page, live_server, user) -> None:
    page.context.clear_cookies()
    device = TOTPDevice.objects.get(user=user)
    # django-otp refuses a code of a time step already used (replay protection); a second sign-in of
    # the same officer within 30 s would need the next step, so let the device forget the last one.
    TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1)
    device.refresh_from_db()
    login(page, live_server, user.username, PASSWORD, device)


class DisclosureInBrowserTests:
    def test_intake_two_approvals_check_and_download(self, page, live_server, page_log, legal1, legal2, legal3, alice, tmp_path):
        make_cdr(account=alice, src="+31205550101", dst="+31699993678", started_at=now() - timedelta(days=3))
        authority = authority_create(actor=legal1, name="Politie Eenheid E2E", kind="police", contact_phone="+31205559999")
        authority_verify(actor=legal2, authority=authority, note="official register")

        _as(page, live_server, legal1)
        with page.expect_navigation():
            page.get_by_role("link", name="Take in a disclosure request").first.click()
        page.select_option("#id_authority", str(authority.pk))
        page.fill("#id_reference", "PV-E2E-1")
        page.select_option("#id_legal_basis", "sv_126n")
        page.check("input[name=categories][value=traffic_data]")
        page.fill("#id_numbers", "020 555 0101")
        today = localtime(now()).date()
        page.fill("#id_window_start", (today - timedelta(days=30)).isoformat())
        page.fill("#id_window_end", (today + timedelta(days=1)).isoformat())
        page.fill("#id_deadline", localtime(now() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"))
        # The order came in writing: legal1 files it with the request; the data are handed over on it.
        page.set_input_files("#id_document", files=[{"name": "vordering.pdf", "mimeType": "application/pdf",
                                                     "buffer": b"%PDF signed order"}])
        page.check("#id_document_is_order")
        with page.expect_navigation():
            page.locator("#request-form button[type=submit]").click()
        req = DisclosureRequest.objects.get(reference="PV-E2E-1")
        assert "Received" in page.locator("#status").inner_text()
        assert req.written_order_at is not None and page.locator("#order-missing").count() == 0
        page.locator("form:has(#verify) input[name=confirm]").check()
        with page.expect_navigation():
            page.locator("#verify").click()
        with page.expect_navigation():
            page.locator("#review").click()
        assert page.locator("#approve").count() == 0  # the intake officer is not offered approval

        for officer in (legal2, legal3):
            _as(page, live_server, officer)
            page.goto(f"{live_server.url}/disclosures/requests/{req.pk}/")
            page.locator("form:has(#approve) input[name=confirm]").check()
            with page.expect_navigation():
                page.locator("#approve").click()
        assert "Approved" in page.locator("#status").inner_text()

        _as(page, live_server, legal1)
        page.goto(f"{live_server.url}/disclosures/requests/{req.pk}/")
        with page.expect_navigation():
            page.locator("#produce").click()
        assert "Produced" in page.locator("#status").inner_text()

        _as(page, live_server, legal2)
        page.goto(f"{live_server.url}/disclosures/requests/{req.pk}/")
        with page.expect_navigation():
            page.locator("#check").click()
        with page.expect_download() as info:
            page.locator("#download").click()
        path = tmp_path / "package.zip"
        info.value.save_as(path)
        out = io.StringIO()
        call_command("verify_package", str(path), stdout=out)
        assert "OK" in out.getvalue()
        assert PackageDownload.objects.filter(package__request=req, downloaded_by=legal2).count() == 1

        out = io.StringIO()
        call_command("verify_audit_log", stdout=out)
        assert "intact" in out.getvalue()
        assert page_log.page_errors == [] and page_log.foreign_requests == []
