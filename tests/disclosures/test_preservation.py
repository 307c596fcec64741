"""Preservation orders (Sv 126ni 90 days, EPOC-PR 60 days): the hold's expiry, the reminder before it,
one renewal under a recorded new order, the automatic (audited) release at the term, and conversion
into a production order. The clock is frozen by passing `now`."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from django.core import mail

from disclosures.models import DisclosureDocument, DisclosureRequest, LegalBasis, Outcome, Status
from disclosures.selectors import disclosure_deadlines
from disclosures.services.intake import disclosure_request_receive
from disclosures.services.jobs import disclosure_deadlines_escalate
from disclosures.services.preservation import (
    disclosure_preservation_convert,
    disclosure_preservation_renew,
    disclosure_preservations_expire,
    disclosure_preservations_remind,
)
from retention.models import LegalHold
from retention.services import legal_holds_expire
from voipxs.exceptions import ApplicationError
from voipxs.models import AuditEntry

from .conftest import ALICE_NUMBER, to_state

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 9, 1, 9, 0, tzinfo=timezone.utc)
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
ORDER = b"%PDF-1.7 signed production order"


def preserve(actor, authority, *, basis=LegalBasis.SV_126NI, moment=T0, reference="PRES-1"):
    return disclosure_request_receive(
        actor=actor, authority=authority, reference=reference, legal_basis=basis, categories=["traffic_data"],
        window_start=moment - 60 * DAY, window_end=moment, numbers=[ALICE_NUMBER], now=moment)


def _hold(req) -> LegalHold:
    return LegalHold.objects.get(pk=DisclosureRequest.objects.get(pk=req.pk).hold_id)


def _actions(req) -> list[str]:
    return list(AuditEntry.objects.filter(target_type="disclosure_request", target_id=str(req.pk))
                .order_by("pk").values_list("action", flat=True))


class ExpiryTests:
    @pytest.mark.parametrize("basis, days", [(LegalBasis.SV_126NI, 90), (LegalBasis.EU_PRESERVATION, 60)])
    def test_the_hold_ends_at_the_basis_term(self, legal1, authority, basis, days):
        req = preserve(legal1, authority, basis=basis)
        hold = _hold(req)
        assert req.preserve_until == hold.expires_at == T0 + days * DAY
        assert req.deadline == req.preserve_until
        assert hold.reason == LegalHold.Reason.PRESERVATION_ORDER
        assert hold.is_active(T0 + days * DAY - timedelta(seconds=1))
        assert not hold.is_active(T0 + days * DAY)

    def test_at_the_term_the_hold_is_released_and_the_request_closed_audited(self, legal1, legal2, legal3, authority):
        req = to_state(preserve(legal1, authority), "approved", intake=legal1, approvers=[legal2, legal3])
        assert disclosure_preservations_expire(now=T0 + 90 * DAY - timedelta(seconds=1)) == 0
        assert _hold(req).released_at is None
        assert disclosure_preservations_expire(now=T0 + 91 * DAY) == 1
        req = DisclosureRequest.objects.get(pk=req.pk)
        hold = _hold(req)
        assert (req.status, req.outcome, req.closed_at, req.hold_released_at) == (
            Status.CLOSED, Outcome.PRESERVED, T0 + 90 * DAY, T0 + 90 * DAY)
        assert (hold.released_at, hold.release_reason) == (T0 + 90 * DAY, LegalHold.Release.EXPIRED)
        assert "disclosure.preservation_expire" in _actions(req)
        assert AuditEntry.objects.filter(action="retention.hold_release", target_id=str(hold.pk)).exists()
        assert disclosure_preservations_expire(now=T0 + 92 * DAY) == 0

    def test_the_retention_job_records_the_end_of_every_expired_hold(self, legal1, authority):
        req = preserve(legal1, authority, basis=LegalBasis.EU_PRESERVATION)
        assert legal_holds_expire(now=T0 + 59 * DAY) == []
        assert legal_holds_expire(now=T0 + 60 * DAY) == [req.hold_id]
        hold = _hold(req)
        assert (hold.released_at, hold.release_reason) == (T0 + 60 * DAY, "expired")
        assert AuditEntry.objects.filter(action="retention.hold_expire", target_id=str(hold.pk)).count() == 1
        # The request's own job then closes it without releasing twice.
        assert disclosure_preservations_expire(now=T0 + 60 * DAY) == 1
        assert DisclosureRequest.objects.get(pk=req.pk).status == Status.CLOSED


class ReminderTests:
    def test_officers_are_reminded_seven_days_before_the_term_once(self, legal1, authority, settings):
        settings.DISCLOSURE_PRESERVATION_REMINDER_DAYS = 7
        req = preserve(legal1, authority)
        mail.outbox.clear()
        assert disclosure_preservations_remind(now=T0 + 83 * DAY - timedelta(minutes=1)) == 0
        assert disclosure_preservations_remind(now=T0 + 83 * DAY) == 1
        assert disclosure_preservations_remind(now=T0 + 84 * DAY) == 0
        assert len(mail.outbox) == 1 and f"#{req.pk}" in mail.outbox[0].body
        assert ALICE_NUMBER not in mail.outbox[0].body and legal1.email in mail.outbox[0].to
        assert disclosure_preservations_remind(now=T0 + 90 * DAY) == 0  # ended: nothing to remind of


class RenewalTests:
    @pytest.mark.parametrize("basis, until", [(LegalBasis.SV_126NI, 180), (LegalBasis.EU_PRESERVATION, 90)])
    def test_one_renewal_under_a_recorded_new_order(self, legal1, legal2, authority, basis, until):
        req = preserve(legal1, authority, basis=basis)
        disclosure_preservations_remind(now=T0 + 55 * DAY)
        req = disclosure_preservation_renew(actor=legal2, request=req, order_reference="OvJ-2026-0042",
                                            now=T0 + 58 * DAY)
        hold = _hold(req)
        assert req.preserve_until == hold.expires_at == T0 + until * DAY
        assert (req.renewal_reference, hold.renewal_reference, req.renewed_by) == ("OvJ-2026-0042", "OvJ-2026-0042", legal2)
        assert req.preservation_reminded_at is None  # reminded again before the new term
        entry = AuditEntry.objects.get(action="disclosure.preservation_renew", target_id=str(req.pk))
        assert entry.extra["order"] == "OvJ-2026-0042"
        with pytest.raises(ApplicationError, match="renewed once"):
            disclosure_preservation_renew(actor=legal2, request=req, order_reference="OvJ-3", now=T0 + 59 * DAY)
        assert _hold(req).expires_at == T0 + until * DAY

    def test_a_renewed_preservation_is_not_shown_overdue_nor_mailed_at_its_first_term(self, legal1, legal2,
                                                                                        authority):
        # The dashboard's "Open requests by due time" read the first term (90 days) after a renewal to 180: the
        # renewed order was listed "overdue by 10 days" beside "kept until" day 180, and mailed as due at day 89.
        req = preserve(legal1, authority)
        req = disclosure_preservation_renew(actor=legal2, request=req, order_reference="OvJ-2026-0042",
                                            now=T0 + 58 * DAY)
        row = next(r for r in disclosure_deadlines(actor=legal1, now=T0 + 100 * DAY) if r["request"].pk == req.pk)
        assert not row["overdue"] and not row["soon"]
        assert req.deadline == req.preserve_until == T0 + 180 * DAY
        mail.outbox.clear()
        assert disclosure_deadlines_escalate(now=T0 + 89 * DAY + timedelta(hours=12)) == 0
        assert disclosure_deadlines_escalate(now=T0 + 179 * DAY + timedelta(hours=12)) == 1  # the new term's

    def test_a_renewal_after_the_deadline_mail_is_mailed_again_before_the_new_term(self, legal1, legal2, authority):
        req = preserve(legal1, authority)
        assert disclosure_deadlines_escalate(now=T0 + 89 * DAY + timedelta(hours=12)) == 1
        disclosure_preservation_renew(actor=legal2, request=req, order_reference="OvJ-8", now=T0 + 89 * DAY + 13 * HOUR)
        assert disclosure_deadlines_escalate(now=T0 + 179 * DAY + timedelta(hours=12)) == 1

    def test_a_renewal_keeps_a_deadline_the_authority_set(self, legal1, legal2, authority):
        req = disclosure_request_receive(
            actor=legal1, authority=authority, reference="PRES-D", legal_basis=LegalBasis.SV_126NI,
            categories=["traffic_data"], window_start=T0 - 60 * DAY, window_end=T0, numbers=[ALICE_NUMBER],
            deadline=T0 + 10 * DAY, now=T0)
        req = disclosure_preservation_renew(actor=legal2, request=req, order_reference="OvJ-7", now=T0 + 5 * DAY)
        assert req.deadline == T0 + 10 * DAY

    def test_a_renewal_needs_the_new_order_s_reference_and_a_running_preservation(self, legal1, authority):
        req = preserve(legal1, authority)
        with pytest.raises(ApplicationError) as exc:
            disclosure_preservation_renew(actor=legal1, request=req, order_reference=" ", now=T0 + DAY)
        assert exc.value.extra["field"] == "order_reference"
        with pytest.raises(ApplicationError, match="has ended"):
            disclosure_preservation_renew(actor=legal1, request=req, order_reference="OvJ-9", now=T0 + 90 * DAY)

    def test_a_production_request_cannot_be_renewed(self, legal1, authority):
        req = disclosure_request_receive(
            actor=legal1, authority=authority, reference="P-1", legal_basis=LegalBasis.SV_126N,
            categories=["traffic_data"], window_start=T0 - DAY, window_end=T0, deadline=T0 + DAY,
            numbers=[ALICE_NUMBER], now=T0)
        with pytest.raises(ApplicationError, match="Only a preservation order"):
            disclosure_preservation_renew(actor=legal1, request=req, order_reference="X-1", now=T0)


class ConversionTests:
    def test_it_becomes_a_new_production_request_on_the_same_scope_without_a_gap(self, legal1, legal2, legal3, authority):
        req = to_state(preserve(legal1, authority), "approved", intake=legal1, approvers=[legal2, legal3])
        old_hold = req.hold_id
        req = disclosure_preservation_convert(actor=legal2, request=req, legal_basis=LegalBasis.SV_126N,
                                              reference="PV-PROD-1", deadline=T0 + 40 * DAY, now=T0 + 30 * DAY,
                                              order_document=ORDER, order_document_title="vordering PV-PROD-1.pdf")
        new = req.converted_to
        assert (req.status, req.outcome) == (Status.CLOSED, Outcome.CONVERTED)
        assert (new.status, new.legal_basis, new.reference) == (Status.RECEIVED, "sv_126n", "PV-PROD-1")
        assert (new.window_start, new.window_end, new.categories) == (req.window_start, req.window_end, req.categories)
        assert [t.number for t in new.targets.all()] == [ALICE_NUMBER]
        released = LegalHold.objects.get(pk=old_hold)
        assert (released.release_reason, released.released_at) == ("converted", T0 + 30 * DAY)
        assert LegalHold.objects.get(pk=new.hold_id).is_active(T0 + 30 * DAY)
        assert new.preserve_until is None and new.verified_at is None  # its own callback, review, approvals
        assert new.converted_from == req
        order = new.documents.get()  # the production order, filed as the new request's written order
        assert (order.is_written_order, new.written_order_at, new.written_order_missing) == (True, T0 + 30 * DAY, False)

    def test_a_basis_that_refuses_the_preserved_categories_changes_nothing(self, legal1, authority):
        req = preserve(legal1, authority)
        with pytest.raises(ApplicationError) as exc:
            disclosure_preservation_convert(actor=legal1, request=req, legal_basis=LegalBasis.SV_126NA,
                                            reference="PV-2", deadline=T0 + 5 * DAY, now=T0 + DAY,
                                            order_document=ORDER)
        assert exc.value.extra["field"] == "categories"
        with pytest.raises(ApplicationError, match="production basis"):
            disclosure_preservation_convert(actor=legal1, request=req, legal_basis=LegalBasis.EU_PRESERVATION,
                                            reference="PV-3", now=T0 + DAY, order_document=ORDER)
        assert DisclosureRequest.objects.count() == 1
        assert _hold(req).released_at is None
        assert DisclosureDocument.objects.count() == 0
