"""The answer to a Call button is shown where the customer is. The buttons sit beside each number of the call
history, fifty to a page; their answer (the call is being set up, or why not) went into a status line at the top
of the page, out of sight when the button clicked was further down: the customer clicked, confirmed, and saw
nothing happen. The line now stays in the window while the page scrolls under it."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils.timezone import now

from tests.e2e.conftest import login
from tests.factories import PASSWORD, make_cdr, make_user

pytestmark = pytest.mark.e2e


def _status_in_window(page) -> bool:
    top, bottom, height = page.evaluate(
        "(() => { const r = document.getElementById('call-setup-status').getBoundingClientRect();"
        " return [r.top, r.bottom, window.innerHeight]; })()")
    return bottom > top and top >= 0 and bottom <= height


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("width, height", [(1280, 800), (390, 844)])
def test_the_answer_to_a_call_button_far_down_the_page_is_in_view(page, page_log, live_server, width, height):
    alice = make_user("alice", numbers=["+31205550101"])
    for i in range(40):
        make_cdr(account=alice, dst=f"+316999930{i:02d}", started_at=now() - timedelta(hours=2 + i))
    cache.clear()
    page.set_viewport_size({"width": width, "height": height})
    login(page, live_server, "alice", PASSWORD)
    page.goto(f"{live_server.url}/calls/")
    page.on("dialog", lambda dialog: dialog.accept())
    button = page.locator("button[data-call-number='+31699993039']")
    button.scroll_into_view_if_needed()
    button.click()
    page.wait_for_selector("#call-setup-status:not([hidden])")
    # click-to-call is not switched on here: the answer says so, and the customer sees it without scrolling
    assert "not switched on" in page.inner_text("#call-setup-status")
    assert _status_in_window(page)
    assert page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") == 0
    assert page_log.page_errors == []  # the console has the API's 503 (not switched on), which is the answer
