"""The DPO's call-notes panel on a rectification request lists the requester's calls of a chosen day (`?day=`, and
the `day` the note form posts back). A day at the calendar's edge (0001-01-01, 9999-12-31) has no start or end in UTC
that Python can hold: the call list refused it with an ApplicationError nobody caught, and the DPO got a server error
(500) on the request's page and on attaching a note. Now the day is refused at its field (voipxs.timeutil.DayField,
Django's "Enter a valid date."), as any other date that is not one, and the page shows the newest calls."""
from __future__ import annotations

import pytest

from accounts.dsr.models import DataSubjectRequest
from accounts.dsr.services import dsr_request_create
from tests.factories import verified_client

pytestmark = pytest.mark.django_db

EDGES = ["0001-01-01", "9999-12-31"]


@pytest.fixture
def rectification(alice) -> DataSubjectRequest:
    return dsr_request_create(user=alice, kind=DataSubjectRequest.Kind.RECTIFICATION, details="Not my call.")


@pytest.mark.parametrize("day", EDGES)
def test_the_request_page_with_an_edge_day_shows_the_newest_calls(client, dpo, rectification, day):
    response = verified_client(client, dpo).get(f"/privacy-requests/dpo/{rectification.pk}/", {"day": day})
    assert response.status_code == 200
    assert 'id="call-notes"' in response.content.decode()


@pytest.mark.parametrize("day", EDGES)
def test_a_note_posted_with_an_edge_day_is_refused_not_a_server_error(client, dpo, rectification, day):
    """The note form's `day` is hidden (the day the list showed): an edited one refuses the form (400) and the panel
    is shown again with the newest calls; nothing asks to confirm a note under a day that does not exist."""
    response = verified_client(client, dpo).post(f"/calls/staff/privacy-requests/{rectification.pk}/call-notes/",
                                                 {"call": "1@2026-11-01T10:00:00+00:00", "text": "x", "day": day})
    assert response.status_code == 400
    assert "Attach this note to the call?" not in response.content.decode()
