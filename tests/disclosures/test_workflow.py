from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils.timezone import now

from disclosures.models import DisclosureRequest, LegalBasis, Status
from disclosures.services.authorities import authority_create
from disclosures.services.intake import disclosure_document_add
from disclosures.services.jobs import disclosure_holds_release_due
from disclosures.services.transitions import (
    disclosure_output_check,
    disclosure_production_start,
    disclosure_request_approve,
    disclosure_request_close,
    disclosure_request_deliver,
    disclosure_request_narrow,
    disclosure_request_reject,
    disclosure_request_start_review,
    disclosure_request_verify_authority,
    disclosure_request_withdraw,
)
from retention.models import LegalHold
from tests.factories import make_user
from voipxs.exceptions import ApplicationError
from voipxs.models import AuditEntry
from voipxs.privacy.purposes import Role

from .conftest import ALICE_NUMBER, produce, receive, to_state, window

pytestmark = pytest.mark.django_db


class AuthorityTests:
    def test_it_stores_the_contact_number_normalised(self, authority):
        assert authority.contact_phone == "+31205559999"
        assert authority.contact_email == "desk@politie.example"
        assert authority.verified_at is not None

    def test_it_refuses_a_number_that_is_not_one(self, legal1):
        with pytest.raises(ApplicationError) as exc:
            authority_create(actor=legal1, name="X", kind="police", contact_phone="not a number")
        assert exc.value.extra["field"] == "contact_phone"

    def test_it_refuses_a_customer(self, alice):
        with pytest.raises(ApplicationError):
            authority_create(actor=alice, name="X", kind="police", contact_phone="+31205559999")


class IntakeTests:
    def test_it_stores_targets_encrypted_with_a_blind_index_and_places_a_hold(self, legal1, authority, alice):
        req = receive(legal1, authority, numbers=["020 555 0101"])
        target = req.targets.get()
        assert target.number == ALICE_NUMBER
        from django.db import connection
        with connection.cursor() as cur:
            cur.execute("SELECT number FROM disclosures_disclosuretarget WHERE id = %s", [target.pk])
            raw = bytes(cur.fetchone()[0])
        assert ALICE_NUMBER.encode() not in raw
        hold = LegalHold.objects.get(pk=req.hold_id)
        assert hold.reference == f"disclosure:{req.pk}"
        assert hold.number_indexes == [target.number_index]
        assert hold.window_start == req.window_start and hold.released_at is None

    def test_it_refuses_a_basis_that_does_not_cover_the_category(self, legal1, authority):
        with pytest.raises(ApplicationError) as exc:
            receive(legal1, authority, basis=LegalBasis.SV_126NA, categories=["traffic_data"])
        assert exc.value.extra["field"] == "categories"
        req = receive(legal1, authority, basis=LegalBasis.SV_126NA, categories=["user_data"])
        assert req.categories == ["user_data"]

    @pytest.mark.parametrize("change, field", [
        ({"numbers": [], "account_ids": []}, "numbers"),
        ({"basis": ""}, "legal_basis"),
        ({"window": (None, None)}, "window_start"),
        ({"numbers": ["hello"]}, "numbers"),
    ])
    def test_it_refuses_a_request_without_basis_target_or_window(self, legal1, authority, change, field):
        with pytest.raises(ApplicationError) as exc:
            receive(legal1, authority, **change)
        assert exc.value.extra["field"] == field
        assert DisclosureRequest.objects.count() == 0
        assert LegalHold.objects.count() == 0

    def test_the_database_refuses_a_request_without_target_or_with_an_empty_window(self, legal1, authority):
        start, end = window()
        base = dict(reference="R", authority=authority, legal_basis="sv_126n", categories=["traffic_data"],
                    deadline=end, received_by=legal1)
        with pytest.raises(IntegrityError), transaction.atomic():
            DisclosureRequest.objects.create(window_start=start, window_end=end, target_count=0, **base)
        with pytest.raises(IntegrityError), transaction.atomic():
            DisclosureRequest.objects.create(window_start=end, window_end=start, target_count=1, **base)
        with pytest.raises(IntegrityError), transaction.atomic():
            DisclosureRequest.objects.create(window_start=start, window_end=end, target_count=1,
                                             **{**base, "legal_basis": "whatever"})

    def test_documents_are_stored_encrypted_with_their_hash(self, legal1, authority):
        req = receive(legal1, authority)
        doc = disclosure_document_add(actor=legal1, request=req, title="vordering.pdf", content=b"%PDF-1.7 order text")
        import hashlib
        assert doc.sha256 == hashlib.sha256(b"%PDF-1.7 order text").hexdigest()
        assert b"order text" not in bytes(doc.content_enc)


