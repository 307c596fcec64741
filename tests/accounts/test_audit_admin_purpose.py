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


@pytest.mark.django_db
def test_workflow_events_are_listed_under_the_purpose_they_now_record(client, admin_user, dpo, alice):
    from datetime import timedelta

    from django.utils.timezone import now

    from accounts.dsr.breaches import breach_incident_create
    from accounts.services.numbers import phone_number_assign
    from voipxs.models import AuditEntry

    breach_incident_create(title="t", detected_at=now() - timedelta(hours=1), scope="s", telecom_service=False,
                           actor=dpo)
    phone_number_assign(user=alice, number="+31205550998", actor=admin_user)
    breach = str(AuditEntry.objects.filter(action="breach.create").latest("pk").pk)
    number = str(AuditEntry.objects.filter(action="phone_number.assign").latest("pk").pk)
    admin = verified_client(client, admin_user)
    assert breach in _ids(admin.get("/admin/voipxs/auditentry/", {"purpose": "legal_obligation"}).content.decode())
    assert number in _ids(admin.get("/admin/voipxs/auditentry/", {"purpose": "billing"}).content.decode())
    unrecorded = _ids(admin.get("/admin/voipxs/auditentry/", {"purpose": "-"}).content.decode())
    assert not {breach, number} & unrecorded
    page = admin.get("/admin/voipxs/auditentry/", {"purpose": "billing"}).content.decode()
    row = page.split(f"/admin/voipxs/auditentry/{number}/change/", 1)[1].split("</tr>", 1)[0]
    assert "Invoicing the amounts due" in row
