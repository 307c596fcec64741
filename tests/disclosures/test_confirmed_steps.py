"""Steps on a request that cannot be undone confirm first. Recording that the authority withdrew it ("withdraw")
ends it for good and schedules its legal hold's release, so the page asks (voipxs/confirm.py): the first POST names
the consequences and the release date, the confirmed one acts and says what it did; the note saying how the
authority withdrew it is required. Narrowing ("narrow") takes the page's box, as the other legal acts do."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils.formats import date_format
from django.utils.timezone import localtime, now
from rest_framework.test import APIClient

from disclosures.models import DisclosureRequest, Outcome, Status
from tests.factories import verified_client

from .conftest import receive

pytestmark = pytest.mark.django_db

NOTE = "Letter of the unit, ref. 2026/0417"


def _url(req: DisclosureRequest) -> str:
    return f"/disclosures/requests/{req.pk}/withdraw/"


class WithdrawalPageTests:
    def test_the_first_click_asks_naming_the_end_and_the_hold_release(self, client, legal1, authority, settings):
        req = receive(legal1, authority)
        verified_client(client, legal1)
        response = client.post(_url(req), {"note": NOTE})
        body = response.content.decode()
        assert response.status_code == 200 and f"withdrew request #{req.pk} ({req.reference})?" in body
        assert "it ends here and cannot be reopened" in body and NOTE in body
        due = date_format(localtime(now() + timedelta(days=settings.DISCLOSURE_HOLD_RELEASE_DAYS)), "DATE_FORMAT")
        assert "Its legal hold is released on" in body and due in body
        assert 'name="confirm" value="yes"' in body
        req.refresh_from_db()
        assert req.status == Status.RECEIVED and req.hold_release_due_at is None and not req.outcome

    def test_the_confirmation_page_is_in_dutch(self, client, legal1, authority):
        req = receive(legal1, authority)
        verified_client(client, legal1)
        client.cookies["django_language"] = "nl"
        body = client.post(_url(req), {"note": NOTE}).content.decode()
        assert '<html lang="nl">' in body and "Bevestig alstublieft" in body
        assert DisclosureRequest.objects.get(pk=req.pk).status == Status.RECEIVED

    def test_without_a_note_it_is_refused_before_any_confirmation(self, client, legal1, authority):
        req = receive(legal1, authority)
        verified_client(client, legal1)
        for data in ({}, {"note": "  "}, {"note": "", "confirm": "yes"}):
            response = client.post(_url(req), data)
            body = response.content.decode()
            assert response.status_code == 400 and "Say how the authority withdrew the request" in body
            assert "Please confirm" not in body
        assert DisclosureRequest.objects.get(pk=req.pk).status == Status.RECEIVED

    def test_the_confirmed_click_ends_it_and_says_what_happened_once(self, client, legal1, authority):
        req = receive(legal1, authority)
        verified_client(client, legal1)
        response = client.post(_url(req), {"note": NOTE, "confirm": "yes"}, follow=True)
        body = response.content.decode()
        req.refresh_from_db()
        assert (req.status, req.outcome, req.status_note) == (Status.WITHDRAWN, Outcome.WITHDRAWN, NOTE)
        due = date_format(localtime(req.hold_release_due_at), "DATETIME_FORMAT")
        assert f"Recorded: the authority withdrew request #{req.pk}. It is closed; its legal hold is released on " \
               f"{due}." in body
        assert "Done." not in body
        status_line = body[body.index('id="status"'):].split("</p>")[0]
        assert status_line.count("Withdrawn") == 1

    def test_a_delivered_or_ended_request_is_refused_before_any_confirmation(self, client, legal1, authority):
        req = receive(legal1, authority)
        DisclosureRequest.objects.filter(pk=req.pk).update(status=Status.DELIVERED)
        verified_client(client, legal1)
        response = client.post(_url(req), {"note": NOTE})
        assert response.status_code == 400 and "Please confirm" not in response.content.decode()
        assert DisclosureRequest.objects.get(pk=req.pk).status == Status.DELIVERED

    def test_the_api_needs_the_note_too(self, legal1, authority):
        req = receive(legal1, authority)
        api = verified_client(APIClient(), legal1)
        assert api.post(f"/api/v1/staff/disclosures/requests/{req.pk}/withdraw/", {}, format="json").status_code == 400
        assert DisclosureRequest.objects.get(pk=req.pk).status == Status.RECEIVED
        ok = api.post(f"/api/v1/staff/disclosures/requests/{req.pk}/withdraw/", {"note": NOTE}, format="json")
        assert ok.status_code == 200 and DisclosureRequest.objects.get(pk=req.pk).status == Status.WITHDRAWN


class NarrowPageTests:
    """Narrowing cannot be undone and releases the hold on what falls out of the scope: the page's box confirms it."""

    def test_narrowing_on_the_page_needs_the_box(self, client, legal1, authority):
        req = receive(legal1, authority, numbers=["+31205550177", "+31699993678"])
        drop = req.targets.order_by("pk").last()
        verified_client(client, legal1)
        DisclosureRequest.objects.filter(pk=req.pk).update(status=Status.UNDER_REVIEW)
        page = client.get(f"/disclosures/requests/{req.pk}/").content.decode()
        assert "it cannot be widened again" in page
        refused = client.post(f"/disclosures/requests/{req.pk}/narrow/", {"remove_target_ids": str(drop.pk)})
        assert refused.status_code == 400 and "Tick the box to confirm “Narrow”: nothing was done yet." in refused.content.decode()
        assert DisclosureRequest.objects.get(pk=req.pk).targets.count() == 2
        done = client.post(f"/disclosures/requests/{req.pk}/narrow/", {"remove_target_ids": str(drop.pk),
                                                                        "confirm": "yes"})
        assert done.status_code == 302 and DisclosureRequest.objects.get(pk=req.pk).targets.count() == 1
