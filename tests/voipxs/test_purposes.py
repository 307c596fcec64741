from __future__ import annotations

import dataclasses

import pytest
from django.core.exceptions import PermissionDenied
from django.db import transaction

from accounts.selectors import access_user, phone_number_holder_at, phone_number_list
from voipxs.privacy.audit import actor_ref
from voipxs.models import AuditEntry
from voipxs.privacy.purposes import PURPOSES, ROLE_PURPOSES, Purpose, PurposeInfo, Role, SystemActor, purposes_of, require_purpose


class PurposeRegistryTests:
    def test_it_describes_every_purpose_completely(self):
        for purpose in Purpose:
            info = PURPOSES[purpose]
            for f in dataclasses.fields(PurposeInfo):
                assert getattr(info, f.name), f"{purpose} lacks {f.name}"

    def test_it_grants_every_role_at_least_one_purpose(self):
        assert set(ROLE_PURPOSES) == set(Role.values)
        assert all(ROLE_PURPOSES[r] for r in Role.values)

    def test_it_never_lets_a_customer_process_for_law_enforcement(self):
        assert Purpose.LEGAL_OBLIGATION not in ROLE_PURPOSES[Role.CUSTOMER]
        assert Purpose.LEGAL_OBLIGATION not in ROLE_PURPOSES[Role.CONTRACTOR_ADMIN]


@pytest.mark.django_db
class RequirePurposeTests:
    def test_it_refuses_and_audits_a_purpose_the_actor_lacks(self, alice):
        with pytest.raises(PermissionDenied):
            require_purpose(actor=alice, purpose=Purpose.LEGAL_OBLIGATION, action="calls.list",
                            target_type="user", target_id=alice.pk)
        entry = AuditEntry.objects.get(action="calls.list")
        assert entry.outcome == "refused"
        assert entry.actor == actor_ref(alice)
        assert entry.purpose == Purpose.LEGAL_OBLIGATION

    def test_it_records_granted_access_with_pseudonyms_only(self, alice):
        phone_number_list(actor=alice, purpose=Purpose.SELF_SERVICE, user=alice)
        entry = AuditEntry.objects.filter(action="user.get").latest("id")
        assert entry.outcome == "ok"
        assert entry.target_id != str(alice.pk) and entry.target_id.startswith("u_")
        assert "alice" not in str(entry.__dict__)

    def test_it_refuses_an_unknown_purpose(self, alice):
        with pytest.raises(PermissionDenied):
            require_purpose(actor=alice, purpose="marketing", action="x")

    def test_a_system_actor_has_only_its_own_purposes(self):
        job = SystemActor("invoice-run", frozenset({Purpose.BILLING}))
        assert purposes_of(job) == {Purpose.BILLING}
        with pytest.raises(PermissionDenied):
            require_purpose(actor=job, purpose=Purpose.LEGAL_OBLIGATION, action="x")


@pytest.mark.django_db
class AccountSelectorTests:
    def test_a_customer_cannot_reach_another_customers_profile(self, alice, bob):
        from django.http import Http404

        with pytest.raises(Http404):
            access_user(actor=alice, purpose=Purpose.SELF_SERVICE, user_id=bob.pk)

    def test_a_contractor_admin_sees_own_users_but_not_others(self, acme_admin, bob, mallory):
        from django.http import Http404

        assert access_user(actor=acme_admin, purpose=Purpose.CONTRACTOR_INFORMATION, user_id=bob.pk) == bob
        with pytest.raises(Http404):
            access_user(actor=acme_admin, purpose=Purpose.CONTRACTOR_INFORMATION, user_id=mallory.pk)

    def test_it_answers_who_held_a_number_at_a_moment(self, alice, bob, legal1):
        from datetime import timedelta

        from django.utils.timezone import now

        from accounts.services.numbers import phone_number_assign, phone_number_release

        moved = alice.phone_numbers.get()
        phone_number_release(phone=moved, at=now() - timedelta(days=10))
        phone_number_assign(user=bob, number="020 555 0101", valid_from=now() - timedelta(days=5))
        holder_then = phone_number_holder_at(actor=legal1, purpose=Purpose.LEGAL_OBLIGATION,
                                             number="+31205550101", at=now() - timedelta(days=20))
        holder_now = phone_number_holder_at(actor=legal1, purpose=Purpose.LEGAL_OBLIGATION,
                                            number="0205550101", at=now())
        gap = phone_number_holder_at(actor=legal1, purpose=Purpose.LEGAL_OBLIGATION,
                                     number="+31205550101", at=now() - timedelta(days=7))
        assert holder_then.user == alice and holder_now.user == bob and gap is None

    def test_it_refuses_overlapping_holders_of_one_number(self, alice, bob):
        from voipxs.exceptions import ApplicationError

        from accounts.services.numbers import NUMBER_ALREADY_HELD, phone_number_assign

        with pytest.raises(ApplicationError, match=NUMBER_ALREADY_HELD), transaction.atomic():
            phone_number_assign(user=bob, number="+31205550101")


@pytest.mark.django_db
class DeferredRefusalAuditTests:
    def test_a_refused_api_read_is_audited_although_the_request_rolled_back(self, client, alice):
        from django.urls import path
        from rest_framework.response import Response
        from rest_framework.views import APIView

        client.force_login(alice)
        before = AuditEntry.objects.filter(outcome="refused").count()
        response = client.get("/api/v1/me/", HTTP_ACCEPT="application/json")
        assert response.status_code == 200
        # A purpose alice lacks, through a real request: the view raises, the request rolls back,
        # and the middleware still writes the refusal afterwards.
        from django.test import override_settings

        class ForbiddenApi(APIView):
            def get(self, request):
                require_purpose(actor=request.user, purpose=Purpose.LEGAL_OBLIGATION, action="probe.forbidden")
                return Response({})

        urlpatterns = [path("probe/", ForbiddenApi.as_view())]
        with override_settings(ROOT_URLCONF=type("U", (), {"urlpatterns": urlpatterns})):
            assert client.get("/probe/").status_code == 403
        assert AuditEntry.objects.filter(outcome="refused", action="probe.forbidden").count() == 1
        assert AuditEntry.objects.filter(outcome="refused").count() == before + 1


@pytest.mark.django_db
class MarketingTests:
    """LEGAL.md row 4: no marketing or value-added use of traffic data (Tw 11.5(3)): the call service itself refuses
    the purpose, for a customer and for every staff role, and the refusal is in the audit log with its purpose."""

    @pytest.mark.parametrize("who", ["alice", "billing_staff", "dpo", "admin_user"])
    def test_the_call_service_refuses_marketing_and_audits_the_refusal(self, who, request):
        from traffic.selectors.calls import cdr_list
        from voipxs.privacy.models import AuditEntry

        actor = request.getfixturevalue(who)
        with pytest.raises(PermissionDenied):
            cdr_list(actor=actor, purpose="marketing")
        entry = AuditEntry.objects.get(action="cdr.list")
        assert entry.outcome == AuditEntry.Outcome.REFUSED and entry.purpose == "marketing"
