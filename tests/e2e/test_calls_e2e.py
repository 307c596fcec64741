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


# Each card's face on a phone, read in the browser: the visible cells outside "Details" (their text, and whether
# any lies past the window's right edge), and the page's sideways overflow.
CARDS = """() => [...document.querySelectorAll('table.calls > tbody > tr:not(.leg):not(.note)')].map(tr => {
  const face = [...tr.children].filter(td => !td.classList.contains('c-more') && td.getBoundingClientRect().width > 0);
  return {face: face.map(td => td.innerText.trim()), past: face.some(td => td.getBoundingClientRect().right > innerWidth),
          details: tr.querySelector('details') ? tr.querySelector('details').open : null,
          before: getComputedStyle(tr.querySelector('.c-price'), '::before').content};
})"""


class CallCardOnAPhoneTests:
    @pytest.mark.parametrize("language, incoming, outgoing", [("en", "incoming", "outgoing"),
                                                               ("nl", "inkomend", "uitgaand")])
    def test_a_card_shows_the_call_direction_without_opening_details(self, page, live_server, alice, language,
                                                                       incoming, outgoing):
        make_cdr(account=alice, direction="in", src="+31699999999", dst="+31205550101",
                 started_at=datetime(2026, 3, 11, 9, 0, tzinfo=timezone.utc), price=Decimal("0.0615"))
        make_cdr(account=alice, dst="+31699993678", started_at=datetime(2026, 3, 10, 9, 0, tzinfo=timezone.utc))
        page.set_viewport_size({"width": 390, "height": 844})
        page.context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
        login(page, live_server, "alice", PASSWORD)
        page.goto(f"{live_server.url}/calls/")
        assert page.evaluate("() => document.documentElement.lang") == language
        cards = page.evaluate(CARDS)
        assert [card["details"] for card in cards] == [False, False]  # nothing opened
        assert incoming in cards[0]["face"] and outgoing in cards[1]["face"], cards
        assert not any(card["past"] for card in cards)
        # the price is money as on every page, its euro sign once (the phone's style once added a second)
        assert {"en": "€0.0615", "nl": "€\u00a00,0615"}[language] in cards[0]["face"]
        assert {card["before"] for card in cards} == {"none"}
        assert page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth") <= 0