class ApprovalTests:
    def _reviewed(self, legal1, authority):
        req = receive(legal1, authority)
        req = disclosure_request_verify_authority(actor=legal1, request=req, channel="phone")
        assert req.verified_contact == "+31205559999" and req.verified_by == legal1
        return disclosure_request_start_review(actor=legal1, request=req)

    def test_the_intake_officer_cannot_approve(self, legal1, legal2, authority):
        req = self._reviewed(legal1, authority)
        with pytest.raises(ApplicationError, match="took the request in"):
            disclosure_request_approve(actor=legal1, request=req)

    def test_the_same_officer_cannot_approve_twice(self, legal1, legal2, authority):
        req = self._reviewed(legal1, authority)
        disclosure_request_approve(actor=legal2, request=req)
        with pytest.raises(ApplicationError, match="already approved"):
            disclosure_request_approve(actor=legal2, request=req)
        assert DisclosureRequest.objects.get(pk=req.pk).status == Status.UNDER_REVIEW

    def test_an_approver_cannot_collect_the_data_nor_the_intake_officer_check_it(self, legal1, legal2, legal3,
                                                                                 authority):
        # LEGAL.md section 5, row 15: two distinct approvals (scope, output); neither is the creator's or the
        # collector's. The scope's approvers may not produce; the output is not checked by who took it in.
        req = to_state(receive(legal1, authority), "approved", intake=legal1, approvers=[legal2, legal3])
        for approver in (legal2, legal3):
            with pytest.raises(ApplicationError, match="cannot also collect"):
                produce(approver, req)
        assert DisclosureRequest.objects.get(pk=req.pk).status == Status.APPROVED
        legal4 = make_user("legal4", roles=(Role.LEGAL_OFFICER,), totp=True)
        req = produce(legal4, req)
        assert req.status == Status.PRODUCED
        with pytest.raises(ApplicationError, match="took the request in"):
            disclosure_output_check(actor=legal1, request=req)
        assert disclosure_output_check(actor=legal2, request=req).status == Status.CHECKED

    def test_two_different_officers_approve(self, legal1, legal2, legal3, authority):
        req = self._reviewed(legal1, authority)
        disclosure_request_approve(actor=legal2, request=req)
        req = disclosure_request_approve(actor=legal3, request=req)
        assert req.status == Status.APPROVED

    def test_it_refuses_transitions_from_the_wrong_state(self, legal1, legal2, authority):
        req = receive(legal1, authority)
        with pytest.raises(ApplicationError, match="current state"):
            disclosure_request_approve(actor=legal2, request=req)
        with pytest.raises(ApplicationError, match="current state"):
            disclosure_request_start_review(actor=legal1, request=req)
        with pytest.raises(ApplicationError, match="current state"):
            disclosure_production_start(actor=legal1, request=req)

    def test_the_callback_needs_a_channel_of_the_register(self, legal1, dispute_body):
        req = receive(legal1, dispute_body, basis=LegalBasis.DISPUTE_RULING)
        with pytest.raises(ApplicationError) as exc:
            disclosure_request_verify_authority(actor=legal1, request=req, channel="email")
        assert exc.value.extra["field"] == "channel"


