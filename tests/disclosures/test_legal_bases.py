"""The legal-basis table (disclosures/bases.py): categories and future reach per basis, the deadlines
it sets (EPOC 10 days, 8 hours in an emergency) with their escalation, and a property test that no
production ever covers more than its basis allows. The clock is frozen by passing `now`."""
from __future__ import annotations

import itertools
import json
from datetime import datetime, timedelta, timezone

import pytest
from dateutil.relativedelta import relativedelta
from django.core import mail
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from disclosures.bases import BASES, PRESERVATION_BASES
from disclosures.models import DisclosureRequest, LegalBasis, Status
from disclosures.production import ScopeViolation, build_package
from disclosures.services.deadlines import disclosure_sla_escalate
from disclosures.services.intake import REQUEST_BASIS_REFUSES, disclosure_request_receive
from tests.factories import make_cdr
from voipxs.exceptions import ApplicationError

from .conftest import ALICE_NUMBER, order_file, receive, to_state

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 9, 1, 9, 0, tzinfo=timezone.utc)


def _receive_at(actor, authority, moment, *, basis, categories=("traffic_data",), start=None, end=None, **kw):
    if basis != LegalBasis.EU_PRODUCTION:
        kw.setdefault("deadline", moment + timedelta(days=3))  # the authority's; an EPOC's is the regulation's
    req = disclosure_request_receive(
        actor=actor, authority=authority, reference=f"R-{DisclosureRequest.objects.count() + 1}", legal_basis=basis,
        categories=list(categories), window_start=start or moment - timedelta(days=30), window_end=end or moment,
        numbers=[ALICE_NUMBER], now=moment, **kw)
    return order_file(actor, req, now=moment) if req.written_order_missing else req


class TableTests:
    def test_every_basis_has_a_row_and_the_identifying_ones_allow_user_data_only(self):
        assert set(BASES) == set(LegalBasis.values)
        for code in (LegalBasis.SV_126NA, LegalBasis.SV_126UA, LegalBasis.SV_126ZI):
            assert BASES[code].categories == {"user_data"}
        for code in (LegalBasis.SV_126N, LegalBasis.SV_126U, LegalBasis.SV_126ZH, LegalBasis.EU_PRODUCTION,
                     LegalBasis.DISPUTE_RULING):
            assert BASES[code].categories == {"user_data", "traffic_data"}
        assert (BASES[LegalBasis.SV_126NI].preserve_days, BASES[LegalBasis.EU_PRESERVATION].preserve_days) == (90, 60)
        assert BASES[LegalBasis.DISPUTE_RULING].source.startswith("Tw art. 11.5(6)")

    @pytest.mark.parametrize("basis", [LegalBasis.SV_126NA, LegalBasis.SV_126UA, LegalBasis.SV_126ZI])
    def test_an_identifying_basis_refuses_traffic_data(self, legal1, authority, basis):
        with pytest.raises(ApplicationError) as exc:
            _receive_at(legal1, authority, T0, basis=basis, categories=["traffic_data"])
        assert exc.value.extra["field"] == "categories" and exc.value.message == REQUEST_BASIS_REFUSES
        assert DisclosureRequest.objects.count() == 0


class FutureLimitTests:
    @pytest.mark.parametrize("basis", [LegalBasis.SV_126N, LegalBasis.SV_126U, LegalBasis.SV_126ZH])
    def test_future_data_reaches_at_most_three_months_after_the_order(self, legal1, authority, basis):
        limit = T0 + relativedelta(months=3)
        with pytest.raises(ApplicationError) as exc:
            _receive_at(legal1, authority, T0, basis=basis, start=T0, end=limit + timedelta(seconds=1))
        assert exc.value.extra["field"] == "window_end" and "3 months" in exc.value.message
        req = _receive_at(legal1, authority, T0, basis=basis, start=T0, end=limit)
        assert req.window_end == limit == datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)

    def test_the_limit_counts_from_when_the_order_was_received(self, legal1, authority):
        end = T0 + relativedelta(months=4)
        with pytest.raises(ApplicationError):
            _receive_at(legal1, authority, T0, basis=LegalBasis.SV_126N, start=T0, end=end)
        later = T0 + relativedelta(months=1)
        assert _receive_at(legal1, authority, later, basis=LegalBasis.SV_126N, start=T0, end=end).window_end == end

    def test_a_court_order_has_no_statutory_future_limit(self, legal1, dispute_body):
        req = _receive_at(legal1, dispute_body, T0, basis=LegalBasis.COURT_ORDER, start=T0,
                          end=T0 + relativedelta(months=6), deadline=T0 + timedelta(days=5))
        assert req.window_end == T0 + relativedelta(months=6)


