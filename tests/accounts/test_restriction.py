"""Restriction (GDPR art. 18): restricted records vanish from every selector but LEGAL_OBLIGATION and DISPUTE."""
from __future__ import annotations

import pytest
from django.http import Http404
from django.utils.timezone import now

from accounts.dsr.models import DataSubjectRequest
from accounts.dsr.services import dsr_request_complete, dsr_request_create, dsr_restriction_lift
from accounts.selectors import access_user, phone_number_holder_at
from retention.models import HeldCdr
from tests.factories import make_cdr, verified_client
from traffic.selectors.calls import cdr_list
from voipxs.privacy.purposes import Purpose


@pytest.mark.django_db
class RestrictionTests:
    def _restrict(self, user, dpo):
        req = dsr_request_create(user=user, kind=DataSubjectRequest.Kind.RESTRICTION, details="accuracy contested")
        return dsr_request_complete(request=req, answer="Restricted while we check.", actor=dpo,
                                    ground="legal_claims")

    def test_it_hides_restricted_calls_from_the_portal_but_not_from_legal_obligation(self, client, alice, bob, dpo, legal1):
        mine = make_cdr(account=alice, dst="+31699993678")
        make_cdr(account=bob, src="+31205550201")
        verified_client(client, alice)
        assert "+31699993678" in client.get("/calls/").content.decode()
        assert [r.id for r in cdr_list(actor=alice, purpose=Purpose.SELF_SERVICE).rows] == [mine.id]

        req = self._restrict(alice, dpo)

        assert req.status == DataSubjectRequest.Status.COMPLETED and req.outcome["restricted"]["traffic.cdr"] == 1
        assert cdr_list(actor=alice, purpose=Purpose.SELF_SERVICE).rows == []
        assert "+31699993678" not in client.get("/calls/").content.decode()
        assert [r.id for r in cdr_list(actor=legal1, purpose=Purpose.LEGAL_OBLIGATION, account=alice).rows] == [mine.id]
        assert len(cdr_list(actor=bob, purpose=Purpose.SELF_SERVICE).rows) == 1

    def test_it_restricts_the_calls_kept_in_the_hold_table_too(self, alice, bob, dpo):
        mine, bobs = _held(alice, 1), _held(bob, 2)

        req = self._restrict(alice, dpo)

        assert req.outcome["restricted"]["retention.heldcdr"] == 1
        assert HeldCdr.objects.get(pk=mine.pk).restricted_at is not None
        assert HeldCdr.objects.get(pk=bobs.pk).restricted_at is None

    def test_it_hides_the_restricted_profile_and_number_except_for_legal_purposes(self, alice, dpo, legal1, support):
        self._restrict(alice, dpo)
        with pytest.raises(Http404):
            access_user(actor=support, purpose=Purpose.SECURITY, user_id=alice.pk)
        assert access_user(actor=legal1, purpose=Purpose.LEGAL_OBLIGATION, user_id=alice.pk).pk == alice.pk
        assert phone_number_holder_at(actor=support, purpose=Purpose.SECURITY, number="+31205550101", at=now()) is None
        assert phone_number_holder_at(actor=legal1, purpose=Purpose.LEGAL_OBLIGATION, number="+31205550101",
                                      at=now()).user_id == alice.pk

    def test_it_shows_everything_again_when_lifted(self, alice, dpo, support):
        self._restrict(alice, dpo)
        dsr_restriction_lift(user=alice, actor=dpo)
        assert access_user(actor=support, purpose=Purpose.SECURITY, user_id=alice.pk).pk == alice.pk

    def test_lifting_it_clears_what_it_restricted_the_hold_tables_copies_too(self, alice, bob, dpo):
        # The copies are read beside the calls on PostgreSQL (tests/retention/test_held_visible.py shows
        # them on the pages); a copy still restricted after the lift would stay hidden from its owner.
        mine, bobs, call = _held(alice, 1), _held(bob, 2), make_cdr(account=alice, dst="+31699993678")
        self._restrict(alice, dpo)
        self._restrict(bob, dpo)

        outcome = dsr_restriction_lift(user=alice, actor=dpo)

        assert HeldCdr.objects.get(pk=mine.pk).restricted_at is None
        assert HeldCdr.objects.get(pk=bobs.pk).restricted_at is not None  # bob's restriction stands
        # Her call is hers to see again (her held copy's page view: test_held_visible, PostgreSQL: the copies
        # here carry no real ciphertext, so they are not read through the call list).
        HeldCdr.objects.filter(pk__in=[mine.pk, bobs.pk]).delete()
        assert [r.id for r in cdr_list(actor=alice, purpose=Purpose.SELF_SERVICE).rows] == [call.id]
        assert outcome["lifted"]["retention.heldcdr"] == 1 and outcome["lifted"]["traffic.cdr"] == 1


def _held(account, cdr_id: int) -> HeldCdr:
    return HeldCdr.objects.create(cdr_id=cdr_id, started_at=now(), source_id=1, unique_id=f"h{cdr_id}", fingerprint="f",
                                  account_id=account.pk, direction="out", disposition="answered", src_enc=b"x",
                                  dst_enc=b"x", src_index="s", dst_index="d", rating="rated")


@pytest.mark.django_db
class RestrictedPersonPagesTests:
    def test_a_restricted_person_is_told_why_their_pages_are_closed_and_where_their_requests_are(self, client, alice,
                                                                                                bob, dpo):
        req = dsr_request_create(user=alice, kind=DataSubjectRequest.Kind.RESTRICTION, details="accuracy contested")
        dsr_request_complete(request=req, answer="Restricted while we check.", actor=dpo, ground="legal_claims")
        verified_client(client, alice)
        response = client.get("/accounts/numbers/")
        assert response.status_code == 404
        page = response.content.decode()
        assert 'id="restricted-notice"' in page and "restricted at your request" in page
        assert 'href="/privacy-requests/"' in page
        assert client.get("/privacy-requests/").status_code == 200  # where the notice sends them is open to them

        verified_client(client, bob)  # a page that is not there, for someone not restricted: no such notice
        response = client.get("/accounts/no-such-page/")
        assert response.status_code == 404 and "restricted-notice" not in response.content.decode()
