"""In a real browser: legal1 takes a request in with its written order and records the callback, legal2 and
legal3 approve it, legal1 starts the production, legal2 checks the output and downloads the package; the
package verifies against its manifest and the audit chain verifies afterwards."""
from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils.timezone import now

from disclosures.models import DisclosureRequest, PackageDownload
from disclosures.services.authorities import authority_create, authority_verify
from tests.e2e.flows import disclosure_take_in, officer_sign_in
from tests.factories import make_cdr

pytestmark = [pytest.mark.e2e]


class DisclosureInBrowserTests:
    def test_intake_two_approvals_check_and_download(self, page, live_server, page_log, legal1, legal2, legal3, alice, tmp_path):
        make_cdr(account=alice, src="+31205550101", dst="+31699993678", started_at=now() - timedelta(days=3))
        authority = authority_create(actor=legal1, name="Politie Eenheid E2E", kind="police", contact_phone="+31205559999")
        authority_verify(actor=legal2, authority=authority, note="official register")

        officer_sign_in(page, live_server, legal1)
        # The order came in writing: legal1 files it with the request; the data are handed over on it.
        disclosure_take_in(page, authority=authority, reference="PV-E2E-1", basis="sv_126n", document="vordering.pdf",
                           deadline_days=2)
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
            officer_sign_in(page, live_server, officer)
            page.goto(f"{live_server.url}/disclosures/requests/{req.pk}/")
            page.locator("form:has(#approve) input[name=confirm]").check()
            with page.expect_navigation():
                page.locator("#approve").click()
        assert "Approved" in page.locator("#status").inner_text()

        officer_sign_in(page, live_server, legal1)
        page.goto(f"{live_server.url}/disclosures/requests/{req.pk}/")
        with page.expect_navigation():
            page.locator("#produce").click()
        assert "Produced" in page.locator("#status").inner_text()

        officer_sign_in(page, live_server, legal2)
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
