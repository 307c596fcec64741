"""LEGAL.md section 5, row 12: "content ⇒ reject / no data". VoIPXS records who called whom, when and for how long,
never what was said, so an order asking for the content of communications is refused at intake with its own
message, which says there is no such data (the answer to the authority is "no data"), at the categories field, on
the page and over the API, in English and in Dutch. Nothing is taken in: no request, no legal hold.

The row's two named tests are in test_legal_bases.py: TableTests.test_an_identifying_basis_refuses_traffic_data
(126na asking for traffic data) and FutureLimitTests.test_future_data_reaches_at_most_three_months_after_the_order
(126n reaching more than 3 months ahead)."""
from __future__ import annotations

import html
from datetime import timedelta

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils.timezone import now
from rest_framework.test import APIClient

from disclosures.bases import CONTENT
from disclosures.models import DisclosureRequest, LegalBasis
from disclosures.services.intake import REQUEST_CONTENT_NONE
from retention.models import LegalHold
from tests.factories import verified_client
from voipxs.exceptions import ApplicationError

from .conftest import ALICE_NUMBER, receive

pytestmark = pytest.mark.django_db

RECEIVE_API = "/api/v1/staff/disclosures/requests/receive/"
# The refusal as a Dutch officer reads it (locale/nl).
CONTENT_NONE_NL = ("VoIPXS bewaart geen inhoud van communicatie (wat er in een gesprek wordt gezegd), dus daarvan "
                   "zijn er geen gegevens te verstrekken: antwoord de autoriteit voor de inhoud „geen gegevens”.")


def _nothing_taken_in() -> bool:
    return not DisclosureRequest.objects.exists() and not LegalHold.objects.exists()


def _form(authority, categories) -> dict:
    today = now().date()
    return {"authority": authority.pk, "reference": "PV-CONTENT-1", "legal_basis": LegalBasis.SV_126N,
            "categories": categories, "numbers": ALICE_NUMBER, "window_start": str(today - timedelta(days=30)),
            "window_end": str(today), "deadline": (now() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")}


def _page(response) -> str:
    return html.unescape(response.content.decode())


class ContentRequestServiceTests:
    @pytest.mark.parametrize("basis", LegalBasis.values)
    def test_every_basis_refuses_content_saying_there_is_no_data(self, legal1, authority, dispute_body, basis):
        body = dispute_body if basis == LegalBasis.DISPUTE_RULING else authority
        with pytest.raises(ApplicationError) as exc:
            receive(legal1, body, basis=basis, categories=(CONTENT,))
        assert exc.value.message == REQUEST_CONTENT_NONE and "no data" in exc.value.message
        assert exc.value.extra["field"] == "categories"
        assert _nothing_taken_in()

    def test_content_asked_beside_traffic_data_is_refused_for_the_content(self, legal1, authority):
        with pytest.raises(ApplicationError) as exc:
            receive(legal1, authority, basis=LegalBasis.SV_126N, categories=("traffic_data", CONTENT))
        assert exc.value.message == REQUEST_CONTENT_NONE
        assert _nothing_taken_in()

    def test_an_unknown_category_keeps_its_own_refusal(self, legal1, authority):
        with pytest.raises(ApplicationError) as exc:
            receive(legal1, authority, basis=LegalBasis.SV_126N, categories=("location",))
        assert exc.value.message == "Unknown data category." and exc.value.extra["field"] == "categories"


class ContentRequestPageTests:
    def test_the_page_offers_content_and_refuses_it_at_the_categories_field(self, client, legal1, authority):
        page = verified_client(client, legal1)
        assert f'value="{CONTENT}"' in page.get(reverse("disclosures:request-new")).content.decode()

        response = page.post(reverse("disclosures:request-new"), _form(authority, [CONTENT]))

        assert response.status_code == 400
        assert response.context["form"].errors["categories"] == [REQUEST_CONTENT_NONE]
        assert REQUEST_CONTENT_NONE in _page(response)
        assert _nothing_taken_in()

    def test_the_dutch_page_says_it_in_dutch(self, client, legal1, authority):
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "nl"
        response = verified_client(client, legal1).post(reverse("disclosures:request-new"),
                                                         _form(authority, ["traffic_data", CONTENT]))
        assert response.status_code == 400
        assert CONTENT_NONE_NL in _page(response) and REQUEST_CONTENT_NONE not in _page(response)


class ContentRequestApiTests:
    def _post(self, legal1, authority, categories, **headers):
        api = APIClient()
        verified_client(api, legal1)
        body = {"authority": authority.pk, "reference": "API-CONTENT-1", "legal_basis": LegalBasis.SV_126N,
                "categories": categories, "numbers": [ALICE_NUMBER],
                "window_start": (now() - timedelta(days=5)).isoformat(), "window_end": now().isoformat(),
                "deadline": (now() + timedelta(days=1)).isoformat()}
        return api.post(RECEIVE_API, body, format="json", **headers)

    def test_the_api_answers_400_naming_the_categories_field(self, legal1, authority):
        response = self._post(legal1, authority, [CONTENT])
        assert response.status_code == 400
        assert response.json()["field"] == "categories" and response.json()["detail"] == REQUEST_CONTENT_NONE
        assert _nothing_taken_in()

    def test_the_api_answers_in_dutch_when_asked(self, legal1, authority):
        response = self._post(legal1, authority, [CONTENT], HTTP_ACCEPT_LANGUAGE="nl")
        assert response.status_code == 400 and response.json()["detail"] == CONTENT_NONE_NL
