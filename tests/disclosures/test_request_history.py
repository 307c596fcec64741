"""A request's own audit trail on its page: the officers saw each step only in the Django admin (which not every
officer may open), so "who approved this, and when was the authority called back" meant asking an administrator.
Now the request page has a "History" section: each step recorded for this request, in order, with when, who, what
and the purpose. It is read through a selector that checks the purpose, and that read is itself recorded. The log
holds pseudonyms and ids only; the page names the officers it knows, as its other facts already do."""
from __future__ import annotations

import re

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from disclosures.history import disclosure_request_history
from tests.factories import verified_client
from voipxs.models import AuditEntry
from voipxs.privacy.purposes import Purpose

from .conftest import ALICE_NUMBER, receive, to_state

pytestmark = pytest.mark.django_db


def _history(html: str) -> list[str]:
    section = re.search(r'<section id="history".*?</section>', html, re.S)
    assert section, "no History section on the request page"
    return [" ".join(re.sub(r"<[^>]+>", " ", row).split())
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", section.group(0), re.S)][1:]  # after the heading row


def test_the_request_page_lists_its_steps_in_order_with_who_and_why(client, legal1, legal2, legal3, authority, alice):
    req = to_state(receive(legal1, authority), "approved", intake=legal1, approvers=[legal2, legal3])
    html = verified_client(client, legal2).get(reverse("disclosures:detail", args=[req.pk])).content.decode()

    rows = _history(html)
    named = ("Received", "Authority verified", "Legal review started", "Approved")
    steps = [next(s for s in named if s in r) for r in rows if any(s in r for s in named)]
    assert steps[0] == "Received" and steps[-1] == "Approved" and steps.count("Approved") == 2
    approvals = [r for r in rows if "Approved" in r]
    assert {"legal2" in approvals[0] or "legal3" in approvals[0]} == {True}
    assert all("Legal obligation" in r for r in approvals)
    assert ALICE_NUMBER not in "".join(rows)


def test_reading_the_history_is_recorded_with_its_purpose(legal1, legal2, authority):
    req = receive(legal1, authority)
    rows = disclosure_request_history(actor=legal2, request=req, purpose=Purpose.LEGAL_OBLIGATION)
    assert rows and rows[0].step == "receive"
    read = AuditEntry.objects.filter(action="disclosure.history_read", target_id=str(req.pk)).get()
    assert read.purpose == Purpose.LEGAL_OBLIGATION


def test_a_role_without_the_purpose_cannot_read_it(legal1, authority, alice):
    req = receive(legal1, authority)
    with pytest.raises(PermissionDenied):
        disclosure_request_history(actor=alice, request=req, purpose=Purpose.LEGAL_OBLIGATION)
