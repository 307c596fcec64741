"""In a real browser: a customer opens the call history, filters a month, and sees masked numbers on
the itemised bill until she asks for the full ones."""
from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from tests.e2e.conftest import login
from tests.factories import PASSWORD, make_cdr

pytestmark = pytest.mark.e2e


class CallHistoryInBrowserTests:
    def test_it_filters_a_month_and_masks_the_itemised_bill(self, page, live_server, page_log, alice, mallory):
        from traffic.services import invoices as invoicing

        make_cdr(account=alice, dst="+31699993678", started_at=datetime(2026, 3, 10, 9, 0, tzinfo=timezone.utc),
                 price=Decimal("0.10"))
        make_cdr(account=alice, dst="+31699997321", started_at=datetime(2026, 2, 10, 9, 0, tzinfo=timezone.utc))
        make_cdr(account=alice, direction="in", src="+31699999999", dst="+31205550101",
                 started_at=datetime(2026, 3, 11, 9, 0, tzinfo=timezone.utc), caller_name="<img src=x onerror=alert(1)>")
        make_cdr(account=mallory, src="+31205550999", dst="+31699995777",
                 started_at=datetime(2026, 3, 10, 9, 0, tzinfo=timezone.utc))
        invoice = invoicing.invoice_run(month=date(2026, 3, 1), today=date(2026, 4, 2))[0]

        login(page, live_server, "alice", PASSWORD)
        with page.expect_navigation():
            page.get_by_role("link", name="My calls").first.click()
        table = page.locator("table.calls")
        assert "+31699997321" in table.inner_text()  # February, before filtering
        assert "+31699995777" not in page.content()  # never mallory's calls

        page.fill("#id_since", "2026-03-01")
        page.fill("#id_until", "2026-03-31")
        with page.expect_navigation():
            page.get_by_role("button", name="Filter").click()
        text = table.inner_text()
        assert "+31699993678" in text and "+31699999999" in text
        assert "+31699997321" not in text
        assert "<img src=x onerror=alert(1)>" in text  # shown as text, never run
        assert page.locator("table.calls img").count() == 0

        page.goto(f"{live_server.url}/calls/invoices/")
        with page.expect_navigation():
            page.get_by_role("link", name=invoice.number).click()
        bill = page.locator("table.calls").inner_text()
        assert "+31699993•••" in bill and "+31699993678" not in bill
        with page.expect_navigation():
            page.get_by_role("link", name="Show full numbers").click()
        assert "+31699993678" in page.locator("table.calls").inner_text()
        assert page_log.page_errors == [] and page_log.foreign_requests == []
