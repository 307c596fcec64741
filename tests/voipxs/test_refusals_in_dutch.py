"""A refusal is shown in the page's language: a Dutch customer, support agent or DPO reads why in Dutch (the
customer in the formal "u"), an English one in English; the API answers in the language the client asks for."""
from __future__ import annotations

import html

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from accounts.dsr.services import dsr_request_create
from traffic.importers import layouts
from traffic.services.sources import source_validate
from voipxs.exceptions import ApplicationError
from tests.factories import verified_client
from tests.traffic.test_sources import BAD_LAYOUTS

pytestmark = pytest.mark.django_db


def _in(language: str, client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


def _page(response) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture(autouse=True)
def _private_dir(settings, tmp_path):
    settings.PRIVATE_FILES_DIR = tmp_path


class CustomerTests:
    def test_asking_for_a_request_already_open_is_refused_in_dutch(self, client, alice):
        dsr_request_create(user=alice, kind="rectification", details="Mijn label klopt niet")

        response = _in("nl", verified_client(client, alice)).post(
            reverse("accounts_dsr:create"), {"kind": "rectification", "details": "Nog steeds fout"})

        assert response.status_code == 400
        assert "U hebt al een openstaand verzoek van deze soort." in _page(response)
        assert "You already have an open request" not in _page(response)

    def test_in_english_it_stays_english(self, client, alice):
        dsr_request_create(user=alice, kind="rectification", details="My label is wrong")

        response = _in("en", verified_client(client, alice)).post(
            reverse("accounts_dsr:create"), {"kind": "rectification", "details": "Still wrong"})

        assert response.status_code == 400
        assert "You already have an open request of this kind." in _page(response)


class SupportTests:
    def test_the_open_requests_number_is_given_in_the_dutch_sentence(self, client, support, alice):
        own = dsr_request_create(user=alice, kind="access")

        response = _in("nl", verified_client(client, support)).post(
            reverse("support:open-request", args=[alice.pk]), {"kind": "access"})

        assert response.status_code == 400
        assert f"Deze klant heeft al een openstaand verzoek van deze soort: #{own.pk}." in _page(response)
        assert "already has an open request" not in _page(response)


class DpoTests:
    HOLD = {"reason": "dispute", "reference": "d:1", "categories": ["cdr_billed"]}

    def test_a_hold_without_scope_is_refused_in_dutch(self, client, dpo):
        response = _in("nl", verified_client(client, dpo)).post(reverse("retention:hold-place"), self.HOLD)

        assert response.status_code == 400
        assert "Een bewaarplicht vraagt ten minste één account of nummer." in _page(response)
        assert "at least one account or number" not in _page(response)

    def test_in_english_it_stays_english(self, client, dpo):
        response = _in("en", verified_client(client, dpo)).post(reverse("retention:hold-place"), self.HOLD)

        assert response.status_code == 400
        assert "A legal hold needs at least one account or number." in _page(response)


class ApiTests:
    def test_the_detail_is_in_the_language_the_client_asks_for(self, client, alice):
        dsr_request_create(user=alice, kind="rectification", details="My label is wrong")
        client.force_login(alice)
        asked = {"kind": "rectification", "details": "Still wrong"}

        dutch = client.post("/api/v1/me/privacy-requests/", asked, content_type="application/json",
                            HTTP_ACCEPT_LANGUAGE="nl")
        english = client.post("/api/v1/me/privacy-requests/", asked, content_type="application/json")

        assert dutch.status_code == english.status_code == 400
        assert dutch.json()["detail"] == "U hebt al een openstaand verzoek van deze soort."
        assert english.json()["detail"] == "You already have an open request of this kind."
        assert dutch.json()["field"] == english.json()["field"] == "kind"

    def test_a_refusal_with_placeholders_answers_its_text_field_and_numbers_not_its_msgid(self):
        # voipxs.api.exception_handler: the msgid and params are the page's translation machinery, not the API's.
        from traffic.services.masking import NUMBER_INVALID_AT
        from voipxs.api import exception_handler

        refusal = ApplicationError.formatted(NUMBER_INVALID_AT, {"line": 7}, field="file", line=7)
        with translation.override("nl"):
            body = exception_handler(refusal, {}).data

        assert str(body["detail"]) == "Regel 7: dit is geen telefoonnummer; er is niets geïmporteerd."
        assert str(body["field"]) == "file" and body["line"] == 7
        assert "msgid" not in body and "params" not in body


class BillingTests:
    URL = "/calls/staff/sources/"
    BAD = {"name": "kam-1", "format": "kamailio-acc", "timezone": "UTC", "default_country": "NL",
           "columns": 'modparam("acc", "cdr_start_id", "")'}
    ENGLISH = "This is no layout of the format: cdr_start_id is no attribute name."

    def test_a_layout_that_is_none_is_refused_wholly_in_dutch(self, client, billing_staff):
        response = _in("nl", verified_client(client, billing_staff)).post(self.URL, self.BAD)

        assert response.status_code == 400
        with translation.override("nl"):
            reason = translation.gettext(layouts.LAYOUT_NOT_AN_ATTRIBUTE) % {"name": "cdr_start_id"}
        assert f"Dit is geen indeling van het formaat: {reason}." in _page(response)
        assert "is no attribute name" not in _page(response)

    def test_the_api_answers_it_wholly_in_dutch_too(self, client, billing_staff):
        dutch = verified_client(client, billing_staff).post("/api/v1/staff/sources/", self.BAD,
                                                             content_type="application/json", HTTP_ACCEPT_LANGUAGE="nl")

        assert dutch.status_code == 400 and dutch.json()["field"] == "columns"
        assert dutch.json()["detail"].startswith("Dit is geen indeling van het formaat: cdr_start_id ")
        assert "is no attribute name" not in dutch.json()["detail"]

    @pytest.mark.parametrize("fmt, columns, reason", BAD_LAYOUTS)
    def test_no_reason_the_parser_gives_stays_english_in_dutch(self, fmt, columns, reason):
        with translation.override("nl"), pytest.raises(ApplicationError) as refused:
            source_validate(name="pbx", format=fmt, timezone="UTC", country="NL", columns=columns)
        with translation.override("nl"):
            shown = refused.value.shown()

        assert shown.startswith("Dit is geen indeling van het formaat: ") and reason not in shown
        assert refused.value.message == f"This is no layout of the format: {reason}."

    def test_in_english_it_stays_english(self, client, billing_staff):
        page = _in("en", verified_client(client, billing_staff)).post(self.URL, self.BAD)
        api = verified_client(client, billing_staff).post("/api/v1/staff/sources/", self.BAD,
                                                           content_type="application/json")

        assert page.status_code == api.status_code == 400
        assert self.ENGLISH in _page(page) and api.json()["detail"] == self.ENGLISH


class LabelsInRefusalsTests:
    """A refusal that names a label (a category, a kind of body, an action) or a date, raised in a Dutch request:
    its message (logs, commands) is English through and through, and what the page shows is Dutch through and
    through, the label included."""

    def test_an_authority_kind_and_a_basis_are_english_in_the_message_and_dutch_when_shown(self):
        from disclosures.services.intake import validate_basis_for_authority

        with translation.override("nl"), pytest.raises(ApplicationError) as refused:
            validate_basis_for_authority(legal_basis="sv_126n", authority_kind="dispute_commission")
        with translation.override("nl"):
            dutch = refused.value.shown()

        assert refused.value.message.startswith("A dispute commission cannot use the basis “Sv 126n (traffic data)”: ")
        assert dutch.startswith("Een geschillencommissie kan de grondslag “Sv 126n (verkeersgegevens)” niet gebruiken")
        assert refused.value.shown().startswith("A dispute commission cannot use the basis “Sv 126n (traffic data)”")

    def test_a_retention_action_and_category_are_english_in_the_message_and_dutch_when_shown(self):
        from retention.services import retention_policy_changes

        with translation.override("nl"), pytest.raises(ApplicationError) as action:
            retention_policy_changes(category="closed_account", current=None, period_months=120, action="delete")
        with translation.override("nl"), pytest.raises(ApplicationError) as period:
            retention_policy_changes(category="audit_log", current=None, period_months=1)
        with translation.override("nl"):
            dutch = (action.value.shown(), period.value.shown())

        assert action.value.message == "The purge can only anonymise this category's data; it cannot delete it."
        assert dutch[0] == ("De opschoning kan de gegevens van deze categorie alleen anonimiseren; ze kan ze niet "
                            "verwijderen.")
        assert period.value.message.startswith("Audit log (pseudonymous) must be kept at least ")
        assert dutch[1].startswith("Auditlog (gepseudonimiseerd) moet ten minste ")

    def test_an_expiry_date_is_written_out_in_each_language(self):
        from datetime import UTC, datetime

        from disclosures.models import Authority
        from disclosures.services.packages import certificate_refusal

        expired = Authority(certificate="-----BEGIN CERTIFICATE-----",
                            certificate_not_after=datetime(2026, 3, 7, 12, tzinfo=UTC))
        with translation.override("nl"), pytest.raises(ApplicationError) as refused:
            certificate_refusal(expired)
        with translation.override("nl"):
            dutch = refused.value.shown()

        assert "expired on 7 March 2026:" in refused.value.message
        assert "is op 7 maart 2026 verlopen" in dutch and "March" not in dutch
