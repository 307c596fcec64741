"""The intake form is long: a refused submit put each error beside its field, somewhere down the page, and said
nothing at the top, where the officer is after the page reloads. Now a summary opens the form: it is announced
(role=alert) and takes the focus, and lists each error with a link to its field, as GOV.UK error summaries do."""
from __future__ import annotations

import re

import pytest
from django.urls import reverse

from tests.factories import verified_client

pytestmark = pytest.mark.django_db


def _summary(html: str) -> str:
    found = re.search(r'<div class="error-summary"[^>]*>.*?</div>', html, re.S)
    assert found, "no error summary on the refused form"
    return found.group(0)


def test_a_refused_intake_lists_each_error_at_the_top_with_a_link_to_its_field(client, legal1, authority):
    response = verified_client(client, legal1).post(reverse("disclosures:request-new"), {
        "authority": authority.pk, "reference": "", "legal_basis": "sv_126n", "window_start": "not a day"})

    assert response.status_code == 400
    html = response.content.decode()
    summary = _summary(html)
    assert 'role="alert"' in summary and 'tabindex="-1"' in summary and "autofocus" in summary
    assert html.index('class="error-summary"') < html.index('id="id_reference"')  # before the first field
    links = dict(re.findall(r'<a href="#([^"]+)">([^<]+)</a>', summary))
    assert set(links) >= {"id_reference", "id_categories_0", "id_window_start", "id_window_end"}
    assert links["id_reference"].startswith("Reference: ")
    for target in links:
        assert f'id="{target}"' in html  # every link lands on its field


def test_a_blank_form_has_no_summary(client, legal1, authority):
    html = verified_client(client, legal1).get(reverse("disclosures:request-new")).content.decode()
    assert 'class="error-summary"' not in html


def test_the_summary_is_in_dutch_on_a_dutch_page(client, legal1, authority):
    response = verified_client(client, legal1).post(reverse("disclosures:request-new"), {"reference": ""},
                                                    HTTP_ACCEPT_LANGUAGE="nl")
    assert "There is a problem" not in _summary(response.content.decode())