class EvidenceDeadlineTests:
    def test_an_epoc_is_due_in_ten_days_and_in_eight_hours_in_an_emergency(self, legal1, authority):
        plain = _receive_at(legal1, authority, T0, basis=LegalBasis.EU_PRODUCTION)
        urgent = _receive_at(legal1, authority, T0, basis=LegalBasis.EU_PRODUCTION, emergency=True)
        assert plain.deadline == T0 + timedelta(days=10)
        assert urgent.deadline == T0 + timedelta(hours=8)
        assert urgent.written_order_due_at == T0 + timedelta(days=3)

    def test_the_authority_may_ask_sooner_than_the_regulation_but_never_later(self, legal1, authority):
        sooner = _receive_at(legal1, authority, T0, basis=LegalBasis.EU_PRODUCTION, deadline=T0 + timedelta(days=2))
        later = _receive_at(legal1, authority, T0, basis=LegalBasis.EU_PRODUCTION, deadline=T0 + timedelta(days=30))
        assert (sooner.deadline, later.deadline) == (T0 + timedelta(days=2), T0 + timedelta(days=10))

    def test_an_sv_order_without_a_deadline_is_refused(self, legal1, authority):
        with pytest.raises(ApplicationError) as exc:
            _receive_at(legal1, authority, T0, basis=LegalBasis.SV_126N, deadline=None)
        assert exc.value.extra["field"] == "deadline"

    def test_the_emergency_epoc_escalates_at_half_eighty_and_a_hundred_percent_once_each(
            self, legal1, authority, legal2):
        req = _receive_at(legal1, authority, T0, basis=LegalBasis.EU_PRODUCTION, emergency=True)
        mail.outbox.clear()
        stages = []
        for minutes in (3 * 60 + 59, 4 * 60, 4 * 60 + 30, 6 * 60 + 24, 7 * 60, 8 * 60, 9 * 60):
            moved = disclosure_sla_escalate(now=T0 + timedelta(minutes=minutes))
            stages.append((minutes, moved, DisclosureRequest.objects.get(pk=req.pk).sla_stage))
        assert stages == [(239, 0, ""), (240, 1, "50"), (270, 0, "50"), (384, 1, "80"), (420, 0, "80"),
                          (480, 1, "100"), (540, 0, "100")]
        assert len(mail.outbox) == 3
        assert all(f"#{req.pk}" in m.body and ALICE_NUMBER not in m.body for m in mail.outbox)
        assert legal2.email in mail.outbox[0].to

    def test_the_ten_day_epoc_escalates_on_day_five_and_eight(self, legal1, authority):
        req = _receive_at(legal1, authority, T0, basis=LegalBasis.EU_PRODUCTION)
        assert disclosure_sla_escalate(now=T0 + timedelta(days=4, hours=23)) == 0
        assert disclosure_sla_escalate(now=T0 + timedelta(days=5)) == 1
        assert disclosure_sla_escalate(now=T0 + timedelta(days=8)) == 1
        assert DisclosureRequest.objects.get(pk=req.pk).sla_stage == "80"

    def test_a_delivered_epoc_is_not_escalated(self, legal1, legal2, legal3, authority, alice):
        moment = datetime.now(timezone.utc)
        req = to_state(_receive_at(legal1, authority, moment, basis=LegalBasis.EU_PRODUCTION), "delivered",
                       intake=legal1, approvers=[legal2, legal3])
        assert req.status == Status.DELIVERED
        assert disclosure_sla_escalate(now=req.received_at + timedelta(days=11)) == 0


class ProductionWithinBasisTests:
    def test_a_scope_changed_beyond_its_basis_after_intake_is_not_produced(self, legal1, legal2, legal3, authority, alice):
        req = to_state(receive(legal1, authority, basis=LegalBasis.SV_126NA, categories=["user_data"]), "approved",
                       intake=legal1, approvers=[legal2, legal3])
        DisclosureRequest.objects.filter(pk=req.pk).update(categories=["traffic_data", "user_data"],
                                                           status=Status.PRODUCING)
        with pytest.raises(ScopeViolation, match="beyond its legal basis"):
            build_package(request=DisclosureRequest.objects.get(pk=req.pk), actor=legal1)


_refs = itertools.count(1)
DAY = timedelta(days=1)


@st.composite
def _orders(draw):
    basis = draw(st.sampled_from(LegalBasis.values))
    categories = draw(st.lists(st.sampled_from(["user_data", "traffic_data"]), min_size=1, max_size=2, unique=True))
    start = draw(st.integers(min_value=-200, max_value=60))
    length = draw(st.integers(min_value=1, max_value=240))
    return basis, categories, start, length, draw(st.booleans())


class PropertyTests:
    @hsettings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                      HealthCheck.too_slow])
    @given(order=_orders())
    def test_no_production_ever_covers_more_than_its_basis_allows(self, order, legal1, legal2, legal3, authority,
                                                                  dispute_body, alice):
        basis, categories, start_days, length, emergency = order
        moment = datetime.now(timezone.utc).replace(microsecond=0)
        make_cdr(account=alice, src=ALICE_NUMBER, dst="+31699993678", started_at=moment - 2 * DAY)
        start = moment + start_days * DAY
        body = dispute_body if basis in (LegalBasis.COURT_ORDER, LegalBasis.DISPUTE_RULING) else authority
        try:
            req = disclosure_request_receive(
                actor=legal1, authority=body, reference=f"P-{next(_refs)}", legal_basis=basis, categories=categories,
                window_start=start, window_end=start + length * DAY, deadline=moment + 3 * DAY,
                numbers=[ALICE_NUMBER], emergency=emergency, now=moment)
        except ApplicationError as exc:
            assert exc.extra["field"] in ("categories", "window_end")
            return
        allowed = BASES[basis]
        limit = allowed.future_limit(req.received_at)
        assert set(req.categories) <= allowed.categories
        assert limit is None or req.window_end <= limit
        if basis in PRESERVATION_BASES:
            return
        if req.written_order_missing:  # filed at intake, as the officer does with an order that came in writing
            req = order_file(legal1, req, now=moment)
        req = to_state(req, "produced", intake=legal1, approvers=[legal2, legal3])
        assert req.status == Status.PRODUCED, req.production_error
        manifest = req.package.manifest
        assert set(manifest["scope"]["categories"]) <= allowed.categories
        assert ("subscribers.json" in manifest["files"]) == ("user_data" in req.categories)
        if "traffic_data" not in req.categories:
            assert manifest["record_count"] == 0
        assert json.loads(json.dumps(manifest))["legal_basis"] == basis
