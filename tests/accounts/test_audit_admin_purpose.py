"""The audit log's page in the staff admin filters by purpose by the purposes' names: the purge's, erasure's and
key rotation's entries are found under the purpose they record, entries without one under their own choice."""
from __future__ import annotations

import re

import pytest

from tests.factories import verified_client
from voipxs.privacy.audit import audit_record


def _ids(page: str) -> set[str]:
    return set(re.findall(r"/admin/voipxs/auditentry/(\d+)/change/", page))


@pytest.fixture
def entries(db):
    return {
        "purge": audit_record(actor=None, action="retention.purge", purpose="legal_obligation").pk,
        "rotation": audit_record(actor=None, action="keys.rotate", purpose="security").pk,
        "event": audit_record(actor=None, action="breach.create").pk,
        "refused": audit_record(actor=None, action="calls.list", purpose="marketing", outcome="refused").pk,
    }


@pytest.mark.django_db
class AuditAdminPurposeTests:
    def test_the_filter_names_every_purpose_and_finds_the_entries_of_each(self, client, admin_user, entries):
        admin = verified_client(client, admin_user)
        page = admin.get("/admin/voipxs/auditentry/").content.decode()
        assert "Legal obligations, incl. criminal investigations" in page
        assert "Fraud and abuse prevention, security of the service" in page
        assert "No purpose recorded" in page and "Unknown purpose (refused)" in page

        for query, wanted in (("legal_obligation", "purge"), ("security", "rotation"), ("-", "event"),
                              ("?", "refused")):
            listed = _ids(admin.get("/admin/voipxs/auditentry/", {"purpose": query}).content.decode())
            assert str(entries[wanted]) in listed, query
            assert not listed & {str(pk) for name, pk in entries.items() if name != wanted}, query

    def test_the_list_shows_the_purpose_by_name(self, client, admin_user, entries):
        page = verified_client(client, admin_user).get("/admin/voipxs/auditentry/", {"purpose": "security"})
        assert page.status_code == 200
        row = page.content.decode().split(f"/admin/voipxs/auditentry/{entries['rotation']}/change/", 1)[1]
        assert "Fraud and abuse prevention, security of the service" in row.split("</tr>", 1)[0]
