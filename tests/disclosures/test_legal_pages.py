"""The officers' pages and API for issue 14: the table of legal bases, the legal representative, the
renewal and conversion of a preservation (the page asks to confirm, and validates, in English and
Dutch), the register's four eyes, and the transparency report by basis."""
from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils.timezone import localdate, now
from rest_framework.test import APIClient

from disclosures.models import DisclosureRequest, LegalBasis
from disclosures.services.authorities import authority_create
from disclosures.services.transitions import disclosure_request_reject
from tests.factories import verified_client

from .conftest import ALICE_NUMBER, receive, to_state

pytestmark = pytest.mark.django_db


def _dutch(client):
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "nl"
    return client


def _api(user) -> APIClient:
    client = APIClient()
    verified_client(client, user)
    return client


class BasesPageTests:
    def test_it_lists_every_basis_with_its_categories_and_deadlines(self, client, legal1, settings):
        settings.EEVIDENCE_LEGAL_REPRESENTATIVE = "VoIPXS Legal Rep B.V., Avenue 1, Brussels"
        page = verified_client(client, legal1).get(reverse("disclosures:bases")).content.decode()
        for code in LegalBasis.values:
            assert f'id="basis-{code}"' in page, code
        assert "at most 3 months" in page and "answer within 10 days; 8 hours in an emergency" in page
        assert "preserved 90 days; one renewal of 90 days under a new order" in page
        assert "VoIPXS Legal Rep B.V." in page

    def test_a_missing_legal_representative_is_flagged_in_dutch_too(self, client, legal1, settings):
        settings.EEVIDENCE_LEGAL_REPRESENTATIVE = ""
        page = _dutch(verified_client(client, legal1)).get(reverse("disclosures:bases")).content.decode()
        assert "Rechtsgronden" in page and "Geen aangewezen" in page
        assert "hoogstens 3 maanden" in page

    def test_the_dutch_page_cites_in_dutch(self, client, legal1):
        page = _dutch(verified_client(client, legal1)).get(reverse("disclosures:bases")).content.decode()
        assert "Sv art. 126u (georganiseerde criminaliteit)" in page and "Sv art. 126zh (terrorisme)" in page
        assert "Rechterlijk bevel (burgerlijk procesrecht)" in page and "Verordening (EU) 2023/1543 art. 10" in page
        for english in ("organised crime)", "(terrorism)", "Court order (civil procedure)", "Reg. (EU)"):
            assert english not in page, english

    def test_a_customer_gets_404(self, client, alice):
        assert verified_client(client, alice).get(reverse("disclosures:bases")).status_code == 404


