"""The delivery form asked for a "Receipt" in a bare box: the officer could not tell whether to type the
authority's reference, a date, or who signed. The box now says what it records, as the callback and withdrawal boxes
do, and the hint is tied to the field for a screen reader."""
from __future__ import annotations

import re

import pytest
from django.urls import reverse

from tests.factories import verified_client

from .conftest import receive, to_state

pytestmark = pytest.mark.django_db


def test_the_receipt_box_says_what_to_record(client, legal1, legal2, legal3, authority):
    req = to_state(receive(legal1, authority), "checked", intake=legal1, approvers=[legal2, legal3])
    html = verified_client(client, legal1).get(reverse("disclosures:detail", args=[req.pk])).content.decode()
    box = re.search(r'<input id="receipt"[^>]*>', html)
    assert box and 'aria-describedby="receipt-hint"' in box.group(0)
    hint = re.search(r'id="receipt-hint">([^<]*)<', html)
    assert hint and hint.group(1) == ("How the authority acknowledged receiving the package: its reference for the "
                                      "receipt, or who signed for it, and when.")
