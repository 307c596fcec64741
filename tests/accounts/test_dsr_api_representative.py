"""The person's API says which of their requests a representative made, as their page and their export do: the kind,
the representative's name, when support checked the proof of authority, and whether a copy of it is kept (never the
copy). Read through the purpose-bound selector, so the read is audited; documented in the OpenAPI schema."""
from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.dateparse import parse_datetime
from django.utils.timezone import now

from accounts.dsr.models import DataSubjectRequest
from accounts.dsr.services import dsr_request_create
from accounts.support.services import support_request_open
from tests.accounts.helpers import _fresh_cache  # noqa: F401
from voipxs.privacy.models import AuditEntry

pytestmark = pytest.mark.django_db

NAME = "Mr. A.B. de Vries-Representant"
PDF = b"%PDF-1.7\n1 0 obj <</Type /Catalog>> endobj\n%%EOF\n"
FIELDS = ("through_representative", "representative_kind", "representative_name",
          "representative_authority_checked_at", "representative_proof_kept")


@pytest.fixture(autouse=True)
def _private_dir(settings, tmp_path):
    settings.PRIVATE_FILES_DIR = tmp_path


def _listed(client, user) -> dict[int, dict]:
    client.force_login(user)
    response = client.get("/api/v1/me/privacy-requests/")
    assert response.status_code == 200
    return {row["id"]: row for row in response.json()}


class MyPrivacyRequestsRepresentativeTests:
    def test_it_shows_who_made_a_request_for_the_person_and_what_was_checked(self, client, support, alice):
        with_proof = support_request_open(actor=support, user=alice, kind="restriction", representative_kind="lawyer",
                                          representative_name=NAME, authority_checked=True, proof=PDF)
        without = support_request_open(actor=support, user=alice, kind="rectification", details="Wrong label",
                                       representative_kind="legal_guardian", representative_name=NAME,
                                       authority_checked=True)
        own = dsr_request_create(user=alice, kind="access")

        rows = _listed(client, alice)

        row = rows[with_proof.pk]
        assert (row["through_representative"], row["representative_kind"], row["representative_name"]) == (
            True, "lawyer", NAME)
        checked = DataSubjectRequest.objects.get(pk=with_proof.pk).representative_checked_at
        assert parse_datetime(row["representative_authority_checked_at"]) == checked
        assert row["representative_proof_kept"] is True
        assert "content" not in str(row) and "%PDF" not in str(row)
        assert (rows[without.pk]["representative_kind"], rows[without.pk]["representative_proof_kept"]) == (
            "legal_guardian", False)
        assert {k: rows[own.pk][k] for k in FIELDS} == {
            "through_representative": False, "representative_kind": "", "representative_name": None,
            "representative_authority_checked_at": None, "representative_proof_kept": False}

    def test_the_read_is_audited_for_the_persons_own_purpose(self, client, support, alice):
        support_request_open(actor=support, user=alice, kind="restriction", representative_kind="lawyer",
                             representative_name=NAME, authority_checked=True)
        assert not AuditEntry.objects.filter(action="dsr.list_own").exists()
        _listed(client, alice)
        read = AuditEntry.objects.get(action="dsr.list_own")
        assert (read.purpose, read.outcome, read.target_type) == ("self_service", "ok", "user")

    def test_the_listing_never_reads_the_proofs_content(self, client, support, alice):
        """Whether a proof is kept comes from the selector's join, one query for all rows, without the file."""
        for kind in ("restriction", "access"):
            support_request_open(actor=support, user=alice, kind=kind, representative_kind="lawyer",
                                 representative_name=NAME, authority_checked=True, proof=PDF)
        client.force_login(alice)
        with CaptureQueriesContext(connection) as queries:
            rows = client.get("/api/v1/me/privacy-requests/").json()
        assert [row["representative_proof_kept"] for row in rows] == [True, True]
        assert not [q["sql"] for q in queries.captured_queries if "content_enc" in q["sql"]]

    def test_another_person_sees_nothing_of_it(self, client, support, alice, bob):
        support_request_open(actor=support, user=alice, kind="restriction", representative_kind="lawyer",
                             representative_name=NAME, authority_checked=True, proof=PDF)
        client.force_login(bob)
        assert client.get("/api/v1/me/privacy-requests/").json() == []

    def test_a_name_erased_with_the_account_data_is_null_and_the_kind_stays(self, client, support, alice):
        req = support_request_open(actor=support, user=alice, kind="restriction", representative_kind="lawyer",
                                   representative_name=NAME, authority_checked=True)
        DataSubjectRequest.objects.filter(pk=req.pk).update(representative_name=None,
                                                            representative_name_erased_at=now())
        row = _listed(client, alice)[req.pk]
        assert (row["through_representative"], row["representative_kind"], row["representative_name"]) == (
            True, "lawyer", None)

    def test_the_schema_documents_the_fields(self, client, alice):
        client.force_login(alice)
        schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
        properties = schema["components"]["schemas"]["MyPrivacyRequest"]["properties"]
        assert set(FIELDS) <= set(properties)
        assert properties["representative_proof_kept"]["type"] == "boolean"
        assert properties["representative_name"].get("nullable") is True
