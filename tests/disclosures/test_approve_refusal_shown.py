"""An officer who may not approve a request under review is told why where the Approve button would be: the one who
took it in, or one who already approved it. Before, the button was just missing, and the liaison who took a request
in looked for it, or asked a colleague why the page would not let them approve."""
from __future__ import annotations

import pytest
from django.urls import reverse

from disclosures.services.transitions import disclosure_request_approve
from tests.factories import verified_client

from .conftest import receive, to_state

pytestmark = pytest.mark.django_db


def _page(client, officer, req) -> str:
    client.logout()
    return verified_client(client, officer).get(reverse("disclosures:detail", args=[req.pk])).content.decode()


class ApproveRefusalShownTests:
    def test_the_intake_officer_and_an_officer_who_approved_are_told_why_there_is_no_approve_button(
            self, client, legal1, legal2, legal3, authority):
        req = to_state(receive(legal1, authority, reference="PV-4EYES"), "under_review", intake=legal1, approvers=[])
        intake = _page(client, legal1, req)
        assert 'id="approve"' not in intake
        assert 'id="approve-refused"' in intake and "The officer who took the request in cannot approve it." in intake
        other = _page(client, legal2, req)
        assert 'id="approve"' in other and 'id="approve-refused"' not in other
        disclosure_request_approve(actor=legal2, request=req)
        again = _page(client, legal2, req)
        assert 'id="approve"' not in again and "You have already approved this request." in again
        assert 'id="approve"' in _page(client, legal3, req)
