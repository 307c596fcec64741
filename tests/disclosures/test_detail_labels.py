"""Every field of a request's next steps has a label the officer sees, also once they typed into it. The callback's
note ("who confirmed"), the reason for a rejection, the question to the authority and how the authority withdrew a
request were labelled only by their placeholder, which goes as soon as one types (the withdrawal's was cut off on a
phone and on a laptop); and the callback's channel was labelled "Called back on the register's", half a sentence."""
from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.urls import reverse

from tests.factories import verified_client

from .conftest import receive, to_state

pytestmark = pytest.mark.django_db


class _Controls(HTMLParser):
    """The form controls of a page and its labels: (tag, attrs, inside a <label>), and label for= -> text."""
    def __init__(self):
        super().__init__()
        self.controls, self.labels, self._open_label, self._label_text = [], {}, [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "label":
            self._open_label.append(attrs.get("for"))
            self._label_text.append("")
        elif tag in ("input", "select", "textarea") and attrs.get("type") not in ("hidden", "submit"):
            self.controls.append((tag, attrs, bool(self._open_label)))

    def handle_data(self, data):
        if self._label_text:
            self._label_text[-1] += data

    def handle_endtag(self, tag):
        if tag == "label" and self._open_label:
            target, text = self._open_label.pop(), self._label_text.pop()
            if target:
                self.labels[target] = " ".join(text.split())


def _page(client, officer, req) -> _Controls:
    verified_client(client, officer)
    response = client.get(reverse("disclosures:detail", args=[req.pk]))
    assert response.status_code == 200
    parsed = _Controls()
    parsed.feed(response.content.decode())
    return parsed


def _unlabelled(parsed: _Controls) -> list[str]:
    return [f"{tag} name={a.get('name')} id={a.get('id')}" for tag, a, wrapped in parsed.controls
            if not wrapped and not parsed.labels.get(a.get("id") or "")]


def test_every_field_of_a_received_request_has_a_visible_label(client, legal1, legal2, authority):
    parsed = _page(client, legal2, receive(legal1, authority))
    assert _unlabelled(parsed) == []
    assert parsed.labels["verify-note"] == "Who at the authority confirmed the request"
    assert parsed.labels["reject-note"] == "Reason for rejection"
    assert parsed.labels["withdraw-note"] == "How the authority withdrew it"


def test_the_callback_channel_is_labelled_as_a_whole_sentence(client, legal1, legal2, authority):
    parsed = _page(client, legal2, receive(legal1, authority))
    assert parsed.labels["channel"] == "Register channel you called the authority back on"


def test_the_withdrawal_says_what_to_write_in_a_hint_linked_to_the_field(client, legal1, legal2, authority):
    verified_client(client, legal2)
    page = client.get(reverse("disclosures:detail", args=[receive(legal1, authority).pk])).content.decode()
    assert 'aria-describedby="withdraw-note-hint"' in page
    assert 'id="withdraw-note-hint">Its reference, or who told you so.<' in page


def test_every_field_under_review_has_a_visible_label(client, legal1, legal2, legal3, authority):
    req = to_state(receive(legal1, authority), "under_review", intake=legal1, approvers=[legal2, legal3])
    parsed = _page(client, legal2, req)
    assert _unlabelled(parsed) == []
    assert parsed.labels["clarify-note"] == "Question to the authority"


NEW_ENGLISH = ("Register channel you called the authority back on", "Who at the authority confirmed the request",
               "Their role or desk, as the register's channel answered.", "How the authority withdrew it",
               "Its reference, or who told you so.", "Each step recorded for this request in the audit log")


def test_the_new_labels_and_the_history_are_in_dutch_on_a_dutch_page(client, legal1, legal2, authority):
    verified_client(client, legal2)
    page = client.get(reverse("disclosures:detail", args=[receive(legal1, authority).pk]),
                      HTTP_ACCEPT_LANGUAGE="nl").content.decode()
    assert '<html lang="nl"' in page
    assert [text for text in NEW_ENGLISH if text in page] == []
