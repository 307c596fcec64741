"""A new decision on the notice to the user, refused by the service (a review date in the past, a civil basis
withheld without a reason), was said only in the banner above the page: the decision's form came back closed and
blank, the officer's reason lost, and nothing at the field at fault. It now comes back open, as the officer filled
it in, the refusal next to the field it names, as the convert and document forms already do."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils.timezone import localdate

from tests.factories import verified_client

from .conftest import receive

pytestmark = pytest.mark.django_db

PAST = "The review date is in the past; choose today or a later day."
NO_REASON = "Give the reason why the user is not notified."


def _decide(client, officer, req, **data):
    c = verified_client(client, officer)
    r = c.post(reverse("disclosures:transition", args=[req.pk, "notice-decision"]), {"confirm": "yes", **data})
    return r.status_code, r.content.decode()


def _decision_form(html: str) -> str:
    found = re.search(r'<details id="notice-review"[^>]*>.*?</details>', html, re.S)
    assert found, "no notice decision on the page"
    return found.group(0)


def _field(form: str, field_id: str) -> str:
    """The field's block in the form: its label, hint, error and input in one column (accounts/_form_fields.html)."""
    end = r'(?=<div class="field">|<ul class="errorlist" id="\w+-confirm-error">|<label class="confirm">)'
    found = re.search(rf'<div class="field">\s*<label for="{field_id}">.*?{end}', form, re.S)
    assert found, f"no .field block for {field_id}"
    return found.group(0)


def _field_error(field: str, field_id: str) -> str:
    """The refusal in the field's block, the input pointing at it (aria-describedby)."""
    found = re.search(rf'<ul class="errorlist" id="{field_id}_error">(.*?)</ul>', field, re.S)
    assert found and re.search(rf'aria-describedby="[^"]*{field_id}_error', field), f"no refusal at {field_id}"
    return found.group(1)


def test_a_past_review_date_comes_back_open_at_its_field_with_the_reason_kept(client, legal1, authority):
    req = receive(legal1, authority)
    past = (localdate() - timedelta(days=3)).isoformat()
    status, html = _decide(client, legal1, req, notify="no", reason="Investigation still running", review_on=past)
    assert status == 400
    form = _decision_form(html)
    assert form.startswith('<details id="notice-review" open')
    assert "Investigation still running</textarea>" in form
    field = _field(form, "id_review_on")
    assert f'value="{past}"' in field
    assert PAST in _field_error(field, "id_review_on")


def test_a_civil_basis_withheld_without_a_reason_is_refused_at_the_reason(client, legal1, dispute_body):
    req = receive(legal1, dispute_body, basis="dispute_ruling")
    status, html = _decide(client, legal1, req, notify="no", reason="")
    assert status == 400
    form = _decision_form(html)
    assert NO_REASON in _field_error(_field(form, "id_reason"), "id_reason")


def test_the_page_after_a_refused_other_step_shows_the_decision_closed_and_blank(client, legal1, authority):
    req = receive(legal1, authority)
    c = verified_client(client, legal1)
    r = c.post(reverse("disclosures:transition", args=[req.pk, "reject"]), {"note": "no basis"})  # not confirmed
    assert r.status_code == 400
    assert _decision_form(r.content.decode()).startswith('<details id="notice-review"><summary>')
