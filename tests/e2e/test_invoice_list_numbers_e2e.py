"""A customer's invoice list at 390 and 1280 px, in English and Dutch: every invoice number (its own, and the one a
correction replaces or was replaced by) stays on one line, and the page does not scroll sideways. At 390 px the
table broke "INV-202601-000001-2" at its hyphens into three or four lines: a phone shows the list as cards now."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from tests.e2e.axe import serious_violations
from tests.e2e.conftest import login
from tests.e2e import test_phone_pages_e2e as phone_pages
from tests.e2e.test_phone_pages_e2e import DESK, OVERFLOW, PHONE, _in
from tests.factories import PASSWORD, make_cdr
from traffic.services import invoices as invoicing

# PostgreSQL only, like the other live-server tests (SQLite's flush meets the audit log's trigger).
pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

browser = phone_pages.browser  # its fixture: a Chromium for the test
# The invoice numbers shown, each with the number of lines it takes (an inline box that wraps has a rect a line).
NUMBERS = """() => [...document.querySelectorAll('main table a')].filter(a => /^INV-/.test(a.textContent.trim()))
  .map(a => [a.textContent.trim(), a.getClientRects().length])"""


@pytest.fixture
def invoices(alice, billing_staff) -> None:
    """Three months' invoices, the first voided and corrected: the longest numbers the list shows."""
    for month in (1, 2, 3):
        make_cdr(account=alice, started_at=datetime(2026, month, 10, 9, tzinfo=timezone.utc))
        invoicing.invoice_run(month=date(2026, month, 1), today=date(2026, 4, 2))
    first = alice.invoices.order_by("period").first()
    invoicing.invoice_void(invoice=first, actor=billing_staff)
    first.refresh_from_db()
    invoicing.invoice_reissue(invoice=first, actor=billing_staff)


class InvoiceListNumbersTests:
    def test_each_invoice_number_is_on_one_line_at_390_and_1280_px_in_english_and_dutch(self, browser, live_server,
                                                                                        invoices):
        for language in ("en", "nl"):
            context, page = _in(browser, live_server, language, PHONE)
            login(page, live_server, "alice", PASSWORD)
            for viewport in (PHONE, DESK):
                page.set_viewport_size(viewport)
                page.goto(f"{live_server.url}/calls/invoices/")
                numbers = page.evaluate(NUMBERS)
                assert len(numbers) == 6, (language, viewport, numbers)  # four invoices, two corrections' links
                assert [n for n in numbers if n[1] != 1] == [], (language, viewport)
                assert page.evaluate(OVERFLOW) <= 0, (language, viewport)
                assert serious_violations(page) == [], (language, viewport)
            context.close()
