"""The officers' dashboard keeps a delivered request in sight until it is closed: delivered, it is off the list of
deadlines, but closing it (which schedules the release of its hold) is still owed."""
from __future__ import annotations

import re

import pytest
from django.urls import reverse

from disclosures.services.transitions import disclosure_request_close
from tests.factories import verified_client

from .conftest import receive, to_state

pytestmark = pytest.mark.django_db


def _section(html: str, heading_id: str) -> str:
    """The dashboard's HTML from a section's heading to the next heading."""
    start = html.index(f'id="{heading_id}"')
    end = html.find("<h2", start)
    return html[start:end if end >= 0 else None]


class DeliveredToCloseTests:
    def test_a_delivered_request_waits_under_its_own_heading_until_closed(self, client, legal1, legal2, legal3,
                                                                          authority, alice):
        delivered = to_state(receive(legal1, authority, reference="PV-DELIVERED"), "delivered", intake=legal1,
                             approvers=[legal2, legal3])
        receive(legal1, authority, reference="PV-OPEN")
        verified_client(client, legal1)
        html = client.get(reverse("disclosures:dashboard")).content.decode()
        waiting = _section(html, "delivered")
        assert f"#{delivered.pk} PV-DELIVERED" in waiting and authority.name in waiting
        assert "PV-OPEN" not in waiting and "PV-OPEN" in _section(html, "deadlines")
        assert "PV-DELIVERED" not in _section(html, "deadlines")

        disclosure_request_close(actor=legal1, request=delivered)
        html = client.get(reverse("disclosures:dashboard")).content.decode()
        assert "None waiting to be closed." in _section(html, "delivered")
        assert re.search(rf"#{delivered.pk} PV-DELIVERED</a> — Closed", html)
