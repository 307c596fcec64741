"""Data-subject requests: made from the portal, one-month deadline, one extension with a reason, DPO work list."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils.timezone import now

from accounts.dsr.deadlines import add_months
from accounts.dsr.models import DataSubjectRequest
from accounts.dsr.services import (
    ALREADY_EXTENDED, ALREADY_OPEN, EXTENSION_TOO_LATE, dsr_request_create, dsr_request_extend,
)
from tests.factories import verified_client
from voipxs.exceptions import ApplicationError
from voipxs.models import AuditEntry

Kind = DataSubjectRequest.Kind


@pytest.mark.django_db
class DsrRequestTests:
    def test_it_registers_a_request_from_the_portal_with_a_one_month_deadline(self, client, alice):
        verified_client(client, alice)
        response = client.post("/privacy-requests/new/", {"kind": Kind.RECTIFICATION, "details": "My label is wrong"})
        assert response.status_code == 302
        req = DataSubjectRequest.objects.get(user=alice)
        assert req.deadline == add_months(req.received_at, 1) and req.status == "received"
        assert 28 <= (req.deadline - req.received_at).days <= 31
        page = client.get("/privacy-requests/").content.decode()
        assert "Correct my data" in page
        again = client.post("/privacy-requests/new/", {"kind": Kind.RECTIFICATION})
        assert again.status_code == 400 and ALREADY_OPEN in again.content.decode()
        bad = client.post("/privacy-requests/new/", {"kind": "everything"})
        assert bad.status_code == 400 and "id_kind_error" in bad.content.decode()

    def test_it_extends_once_by_two_months_with_a_reason_the_user_sees(self, client, alice, dpo):
        req = dsr_request_create(user=alice, kind=Kind.RECTIFICATION, details="My label is wrong")
        first = req.deadline
        verified_client(client, dpo)
        response = client.post(f"/privacy-requests/dpo/{req.pk}/", {"action": "extend", "answer": "Records at the carrier."})
        assert response.status_code == 302
        req.refresh_from_db()
        assert req.deadline == add_months(first, 2) and req.extended_at
        with pytest.raises(ApplicationError, match=ALREADY_EXTENDED):
            dsr_request_extend(request=req, reason="again", actor=dpo)
        client.logout()
        assert "Records at the carrier." in verified_client(client, alice).get("/privacy-requests/").content.decode()

    def test_it_refuses_to_extend_a_request_whose_deadline_has_passed(self, client, alice, bob, dpo):
        # GDPR art. 12(3): the extension and its notice come before the original deadline, not after it.
        late = dsr_request_create(user=alice, kind=Kind.RECTIFICATION, details="My label is wrong")
        DataSubjectRequest.objects.filter(pk=late.pk).update(received_at=now() - timedelta(days=70),
                                                             deadline=now() - timedelta(days=40))
        running = dsr_request_create(user=bob, kind=Kind.RECTIFICATION, details="My label is wrong")
        verified_client(client, dpo)
        assert "Extend by two months" not in client.get(f"/privacy-requests/dpo/{late.pk}/").content.decode()
        refused = client.post(f"/privacy-requests/dpo/{late.pk}/", {"action": "extend", "answer": "Busy."})
        assert refused.status_code == 400 and "The deadline of this request has passed" in refused.content.decode()
        late.refresh_from_db()
        assert late.deadline < now() and late.extended_at is None and late.extension_reason == ""
        with pytest.raises(ApplicationError, match=EXTENSION_TOO_LATE) as error:
            dsr_request_extend(request=late, reason="Busy.", actor=dpo)
        assert error.value.extra["field"] == "deadline"
        assert not AuditEntry.objects.filter(action="dsr.extend").exists()
        assert "Extend by two months" in client.get(f"/privacy-requests/dpo/{running.pk}/").content.decode()
        extended = client.post(f"/privacy-requests/dpo/{running.pk}/", {"action": "extend", "answer": "Busy."})
        assert extended.status_code == 302
        running.refresh_from_db()
        assert running.extended_at is not None and running.deadline > now() + timedelta(days=50)

    def test_the_dpo_lists_open_requests_by_deadline_and_completes_them_audited(self, client, alice, bob, carol, dpo):
        late = dsr_request_create(user=alice, kind=Kind.RECTIFICATION, details="My label is wrong")
        soon = dsr_request_create(user=bob, kind=Kind.RESTRICTION)
        DataSubjectRequest.objects.filter(pk=soon.pk).update(deadline=late.deadline - timedelta(days=10))
        done = dsr_request_create(user=carol, kind=Kind.RECTIFICATION, details="My label is wrong")
        verified_client(client, dpo)
        client.post(f"/privacy-requests/dpo/{done.pk}/", {"action": "complete", "answer": "Corrected.",
                                                          "confirm": "yes"})
        page = client.get("/privacy-requests/dpo/").content.decode()
        open_table = page.split('id="dsr-open"')[1].split("</table>")[0]
        assert open_table.index(f">{soon.pk}<") < open_table.index(f">{late.pk}<")
        assert f">{done.pk}<" not in open_table
        assert "alice" not in page and "@example.org" not in page  # the work list is pseudonymous
        empty = client.post(f"/privacy-requests/dpo/{late.pk}/", {"action": "complete", "answer": ""})
        assert empty.status_code == 400
        assert AuditEntry.objects.filter(action="dsr.complete").count() == 1

    def test_it_counts_calendar_months(self):
        from datetime import datetime, timezone

        assert add_months(datetime(2027, 1, 31, 9, tzinfo=timezone.utc), 1) == datetime(2027, 2, 28, 9, tzinfo=timezone.utc)
        assert add_months(datetime(2026, 11, 29, tzinfo=timezone.utc), 2) == datetime(2027, 1, 29, tzinfo=timezone.utc)

    def test_customers_and_other_staff_cannot_reach_the_dpo_pages(self, client, alice, legal1):
        req = dsr_request_create(user=alice, kind=Kind.RECTIFICATION, details="My label is wrong")
        for user in (alice, legal1):
            verified_client(client, user)
            for url in ("/privacy-requests/dpo/", f"/privacy-requests/dpo/{req.pk}/", "/privacy-requests/dpo/breaches/"):
                assert client.get(url).status_code == 403, (user, url)
            client.logout()
