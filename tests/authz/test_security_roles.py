"""LEGAL.md section 5 row 6: the network operations (noc) and fraud analyst (fraud) roles, each with only what its task
needs. Which role opens which page is in the matrix (tests/authz/matrix.csv, the columns noc and fraud); here: the
pages' reads are recorded under the purpose both roles hold, SECURITY, and the purpose, not only the role check, is
what lets them read: take SECURITY from a role in ROLE_PURPOSES and the selector behind its page refuses."""
from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils.timezone import now

from tests.factories import make_source, verified_client
from traffic.models import BlockedPrefix, CdrImport
from traffic.selectors.sources_imports import ingest_purpose, source_list
from voipxs.models import AuditEntry
from voipxs.privacy import purposes
from voipxs.privacy.audit import actor_ref
from voipxs.privacy.purposes import Purpose, Role

pytestmark = pytest.mark.django_db


def _reads_since(user, start: int) -> set[tuple[str, str, str]]:
    """(action, purpose, outcome) of what `user` did since entry `start`."""
    rows = AuditEntry.objects.filter(pk__gt=start, actor=actor_ref(user)).values_list("action", "purpose", "outcome")
    return set(rows)


WRITES = {"cdr_source.create", "cdr_source.update", "cdr_import.upload", "cdr_import.rerun"}


def _last() -> int:
    return AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def _an_import() -> CdrImport:
    return CdrImport.objects.create(source=make_source(), file_name="Master.csv", file_sha256="0" * 64,
                                    status=CdrImport.Status.DONE, imported=1, finished_at=now())


class NetworkOperationsTests:
    def test_the_sources_and_imports_pages_are_read_under_security_and_audited(self, client, noc):
        imported = _an_import()
        start = _last()
        verified_client(client, noc)
        for url in ("/calls/staff/sources/", "/calls/staff/imports/", f"/calls/staff/imports/{imported.pk}/"):
            response = client.get(url)
            assert response.status_code == 200, url
            assert "pbx1" in response.content.decode(), url
        assert _reads_since(noc, start) == {("cdr_source.list", "security", "ok"), ("cdr_import.list", "security", "ok"),
                                            ("cdr_import.view", "security", "ok")}

    def test_they_upload_a_file_on_the_imports_page(self, client, noc, settings, tmp_path):
        settings.PRIVATE_FILES_DIR = tmp_path
        make_source()
        verified_client(client, noc)
        response = client.post("/calls/staff/imports/", {
            "source": "pbx1", "file": SimpleUploadedFile("Master.csv", b'"","0205550101"\n')})
        assert response.status_code == 302
        assert CdrImport.objects.get().imported_by == noc

    def test_what_they_do_is_recorded_under_their_purpose_not_billings(self, client, noc, settings, tmp_path):
        """The audit log says for which purpose a person acted; network operations hold SECURITY, not BILLING, so their
        upload, re-run and source changes are recorded under SECURITY (an auditor matching entries to roles finds no
        purpose the actor does not hold)."""
        settings.PRIVATE_FILES_DIR = tmp_path
        start = _last()
        verified_client(client, noc)
        assert client.post("/calls/staff/sources/", {"name": "pbx2", "format": "asterisk-csv",
                                                    "timezone": "Europe/Amsterdam", "default_country": "NL"}
                           ).status_code == 302
        assert client.post("/calls/staff/imports/", {
            "source": "pbx2", "file": SimpleUploadedFile("Master.csv", b'"","0205550101"\n')}).status_code == 302
        failed = CdrImport.objects.get()
        CdrImport.objects.filter(pk=failed.pk).update(status=CdrImport.Status.FAILED)
        assert client.post(f"/calls/staff/imports/{failed.pk}/rerun/").status_code == 302
        writes = {(a, p) for a, p, _ in _reads_since(noc, start) if a in WRITES}
        assert writes == {("cdr_source.create", "security"), ("cdr_import.upload", "security"),
                          ("cdr_import.rerun", "security")}

    def test_billing_staff_still_read_them_for_invoicing(self, client, billing_staff):
        start = _last()
        assert verified_client(client, billing_staff).get("/calls/staff/imports/").status_code == 200
        assert _reads_since(billing_staff, start) == {("cdr_import.list", "billing", "ok")}

    def test_billing_staffs_uploads_stay_recorded_under_billing(self, client, billing_staff, settings, tmp_path):
        settings.PRIVATE_FILES_DIR = tmp_path
        make_source()
        start = _last()
        verified_client(client, billing_staff).post("/calls/staff/imports/", {
            "source": "pbx1", "file": SimpleUploadedFile("Master.csv", b'"","0205550101"\n')})
        assert {(a, p) for a, p, _ in _reads_since(billing_staff, start) if a in WRITES} == {
            ("cdr_import.upload", "billing")}

    def test_they_see_their_pages_in_the_menu_and_nothing_of_billing(self, client, noc):
        html = verified_client(client, noc).get("/calls/staff/imports/").content.decode()
        assert 'href="/calls/staff/imports/"' in html and 'href="/calls/staff/sources/"' in html
        for billing_page in ("/calls/staff/invoices/", "/calls/staff/tariffs/", "/calls/staff/blocked-prefixes/",
                             "/calls/staff/masking-list/"):
            assert f'href="{billing_page}"' not in html, billing_page


class FraudAnalystTests:
    def test_the_blocked_prefixes_page_is_read_under_security_and_audited(self, client, fraud_analyst):
        BlockedPrefix.objects.create(prefix="3187", reason="shared_cost")
        start = _last()
        response = verified_client(client, fraud_analyst).get("/calls/staff/blocked-prefixes/")
        assert response.status_code == 200 and "+3187" in response.content.decode()
        assert _reads_since(fraud_analyst, start) == {("blocked_prefix.list", "security", "ok")}

    def test_they_see_their_page_in_the_menu_and_nothing_of_billing_or_the_switches(self, client, fraud_analyst):
        html = verified_client(client, fraud_analyst).get("/calls/staff/blocked-prefixes/").content.decode()
        assert 'href="/calls/staff/blocked-prefixes/"' in html
        for other in ("/calls/staff/invoices/", "/calls/staff/imports/", "/calls/staff/sources/",
                      "/calls/staff/masking-list/"):
            assert f'href="{other}"' not in html, other


class PurposeWithdrawnTests:
    """The role check lets a role onto its page; the purpose check in the selector decides whether it reads. One
    example: network operations without SECURITY in ROLE_PURPOSES."""

    @pytest.fixture
    def noc_without_security(self, monkeypatch):
        monkeypatch.setitem(purposes.ROLE_PURPOSES, Role.NOC, frozenset({Purpose.SELF_SERVICE}))

    def test_the_selector_refuses_and_records_the_refusal(self, noc, noc_without_security):
        start = _last()
        with pytest.raises(PermissionDenied):
            source_list(actor=noc, purpose=ingest_purpose(noc))
        assert _reads_since(noc, start) == {("cdr_source.list", "security", "refused")}

    def test_the_page_answers_403(self, client, noc, noc_without_security):
        start = _last()
        assert verified_client(client, noc).get("/calls/staff/sources/").status_code == 403
        assert _reads_since(noc, start) == {("cdr_source.list", "security", "refused")}
