"""The History section of a request's page named each step by its audit-log key with the underscores taken out
("receive", "document add", "verify authority", "start review"): words an officer does not use, and English on the
Dutch page too. Each step is now named in plain words, in the page's language, as the rest of the page names it."""
from __future__ import annotations

import re

import pytest
from django.urls import reverse

from tests.factories import verified_client

from .conftest import receive, to_state

pytestmark = pytest.mark.django_db


def _steps(html: str) -> list[str]:
    """The Step cell (the third) of each row of the History table."""
    section = re.search(r'<section id="history".*?</section>', html, re.S)
    assert section, "no History section on the request page"
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", row, re.S) for row in re.findall(r"<tr[^>]*>(.*?)</tr>",
                                                                                 section.group(0), re.S)]
    return [" ".join(re.sub(r"<[^>]+>", " ", c[2]).split()) for c in cells if len(c) >= 3]


def _page(client, officer, req, language: str = "en") -> str:
    client = verified_client(client, officer)
    client.cookies["django_language"] = language
    return client.get(reverse("disclosures:detail", args=[req.pk])).content.decode()


def test_the_history_names_each_step_in_plain_words(client, legal1, legal2, legal3, authority):
    req = to_state(receive(legal1, authority), "approved", intake=legal1, approvers=[legal2, legal3])
    steps = _steps(_page(client, legal2, req))
    assert steps == ["Received", "Document added", "Authority verified (called back)", "Legal review started",
                     "Approved", "Approved"]


def test_the_dutch_history_names_the_steps_in_dutch(client, legal1, authority):
    req = to_state(receive(legal1, authority), "under_review", intake=legal1, approvers=[])
    steps = _steps(_page(client, legal1, req, "nl"))
    assert steps[0] == "Ontvangen"  # the status's Dutch word, already translated
    assert "Document toegevoegd" in steps and "Juridische beoordeling gestart" in steps


def test_on_a_phone_only_the_officer_s_name_is_monospaced_not_the_who_heading(client, legal1, authority):
    """On a phone each row is a card whose cells show their heading before the value; the Who cell was monospaced as
    a whole, so its heading "Who" stood out in a typewriter face among the others."""
    html = _page(client, legal1, receive(legal1, authority))
    section = re.search(r'<section id="history".*?</section>', html, re.S).group(0)
    assert 'class="key-text"' in section
    assert not re.search(r'<td[^>]*class="key-text"', section)
    assert re.search(r'<td[^>]*><span class="key-text">legal1</span></td>', section)
