"""Issue 13 item 5 for disclosures: a deadline in the past, a basis that does not fit the body asking,
an output check that opens the package instead of approving what it cannot read, and deadlines shown
as a span of time people read."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils.timezone import now

from disclosures.models import DisclosureRequest, LegalBasis, PackageFile, Status
from disclosures.production import _aad
from disclosures.services.intake import REQUEST_DEADLINE_PAST, disclosure_request_receive
from disclosures.services.transitions import disclosure_output_check
from tests.factories import verified_client
from voipxs.exceptions import ApplicationError
from voipxs.privacy.crypto import encrypt_bytes

from .conftest import receive, to_state

pytestmark = pytest.mark.django_db


class IntakeGuardRailTests:
    def test_it_refuses_a_deadline_in_the_past(self, legal1, authority, alice):
        with pytest.raises(ApplicationError) as exc:
            disclosure_request_receive(
                actor=legal1, authority=authority, reference="OLD-1", legal_basis=LegalBasis.SV_126N,
                categories=["traffic_data"], window_start=now() - timedelta(days=30), window_end=now(),
                deadline=now() - timedelta(days=2000), numbers=["+31205550101"])
        assert exc.value.message == REQUEST_DEADLINE_PAST and exc.value.extra["field"] == "deadline"
        assert not DisclosureRequest.objects.exists()

    def test_a_dispute_body_cannot_use_a_criminal_procedure_basis(self, legal1, dispute_body, alice):
        for basis in (LegalBasis.SV_126N, LegalBasis.SV_126NA, LegalBasis.EU_PRODUCTION):
            categories = ("user_data",) if basis == LegalBasis.SV_126NA else ("traffic_data",)
            with pytest.raises(ApplicationError, match="criminal-procedure power") as exc:
                receive(legal1, dispute_body, basis=basis, categories=categories)
            assert exc.value.extra["field"] == "legal_basis"
        assert not DisclosureRequest.objects.exists()

    def test_only_a_dispute_body_issues_a_dispute_ruling(self, legal1, authority, alice):
        with pytest.raises(ApplicationError, match="only a dispute commission or a mediator"):
            receive(legal1, authority, basis=LegalBasis.DISPUTE_RULING)

    def test_fitting_bases_are_taken_in(self, legal1, authority, dispute_body, alice):
        assert receive(legal1, dispute_body, basis=LegalBasis.DISPUTE_RULING).status == Status.RECEIVED
        assert receive(legal1, dispute_body, basis=LegalBasis.COURT_ORDER).status == Status.RECEIVED
        assert receive(legal1, authority, basis=LegalBasis.SV_126N).status == Status.RECEIVED

    def test_the_page_names_the_field(self, client, legal1, dispute_body, alice):
        verified_client(client, legal1)
        moment = now()
        response = client.post("/disclosures/requests/new/", {
            "authority": dispute_body.pk, "reference": "GC-1", "legal_basis": "sv_126n", "categories": ["traffic_data"],
            "window_start": (moment - timedelta(days=10)).strftime("%Y-%m-%d"),
            "window_end": moment.strftime("%Y-%m-%d"), "deadline": (moment + timedelta(days=3)).strftime("%Y-%m-%d %H:%M"),
            "numbers": "+31205550101"})
        assert response.status_code == 400 and "criminal-procedure power" in response.content.decode()


class OutputCheckTests:
    def _produced(self, legal1, legal2, legal3, authority):
        return to_state(receive(legal1, authority), "produced", intake=legal1, approvers=[legal2, legal3])

    def test_it_checks_a_sound_package(self, legal1, legal2, legal3, authority, alice):
        req = self._produced(legal1, legal2, legal3, authority)
        assert disclosure_output_check(actor=legal2, request=req).status == Status.CHECKED

    def test_it_refuses_a_file_it_cannot_decrypt(self, legal1, legal2, legal3, authority, alice):
        req = self._produced(legal1, legal2, legal3, authority)
        stored = PackageFile.objects.get(package__request=req, name="calls.csv")
        broken = bytearray(bytes(stored.content_enc))
        broken[-1] ^= 1
        PackageFile.objects.filter(pk=stored.pk).update(content_enc=bytes(broken))
        with pytest.raises(ApplicationError, match="calls.csv: cannot be decrypted"):
            disclosure_output_check(actor=legal2, request=req)
        assert DisclosureRequest.objects.get(pk=req.pk).status == Status.PRODUCED

    def test_it_refuses_a_file_that_decrypts_but_does_not_open(self, legal1, legal2, legal3, authority, alice):
        """Re-stored consistently (hash and manifest entry updated), so only opening the file finds it."""
        import hashlib
        import json

        req = self._produced(legal1, legal2, legal3, authority)
        package = req.package
        bad = b"<calls><unclosed></calls>"
        digest = hashlib.sha256(bad).hexdigest()
        PackageFile.objects.filter(package=package, name="calls_etsi.xml").update(
            content_enc=encrypt_bytes(bad, aad=_aad(package.pk, "calls_etsi.xml")), sha256=digest, size=len(bad))
        manifest_file = PackageFile.objects.get(package=package, name="manifest.json")
        from voipxs.privacy.crypto import decrypt_bytes

        manifest = json.loads(decrypt_bytes(bytes(manifest_file.content_enc), aad=_aad(package.pk, "manifest.json")))
        manifest["files"]["calls_etsi.xml"] = {"sha256": digest, "size": len(bad)}
        data = json.dumps(manifest).encode()
        PackageFile.objects.filter(pk=manifest_file.pk).update(
            content_enc=encrypt_bytes(data, aad=_aad(package.pk, "manifest.json")),
            sha256=hashlib.sha256(data).hexdigest(), size=len(data))
        with pytest.raises(ApplicationError, match=r"calls_etsi.xml: cannot be opened \(ExpatError\)"):
            disclosure_output_check(actor=legal2, request=req)
        assert DisclosureRequest.objects.get(pk=req.pk).checked_by is None


class DeadlineDisplayTests:
    def test_the_dashboard_says_how_long_ago_a_deadline_passed_in_words(self, client, legal1, authority, alice):
        late = receive(legal1, authority)
        DisclosureRequest.objects.filter(pk=late.pk).update(deadline=now() - timedelta(hours=60699.7))
        soon = receive(legal1, authority)
        DisclosureRequest.objects.filter(pk=soon.pk).update(deadline=now() + timedelta(hours=5, minutes=10))
        page = verified_client(client, legal1).get("/disclosures/").content.decode()
        assert "-60699" not in page
        assert "overdue by 6 years 339 days" in page
        assert "5 hours 10 minutes left" in page or "5 hours 9 minutes left" in page
