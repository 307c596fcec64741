"""Before an officer closes a request, its page says what closing does: the request cannot be reopened, and its legal
hold stays until a named day (the grace period for the authority's follow-up questions, or a preservation order's
term) and is then released. Before, the box said only "Close this request.", and the day the hold goes was told
only after the click."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.timezone import localtime, now

from disclosures.models import DisclosureRequest, LegalBasis
from tests.factories import verified_client

from .conftest import receive, to_state

pytestmark = pytest.mark.django_db


def _close_form(html: str) -> str:
    """The page's close form, from its action to the end of the form."""
    start = html.index("/close/")
    return html[start:html.index("</form>", start)]


class CloseConsequencesTests:
    def test_a_delivered_requests_close_says_the_hold_stays_until_a_day_and_that_it_is_final(
            self, client, legal1, authority):
        req = receive(legal1, authority, reference="PV-CLOSE")
        DisclosureRequest.objects.filter(pk=req.pk).update(status="delivered", delivered_at=now())
        verified_client(client, legal1)
        html = client.get(reverse("disclosures:detail", args=[req.pk])).content.decode()
        form = _close_form(html)
        release = localtime(now() + timedelta(days=settings.DISCLOSURE_HOLD_RELEASE_DAYS))
        assert 'id="close-consequences"' in form
        assert "cannot be reopened" in form
        assert date_format(release, "DATE_FORMAT") in form
        assert "legal hold" in form

    def test_a_preservation_closed_as_done_names_the_end_of_its_orders_term(self, client, legal1, legal2, legal3,
                                                                           authority):
        req = to_state(receive(legal1, authority, basis=LegalBasis.SV_126NI, reference="PV-KEEP"), "approved",
                       intake=legal1, approvers=[legal2, legal3])
        verified_client(client, legal1)
        form = _close_form(client.get(reverse("disclosures:detail", args=[req.pk])).content.decode())
        assert date_format(localtime(req.preserve_until), "DATE_FORMAT") in form and "cannot be reopened" in form


def test_the_close_consequences_are_in_dutch_on_the_dutch_page(client, legal1, authority):
    req = receive(legal1, authority, reference="PV-CLOSE-NL")
    DisclosureRequest.objects.filter(pk=req.pk).update(status="delivered", delivered_at=now())
    verified_client(client, legal1)
    client.cookies["django_language"] = "nl"
    form = _close_form(client.get(reverse("disclosures:detail", args=[req.pk])).content.decode())
    assert "Closing ends the request for good" not in form