class DeliveryTests:
    def test_delivery_without_two_approvals_and_an_output_check_is_refused(self, legal1, legal2, legal3, authority, alice):
        req = to_state(receive(legal1, authority), "produced", intake=legal1, approvers=[legal2, legal3])
        assert req.status == Status.PRODUCED
        with pytest.raises(ApplicationError, match="two approvals and an output check"):
            disclosure_request_deliver(actor=legal1, request=req, receipt="r")
        # Even if the state were forged, missing approvals are refused.
        req.approvals.filter(officer=legal3).delete()
        DisclosureRequest.objects.filter(pk=req.pk).update(status=Status.CHECKED, checked_by=legal2)
        with pytest.raises(ApplicationError, match="two approvals and an output check"):
            disclosure_request_deliver(actor=legal1, request=req, receipt="r")

    def test_the_producer_cannot_check_their_own_output(self, legal1, legal2, legal3, authority, alice):
        req = to_state(receive(legal1, authority), "produced", intake=legal1, approvers=[legal2, legal3])
        with pytest.raises(ApplicationError, match="another officer"):
            disclosure_output_check(actor=legal1, request=req)

    def test_closing_schedules_the_hold_release_and_the_beat_job_releases_it(self, legal1, legal2, legal3, authority, alice, settings):
        settings.DISCLOSURE_HOLD_RELEASE_DAYS = 30
        req = to_state(receive(legal1, authority), "delivered", intake=legal1, approvers=[legal2, legal3])
        req = disclosure_request_close(actor=legal1, request=req)
        assert req.hold_release_due_at == req.closed_at + timedelta(days=30)
        assert disclosure_holds_release_due(now=now() + timedelta(days=29)) == 0
        assert LegalHold.objects.get(pk=req.hold_id).released_at is None
        assert disclosure_holds_release_due(now=now() + timedelta(days=31)) == 1
        assert LegalHold.objects.get(pk=req.hold_id).released_at is not None


class EmergencyTests:
    def test_emergency_fast_path_still_needs_the_callback_and_two_and_is_flagged_until_the_order(
            self, legal1, legal2, legal3, authority, alice):
        req = receive(legal1, authority, emergency=True)
        with pytest.raises(ApplicationError, match="not even in an emergency"):
            disclosure_request_approve(actor=legal2, request=req)
        req = disclosure_request_verify_authority(actor=legal1, request=req, channel="phone")
        req = disclosure_request_approve(actor=legal2, request=req)
        assert req.status == Status.AUTHORITY_VERIFIED
        req = disclosure_request_approve(actor=legal3, request=req)
        assert req.status == Status.APPROVED and req.awaiting_written_order
        disclosure_document_add(actor=legal1, request=req, title="order", content=b"%PDF-1.7 signed order",
                                is_written_order=True)
        assert not DisclosureRequest.objects.get(pk=req.pk).awaiting_written_order


class NarrowTests:
    def test_it_only_shrinks_and_drops_approvals(self, legal1, legal2, legal3, authority, alice):
        req = receive(legal1, authority, numbers=[ALICE_NUMBER, "+31699993678"])
        req = to_state(req, "approved", intake=legal1, approvers=[legal2, legal3])
        with pytest.raises(ApplicationError, match="only shrink"):
            disclosure_request_narrow(actor=legal1, request=req, window_start=req.window_start - timedelta(days=1))
        drop = req.targets.order_by("pk").last()
        old_hold = req.hold_id
        req = disclosure_request_narrow(actor=legal1, request=req, remove_target_ids=[drop.pk])
        assert req.status == Status.UNDER_REVIEW and req.approvals.count() == 0 and req.target_count == 1
        assert LegalHold.objects.get(pk=old_hold).released_at is not None
        assert len(LegalHold.objects.get(pk=req.hold_id).number_indexes) == 1


class RejectWithdrawTests:
    def test_rejected_and_withdrawn_requests_end_and_schedule_the_release(self, legal1, authority):
        r1 = disclosure_request_reject(actor=legal1, request=receive(legal1, authority), reason="no legal basis")
        r2 = disclosure_request_withdraw(actor=legal1, request=receive(legal1, authority), note="letter 2026/17")
        assert (r1.status, r1.outcome, r2.status, r2.outcome) == ("rejected", "rejected", "withdrawn", "withdrawn")
        assert r1.hold_release_due_at and r2.hold_release_due_at
        with pytest.raises(ApplicationError):
            disclosure_request_reject(actor=legal1, request=r1, reason="again")


class AuditTests:
    def test_every_transition_is_audited_without_numbers(self, legal1, legal2, legal3, authority, alice):
        req = to_state(receive(legal1, authority), "delivered", intake=legal1, approvers=[legal2, legal3])
        actions = set(AuditEntry.objects.filter(target_type="disclosure_request", target_id=str(req.pk))
                      .values_list("action", flat=True))
        assert {"disclosure.receive", "disclosure.verify_authority", "disclosure.start_review", "disclosure.approve",
                "disclosure.production_start", "disclosure.produce", "disclosure.output_check",
                "disclosure.deliver"} <= actions
        dump = " ".join(str(e.extra) + e.target_id + e.actor for e in AuditEntry.objects.all())
        assert ALICE_NUMBER not in dump and "205550101" not in dump
