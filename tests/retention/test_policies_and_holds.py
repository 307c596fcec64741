"""Policy versions (defaults from DESIGN.md, each change audited, the policy at any past date) and
legal holds (numbers only as blind indexes, release, bad input)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.utils.timezone import now

from retention.models import Category, LegalHold, RetentionPolicy
from retention.selectors import held_cdr_list, retention_policy_at, retention_policy_current_list
from retention.services import (HOLD_ALREADY_RELEASED, HOLD_BAD_CATEGORY, HOLD_BAD_EXPIRY, HOLD_NO_SCOPE,
                                POLICY_NO_CHANGE, legal_hold_place, legal_hold_release, retention_policy_update)
from tests.retention.helpers import at
from voipxs.privacy.crypto import blind_index
from voipxs.exceptions import ApplicationError
from voipxs.models import AuditEntry


@pytest.mark.django_db
class RetentionPolicyTests:
    def test_it_is_seeded_with_the_design_defaults(self):
        policies = {p.category: p for p in retention_policy_current_list()}
        assert set(policies) == set(Category.values)
        assert (policies["cdr_unbilled"].period_months, policies["cdr_technical"].period_days) == (3, 30)
        assert policies["invoice"].period_months == 84 and policies["invoice"].legal_basis == "AWR art. 52"
        assert policies["disclosure_package"].period_days == 90 and policies["dsr_export"].period_days == 7
        assert policies["audit_log"].period_months == 60
        assert policies["closed_account"].action == RetentionPolicy.Action.ANONYMISE
        assert "dispute window" in policies["cdr_billed"].trigger

    def test_it_adds_a_version_and_shows_the_policy_in_force_at_any_past_date(self, dpo):
        retention_policy_update(category="cdr_unbilled", actor=dpo, period_months=2, change_reason="r",
                                now=at(2026, 5, 1))
        assert retention_policy_at(category="cdr_unbilled", at=at(2026, 4, 30)).period_months == 3
        assert retention_policy_at(category="cdr_unbilled", at=at(2026, 5, 2)).period_months == 2
        entry = AuditEntry.objects.get(action="retention.policy_change")
        assert entry.extra["version"] == 2 and entry.extra["changed"] == {"period_months": "2"}

    def test_it_refuses_a_change_that_changes_nothing(self, dpo):
        with pytest.raises(ApplicationError, match=POLICY_NO_CHANGE):
            retention_policy_update(category="cdr_unbilled", actor=dpo, period_months=3)

    def test_it_refuses_an_action_the_purge_cannot_carry_out(self, dpo):
        # A month drop cannot "anonymise" calls, and a closed account's row must stay for its invoices:
        # a policy that said otherwise would promise what the purge does not do.
        with pytest.raises(ApplicationError, match="can only delete") as refused:
            retention_policy_update(category="cdr_billed", actor=dpo, action="anonymise", change_reason="r")
        assert refused.value.extra["field"] == "action"
        with pytest.raises(ApplicationError, match="can only anonymise"):
            retention_policy_update(category="closed_account", actor=dpo, action="delete", change_reason="r")
        assert RetentionPolicy.objects.filter(category__in=["cdr_billed", "closed_account"], version=2).count() == 0
        assert not AuditEntry.objects.filter(action="retention.policy_change").exists()

    def test_the_purge_uses_the_policy_in_force(self, dpo, alice):
        from retention.purge.run import purge_expired
        from tests.factories import make_cdr
        from traffic.models import Cdr

        cdr = make_cdr(account=alice, started_at=at(2026, 3, 10), rating="free")
        retention_policy_update(category="cdr_unbilled", actor=dpo, period_months=6, now=at(2026, 3, 1))
        purge_expired(now=at(2026, 6, 11))
        assert Cdr.objects.filter(id=cdr.id).exists()  # 6 months now, not 3


@pytest.mark.django_db
class LegalHoldTests:
    def test_it_stores_numbers_only_as_blind_indexes_and_audits_without_them(self, dpo):
        hold = legal_hold_place(reason="disclosure_request", reference="disclosure:12", owner="disclosure", numbers=["0205550101"],
                                categories=["cdr_billed"], actor=dpo)
        assert hold.number_indexes == [blind_index("+31205550101", domain="phone")]
        entry = AuditEntry.objects.get(action="retention.hold_place")
        assert "5550101" not in str(entry.extra) and entry.extra["numbers"] == 1

    def test_it_refuses_a_hold_without_scope_category_or_with_a_bad_expiry(self, dpo):
        with pytest.raises(ApplicationError, match=HOLD_NO_SCOPE):
            legal_hold_place(reason="dispute", reference="d:1", categories=["cdr_billed"])
        with pytest.raises(ApplicationError, match=HOLD_BAD_CATEGORY):
            legal_hold_place(reason="dispute", reference="d:1", account_ids=[dpo.pk], categories=["everything"])
        with pytest.raises(ApplicationError, match=HOLD_BAD_EXPIRY):
            legal_hold_place(reason="dispute", reference="d:1", account_ids=[dpo.pk], categories=["cdr_billed"],
                             starts_at=now(), expires_at=now() - timedelta(days=1))
        assert not LegalHold.objects.exists()

    def test_it_releases_once(self, dpo):
        hold = legal_hold_place(reason="dispute", reference="d:1", account_ids=[dpo.pk], categories=["cdr_billed"])
        legal_hold_release(hold=hold, actor=dpo)
        assert not LegalHold.objects.get(pk=hold.pk).is_active()
        with pytest.raises(ApplicationError, match=HOLD_ALREADY_RELEASED):
            legal_hold_release(hold=hold, actor=dpo)


@pytest.mark.django_db
class HeldCdrSelectorTests:
    def test_it_refuses_purposes_other_than_legal_obligation_and_dispute(self, alice, support, legal1):
        with pytest.raises(PermissionDenied):
            held_cdr_list(actor=alice, purpose="self_service", number="+31205550101")
        with pytest.raises(PermissionDenied):
            held_cdr_list(actor=support, purpose="legal_obligation")  # support lacks the purpose
        assert held_cdr_list(actor=legal1, purpose="dispute") == []


@pytest.mark.django_db
class OwnedHoldTests:
    def test_the_dpo_cannot_release_a_disclosures_hold(self, dpo, client):
        from retention.services import HOLD_OWNED, HOLD_REFERENCE_RESERVED
        from tests.factories import verified_client

        hold = legal_hold_place(reason="preservation_order", reference="disclosure:7", owner="disclosure",
                                account_ids=[dpo.pk], categories=["cdr_billed"])
        with pytest.raises(ApplicationError, match=HOLD_OWNED):
            legal_hold_release(hold=hold, actor=dpo)
        response = verified_client(client, dpo).post(f"/api/v1/staff/retention/holds/{hold.pk}/release/")
        assert response.status_code in (400, 404) and LegalHold.objects.get(pk=hold.pk).is_active()
        with pytest.raises(ApplicationError, match="reserved"):
            legal_hold_place(reason="dispute", reference="disclosure:8", account_ids=[dpo.pk],
                             categories=["cdr_billed"])
        legal_hold_release(hold=hold, actor=dpo, owner="disclosure")
        assert not LegalHold.objects.get(pk=hold.pk).is_active()
