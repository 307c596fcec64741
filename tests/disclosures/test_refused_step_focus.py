"""A refused step came back as the request page's top, the focus on nothing, the refusal beside a form far down the
page. The page that comes back now opens at it: the refused form's error summary, or the unticked box, carries
`autofocus` (the CSP runs no inline script); a page not refused moves the focus nowhere. The browser test
(tests/e2e/test_disclosure_refused_step_e2e.py) sees where the focus lands; this one, on both databases, what the
page asks for. The forms that open (narrow, convert, the notice decision) are .field blocks, not as_p paragraphs."""
from __future__ import annotations

import re

import pytest
from django.urls import reverse

from disclosures.models import LegalBasis
from tests.factories import verified_client

from .conftest import receive, to_state

pytestmark = pytest.mark.django_db


def _post(client, officer, req, step, data) -> tuple[int, str]:
    r = verified_client(client, officer).post(reverse("disclosures:transition", args=[req.pk, step]), data)
    return r.status_code, r.content.decode()


def _autofocused(html: str) -> list[str]:
    """The opening tags that ask for the focus."""
    return re.findall(r"<[a-z]+\b[^>]*\sautofocus\b[^>]*>", html)


def _details(html: str, details_id: str) -> str:
    found = re.search(rf'<details id="{details_id}"[^>]*>.*?</details>', html, re.S)
    assert found, f"no {details_id} on the page"
    return found.group(0)


def test_a_refused_narrowing_asks_the_focus_for_its_error_summary(client, legal1, authority):
    req = to_state(receive(legal1, authority), "under_review", intake=legal1, approvers=[])
    status, html = _post(client, legal1, req, "narrow", {"remove_target_ids": "first", "confirm": "yes"})
    assert status == 400
    focused = _autofocused(html)
    assert len(focused) == 1 and 'class="error-summary"' in focused[0] and 'tabindex="-1"' in focused[0]
    narrow = _details(html, "narrow-scope")
    assert focused[0] in narrow
    assert '<a href="#id_narrow_remove_target_ids">' in narrow and "Target ids are whole numbers." in narrow


def test_a_step_sent_without_its_box_ticked_asks_the_focus_for_the_box(client, legal1, authority):
    req = receive(legal1, authority)
    status, html = _post(client, legal1, req, "reject", {"note": "No legal basis"})
    assert status == 400
    focused = _autofocused(html)
    assert len(focused) == 1 and 'name="confirm"' in focused[0]
    assert 'aria-describedby="reject-confirm-error"' in focused[0]


def test_a_refused_document_asks_the_focus_for_its_error_summary(client, legal1, authority):
    req = receive(legal1, authority)
    status, html = _post(client, legal1, req, "document", {})  # no file chosen
    assert status == 400
    focused = _autofocused(html)
    assert len(focused) == 1 and 'class="error-summary"' in focused[0]
    assert html.index(focused[0]) < html.index('id="id_document"')


def test_a_page_not_refused_moves_the_focus_nowhere(client, legal1, authority):
    req = to_state(receive(legal1, authority, basis=LegalBasis.SV_126NI, deadline=None), "under_review",
                   intake=legal1, approvers=[])
    html = verified_client(client, legal1).get(reverse("disclosures:detail", args=[req.pk])).content.decode()
    assert _autofocused(html) == []


def test_the_forms_that_open_are_field_blocks_each_hint_named_by_its_input(client, legal1, legal2, legal3, authority):
    req = to_state(receive(legal1, authority, basis=LegalBasis.SV_126NI, deadline=None), "approved",
                   intake=legal1, approvers=[legal2, legal3])
    html = verified_client(client, legal1).get(reverse("disclosures:detail", args=[req.pk])).content.decode()
    for details_id, hinted in (("narrow-scope", "id_narrow_max_hits"), ("convert-order", "id_order_document"),
                               ("notice-review", "id_review_on")):
        form = _details(html, details_id)
        assert "<p>" not in form.split("<form", 1)[1], f"{details_id}: as_p paragraphs"
        assert 'class="step-form"' in form
        assert re.search(rf'<div class="field">\s*<label for="{hinted}">', form), f"{details_id}: no .field block"
        assert re.search(rf'<div class="helptext" id="{hinted}_helptext">', form)
        assert re.search(rf'id="{hinted}"[^>]*aria-describedby="{hinted}_helptext"|'
                         rf'aria-describedby="{hinted}_helptext"[^>]*id="{hinted}"', form), f"{hinted}: hint not named"