class PreservationPageTests:
    def _preservation(self, legal1, authority):
        return receive(legal1, authority, basis=LegalBasis.SV_126NI, deadline=None)

    def test_renewal_asks_to_confirm_and_needs_the_order_reference(self, client, legal1, authority):
        req = self._preservation(legal1, authority)
        c = verified_client(client, legal1)
        page = c.get(f"/disclosures/requests/{req.pk}/").content.decode()
        assert 'id="renew"' in page and 'name="confirm"' in page
        r = c.post(f"/disclosures/requests/{req.pk}/renew/", {"order_reference": "OvJ-7"})
        assert r.status_code == 400 and "Tick the box to confirm “Renew the preservation”" in r.content.decode()
        r = _dutch(c).post(f"/disclosures/requests/{req.pk}/renew/", {"order_reference": " ", "confirm": "yes"})
        assert r.status_code == 400 and "Vermeld het kenmerk van de nieuwe vordering." in r.content.decode()
        assert DisclosureRequest.objects.get(pk=req.pk).renewed_at is None
        r = c.post(f"/disclosures/requests/{req.pk}/renew/", {"order_reference": "OvJ-7", "confirm": "yes"})
        assert r.status_code == 302
        req = DisclosureRequest.objects.get(pk=req.pk)
        assert req.renewal_reference == "OvJ-7" and req.preserve_until == req.received_at + timedelta(days=180)
        assert 'id="renew"' not in c.get(f"/disclosures/requests/{req.pk}/").content.decode()

    def test_conversion_through_the_page(self, client, legal1, legal2, legal3, authority):
        req = to_state(self._preservation(legal1, authority), "approved", intake=legal1, approvers=[legal2, legal3])
        c = verified_client(client, legal2)
        form = {"legal_basis": "sv_126n", "reference": "PV-CONV", "categories": ["traffic_data"],
                "deadline": (now() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")}

        def order():
            return SimpleUploadedFile("vordering PV-CONV.pdf", b"%PDF-1.7 production order", "application/pdf")

        assert c.post(f"/disclosures/requests/{req.pk}/convert/", {**form, "order_document": order()}).status_code == 400
        r = c.post(f"/disclosures/requests/{req.pk}/convert/",
                   {**form, "legal_basis": "sv_126ni", "confirm": "yes", "order_document": order()})
        assert r.status_code == 400 and "Check the production order" in r.content.decode()
        r = c.post(f"/disclosures/requests/{req.pk}/convert/", {**form, "confirm": "yes", "order_document": order()})
        assert r.status_code == 302
        new = DisclosureRequest.objects.get(reference="PV-CONV")
        assert new.documents.get().is_written_order and not new.written_order_missing
        assert DisclosureRequest.objects.get(pk=req.pk).converted_to == new
        assert f"/disclosures/requests/{new.pk}/" in c.get(f"/disclosures/requests/{req.pk}/").content.decode()

    def test_the_dashboard_lists_open_preservations(self, client, legal1, authority):
        req = self._preservation(legal1, authority)
        page = verified_client(client, legal1).get(reverse("disclosures:dashboard")).content.decode()
        assert 'id="preservations"' in page and f"#{req.pk} {req.reference}" in page


class RegisterPageTests:
    def test_the_registrar_is_not_offered_verification_and_another_officer_confirms(self, client, legal1, legal2):
        body = authority_create(actor=legal1, name="Politie Pagina", kind="police", contact_phone="+31205559999")
        c = verified_client(client, legal1)
        assert "another legal officer verifies it" in c.get(reverse("disclosures:authorities")).content.decode()
        r = c.post(reverse("disclosures:authority-verify", args=[body.pk]), {"note": "n", "confirm": "yes"}, follow=True)
        assert "Another legal officer than the one who registered" in r.content.decode()
        c = verified_client(client, legal2)
        c.post(reverse("disclosures:authority-verify", args=[body.pk]), {"note": "register"})
        body.refresh_from_db()
        assert body.verified_at is None
        c.post(reverse("disclosures:authority-verify", args=[body.pk]), {"note": "register", "confirm": "yes"})
        body.refresh_from_db()
        assert body.verified_by == legal2


class ApiTests:
    def test_an_epoc_over_the_api_gets_the_regulation_s_deadline(self, legal1, authority):
        body = {"authority": authority.pk, "reference": "EPOC-1", "legal_basis": "eu_production",
                "categories": ["traffic_data"], "numbers": [ALICE_NUMBER], "emergency": True,
                "window_start": (now() - timedelta(days=5)).isoformat(), "window_end": now().isoformat()}
        r = _api(legal1).post("/api/v1/staff/disclosures/requests/receive/", body, format="json")
        assert r.status_code == 201, r.content
        req = DisclosureRequest.objects.get(pk=r.json()["id"])
        assert req.deadline == req.received_at + timedelta(hours=8)
        assert r.json()["written_order_due_at"] is not None

    def test_an_oral_order_taken_in_over_the_api_waits_for_its_written_copy(self, client, legal1, authority):
        body = {"authority": authority.pk, "reference": "PHONE-1", "legal_basis": "sv_126ni",
                "categories": ["traffic_data"], "numbers": [ALICE_NUMBER], "oral_order": True,
                "window_start": (now() - timedelta(days=5)).isoformat(), "window_end": now().isoformat()}
        r = _api(legal1).post("/api/v1/staff/disclosures/requests/receive/", body, format="json")
        assert r.status_code == 201, r.content
        assert r.json()["oral_order"] and r.json()["awaiting_written_order"]
        page = verified_client(client, legal1).get(reverse("disclosures:detail", args=[r.json()["id"]]))
        assert 'id="oral-order"' in page.content.decode() and 'id="written-order-missing"' in page.content.decode()

    def test_a_request_from_an_authority_taken_off_the_register_is_refused(self, legal1, authority):
        authority.active = False
        authority.save(update_fields=["active"])
        body = {"authority": authority.pk, "reference": "OLD-1", "legal_basis": "sv_126n",
                "categories": ["traffic_data"], "numbers": [ALICE_NUMBER],
                "window_start": (now() - timedelta(days=5)).isoformat(), "window_end": now().isoformat()}
        r = _api(legal1).post("/api/v1/staff/disclosures/requests/receive/", body, format="json")
        assert r.status_code == 400 and "authority" in r.content.decode()
        assert not DisclosureRequest.objects.filter(reference="OLD-1").exists()

    def test_renew_and_convert_over_the_api(self, legal1, legal2, legal3, authority):
        req = to_state(receive(legal1, authority, basis=LegalBasis.EU_PRESERVATION, deadline=None), "approved",
                       intake=legal1, approvers=[legal2, legal3])
        api = _api(legal2)
        base = f"/api/v1/staff/disclosures/requests/{req.pk}/"
        r = api.post(f"{base}renew-preservation/", {}, format="json")
        assert r.status_code == 400 and "order_reference" in r.json().get("errors", r.json()).__str__()
        r = api.post(f"{base}renew-preservation/", {"order_reference": "EPOC-PR-2"}, format="json")
        assert r.status_code == 200 and r.json()["renewal_reference"] == "EPOC-PR-2"
        order = {"order_document_title": "EPOC-9.pdf", "order_document_base64": base64.b64encode(b"%PDF-1.7 EPOC").decode()}
        r = api.post(f"{base}convert-preservation/", {"legal_basis": "eu_production", "reference": "EPOC-9", **order},
                     format="json")
        assert r.status_code == 200 and r.json()["converted_to"] is not None
        assert r.json()["outcome"] == "converted"


class TransparencyByBasisTests:
    def test_the_report_counts_every_basis_with_its_outcomes(self, client, legal1, legal2, authority, settings):
        settings.DISCLOSURE_REPORT_THRESHOLD = 1
        for i in range(2):
            receive(legal1, authority, basis=LegalBasis.SV_126ZH, reference=f"T-{i}")
        disclosure_request_reject(actor=legal1, request=receive(legal1, authority, basis=LegalBasis.SV_126U,
                                                                reference="U-1"), reason="no offence named")
        today = localdate()  # the report counts Amsterdam days
        c = verified_client(client, legal1)
        query = f"?year={today.year}&half={1 if today.month <= 6 else 2}"
        page = c.get(reverse("disclosures:report") + query).content.decode()
        assert 'id="basis-sv_126zh"' in page and 'id="basis-eu_preservation"' in page
        csv = c.get(reverse("disclosures:report") + query + "&format=csv").content.decode()
        assert f"H{1 if today.month <= 6 else 2},basis:sv_126zh,received,2" in csv
        assert "basis:sv_126u,rejected,1" in csv
        assert "basis:sv_126zi,received,0" in csv
