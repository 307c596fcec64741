"""LEGAL.md section 5 row 7, end to end in a real browser: a Geschillencommissie (a dispute body, Tw art. 11.5(6))
asks for a customer's call data. The officers take the case in through the same pages as a police request (its
written ruling filed, the callback, two approvals, the production, the output check by another officer) and
deliver it; the case then stands in the register of requests. The notice to the customer is a draft (row 18): an
officer reads what she will be told and sends it after a confirmation page. The customer then sees the case twice:
on her page of disclosures, and among the recipients in the data export she downloads."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils.timezone import now

from disclosures.models import DisclosureRequest, Notice
from disclosures.services.authorities import authority_create, authority_verify
from tests.e2e.conftest import login
from tests.e2e.flows import data_export_download, disclosure_take_in, officer_sign_in
from tests.factories import PASSWORD, make_cdr

# PostgreSQL only, like the other live-server tests that go through a data export.
pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

COMMISSION = "Geschillencommissie Telecommunicatie E2E"


def _click(page, selector: str, *, confirm: bool = False) -> None:
    if confirm:
        page.locator(f"form:has({selector}) input[name=confirm]").check()
    with page.expect_navigation():
        page.locator(selector).click()


class DisputeCaseInBrowserTests:
    def test_a_dispute_body_case_is_delivered_registered_and_shown_to_the_customer(
            self, page, live_server, page_log, settings, tmp_path, legal1, legal2, legal3, alice, bob):
        settings.PRIVATE_FILES_DIR = tmp_path / "private"
        make_cdr(account=alice, src="+31205550101", dst="+31699993678", started_at=now() - timedelta(days=3))
        commission = authority_create(actor=legal1, name=COMMISSION, kind="dispute_commission",
                                      contact_phone="+31205550310")
        authority_verify(actor=legal2, authority=commission, note="official register")

        officer_sign_in(page, live_server, legal1)
        disclosure_take_in(page, authority=commission, reference="GC-2026-0042", basis="dispute_ruling",
                           document="uitspraak.pdf", deadline_days=14)
        req = DisclosureRequest.objects.get(reference="GC-2026-0042")
        assert req.legal_basis == "dispute_ruling" and req.notice_user  # a dispute case tells the user by default
        _click(page, "#verify", confirm=True)
        _click(page, "#review")
        for officer in (legal2, legal3):
            officer_sign_in(page, live_server, officer)
            page.goto(f"{live_server.url}/disclosures/requests/{req.pk}/")
            _click(page, "#approve", confirm=True)
        officer_sign_in(page, live_server, legal1)
        page.goto(f"{live_server.url}/disclosures/requests/{req.pk}/")
        _click(page, "#produce")
        assert "Produced" in page.locator("#status").inner_text()
        officer_sign_in(page, live_server, legal2)  # the output check is another officer's
        page.goto(f"{live_server.url}/disclosures/requests/{req.pk}/")
        _click(page, "#check")
        page.fill("#receipt", "Handed to the commission's secretary, GC-2026-0042")
        page.fill("#secure_channel", "in person, on an encrypted USB stick")
        _click(page, "#deliver", confirm=True)
        assert "Delivered" in page.locator("#status").inner_text()
        assert Notice.objects.get(request=req, user=alice).state == Notice.State.DRAFT
        # The draft: what the customer will be told, sent only once the officer confirms it.
        assert "data was disclosed to a dispute commission" in page.locator("#notice-draft").inner_text().lower()
        _click(page, "#send-notice")
        assert "data was disclosed to a dispute commission" in page.locator(".consequences").inner_text().lower()
        assert Notice.objects.get(request=req, user=alice).state == Notice.State.DRAFT
        with page.expect_navigation():
            page.get_by_role("button", name="Yes, send the notice").click()
        assert Notice.objects.get(request=req, user=alice).state == Notice.State.SENT

        # The register of requests: the case with its authority, basis and state; closed, among the ended ones.
        page.goto(f"{live_server.url}/disclosures/")
        row = page.locator("#delivered + .table-wrap tr", has=page.locator(f"a[href='/disclosures/requests/{req.pk}/']"))
        assert COMMISSION in row.inner_text() and "Dispute body" in row.inner_text()
        page.goto(f"{live_server.url}/disclosures/requests/{req.pk}/")
        _click(page, "#close", confirm=True)
        page.goto(f"{live_server.url}/disclosures/")
        assert f"#{req.pk} GC-2026-0042" in page.locator("h2:has-text('Recently ended') + ul").inner_text()
        assert "None waiting to be closed." in page.locator("#delivered + p").inner_text()

        # The customer: the disclosure on her page, and the commission among the recipients of her export.
        page.context.clear_cookies()
        login(page, live_server, "alice", PASSWORD)
        page.goto(f"{live_server.url}/disclosures/notices/")
        assert "data was disclosed to a dispute commission" in page.locator("main").inner_text().lower()
        page.goto(f"{live_server.url}/")
        archive = data_export_download(page, tmp_path)
        data = json.loads(archive.read("export.json"))
        recipients = next(s for s in data["sections"] if s["name"] == "disclosures")["rows"]
        assert [(r["request"], r["authority"], r["authority_kind"]) for r in recipients] == [
            (req.pk, COMMISSION, "dispute_commission")]

        # Bob's data was not part of the case: he is told nothing.
        page.context.clear_cookies()
        login(page, live_server, "bob", PASSWORD)
        page.goto(f"{live_server.url}/disclosures/notices/")
        assert "There are no disclosures to report." in page.locator("main").inner_text()
        assert page_log.page_errors == [] and page_log.foreign_requests == []
