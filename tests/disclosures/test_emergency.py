"""The emergency path: the callback on the register's channel comes before any hand-over, even in an
emergency; the written order is due 3 days after intake, escalated when late, and a delivery made
without it is flagged for the breach register. The register itself has four eyes: who enters a body
does not verify it. The clock is frozen by passing `now`."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail

from accounts.models import BreachIncident
from disclosures.models import DisclosureRequest, LegalBasis, Status
from disclosures.services.authorities import authority_create, authority_verify
from disclosures.services.deadlines import disclosure_written_orders_escalate
from disclosures.services.intake import disclosure_document_add
from disclosures.services.transitions import (
    disclosure_production_start,
    disclosure_request_approve,
    disclosure_request_deliver,
)
from voipxs.exceptions import ApplicationError
from voipxs.models import AuditEntry

from .conftest import ALICE_NUMBER, produce, receive, to_state

pytestmark = pytest.mark.django_db
DAY = timedelta(days=1)


class CallbackFirstTests:
    def test_an_emergency_delivery_is_impossible_before_the_callback(self, legal1, legal2, legal3, authority, alice):
        req = receive(legal1, authority, emergency=True)
        for officer in (legal2, legal3):
            with pytest.raises(ApplicationError, match="not even in an emergency"):
                disclosure_request_approve(actor=officer, request=req)
        assert req.approvals.count() == 0
        # Even with every other condition forged in the database, nothing is produced or delivered.
        req.approvals.create(officer=legal2)
        req.approvals.create(officer=legal3)
        DisclosureRequest.objects.filter(pk=req.pk).update(status=Status.APPROVED)
        with pytest.raises(ApplicationError, match="callback"):
            disclosure_production_start(actor=legal1, request=req)
        DisclosureRequest.objects.filter(pk=req.pk).update(status=Status.CHECKED, checked_by=legal2)
        with pytest.raises(ApplicationError, match="callback"):
            disclosure_request_deliver(actor=legal1, request=req, receipt="PV-1")
        req = DisclosureRequest.objects.get(pk=req.pk)
        assert (req.status, req.delivered_at) == (Status.CHECKED, None)

    def test_after_the_callback_the_fast_path_skips_only_the_review(self, legal1, legal2, legal3, authority, alice):
        req = receive(legal1, authority, emergency=True)
        req = to_state(req, "authority_verified", intake=legal1, approvers=[])
        for officer in (legal2, legal3):
            req = disclosure_request_approve(actor=officer, request=req)
        assert req.status == Status.APPROVED and req.review_started_at is None
        assert produce(legal1, req).status == Status.PRODUCED
        assert req.verified_by == legal1 and req.verified_contact == "+31205559999"


class RegisterFourEyesTests:
    def test_who_registers_an_authority_cannot_verify_it(self, legal1, legal2):
        body = authority_create(actor=legal1, name="Politie X", kind="police", contact_phone="+31205559999")
        with pytest.raises(ApplicationError) as exc:
            authority_verify(actor=legal1, authority=body, note="looked it up")
        assert exc.value.extra["field"] == "verified_by"
        body.refresh_from_db()
        assert body.verified_at is None and body.created_by == legal1
        body = authority_verify(actor=legal2, authority=body, note="switchboard from politie.nl")
        assert body.verified_by == legal2
        entry = AuditEntry.objects.get(action="disclosure.authority_verify", target_id=str(body.pk))
        assert entry.extra["registered_by"] == legal1.pk


class WrittenOrderTests:
    def test_the_order_is_due_three_days_after_intake_and_escalated_once_when_late(self, legal1, authority, dpo):
        req = receive(legal1, authority, emergency=True)
        t0 = req.received_at
        assert req.written_order_due_at == t0 + 3 * DAY
        mail.outbox.clear()
        assert disclosure_written_orders_escalate(now=t0 + 3 * DAY - timedelta(seconds=1)) == {"escalated": 0, "flagged": 0}
        assert disclosure_written_orders_escalate(now=t0 + 3 * DAY) == {"escalated": 1, "flagged": 0}
        assert disclosure_written_orders_escalate(now=t0 + 4 * DAY) == {"escalated": 0, "flagged": 0}
        recipients = {addr for m in mail.outbox for addr in m.to}
        assert {legal1.email, dpo.email} <= recipients
        assert all(f"#{req.pk}" in m.body and ALICE_NUMBER not in m.body for m in mail.outbox)
        assert DisclosureRequest.objects.get(pk=req.pk).written_order_escalated_at == t0 + 3 * DAY

    def test_an_oral_order_without_the_emergency_box_gets_the_same_clock(self, legal1, authority, dpo):
        # Sv 126ni(3): an order given orally is confirmed in writing within 3 days; only emergencies had a clock.
        oral = receive(legal1, authority, basis=LegalBasis.SV_126NI, deadline=None, oral_order=True)
        written = receive(legal1, authority, basis=LegalBasis.SV_126NI, deadline=None)
        t0 = oral.received_at
        assert oral.written_order_due_at == t0 + 3 * DAY and oral.awaiting_written_order
        assert written.written_order_due_at is None and not written.awaiting_written_order
        mail.outbox.clear()
        assert disclosure_written_orders_escalate(now=t0 + 3 * DAY + timedelta(minutes=1)) == {"escalated": 1,
                                                                                               "flagged": 0}
        assert f"Orally ordered request #{oral.pk}" in mail.outbox[0].body and f"#{written.pk}" not in mail.outbox[0].body

    def test_an_order_on_file_in_time_stops_the_clock(self, legal1, authority):
        req = receive(legal1, authority, emergency=True)
        disclosure_document_add(actor=legal1, request=req, title="order", content=b"%PDF-1.7 signed", is_written_order=True,
                                now=req.received_at + 2 * DAY)
        assert disclosure_written_orders_escalate(now=req.received_at + 5 * DAY) == {"escalated": 0, "flagged": 0}

    def test_a_delivery_without_the_order_is_flagged_for_the_breach_register(self, legal1, legal2, legal3, authority,
                                                                           alice, dpo):
        req = to_state(receive(legal1, authority, emergency=True), "delivered", intake=legal1, approvers=[legal2, legal3])
        t0 = req.received_at
        assert req.breach_flagged_at is None and BreachIncident.objects.count() == 0  # still within the 3 days
        assert disclosure_written_orders_escalate(now=t0 + 2 * DAY) == {"escalated": 0, "flagged": 0}
        assert disclosure_written_orders_escalate(now=t0 + 3 * DAY + timedelta(hours=1)) == {"escalated": 1, "flagged": 1}
        req = DisclosureRequest.objects.get(pk=req.pk)
        incident = BreachIncident.objects.get()
        assert req.breach_incident == incident and req.breach_flagged_at == t0 + 3 * DAY + timedelta(hours=1)
        assert incident.status == "open" and incident.telecom_service and incident.clock_hours == 24
        assert f"#{req.pk}" in incident.title and ALICE_NUMBER not in incident.scope
        assert disclosure_written_orders_escalate(now=t0 + 5 * DAY) == {"escalated": 0, "flagged": 0}
        assert BreachIncident.objects.count() == 1

    def test_the_breach_entry_of_an_oral_order_says_it_was_ordered_orally_not_in_an_emergency(
            self, legal1, legal2, legal3, authority, alice, dpo):
        # The DPO assesses the entry as written: an order given by phone is not an emergency.
        req = to_state(receive(legal1, authority, oral_order=True), "delivered", intake=legal1, approvers=[legal2, legal3])
        disclosure_written_orders_escalate(now=req.received_at + 3 * DAY + timedelta(hours=1))
        incident = BreachIncident.objects.get()
        assert incident.title.startswith("Orally ordered disclosure")
        assert "emergency" not in incident.scope and "on an oral order" in incident.scope
