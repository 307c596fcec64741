from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils.timezone import now

from accounts.models import PhoneNumber
from disclosures.models import Package
from disclosures.services.jobs import disclosure_holds_release_due
from disclosures.services.transitions import disclosure_request_withdraw
from retention.purge.run import purge_expired
from traffic.models import Cdr
from tests.factories import make_cdr

from .conftest import ALICE_NUMBER, OTHER, receive, to_state

pytestmark = pytest.mark.django_db


class HoldDuringPurgeTests:
    def test_purging_while_a_request_is_open_leaves_its_scope_in_place(self, legal1, authority, alice):
        old = now() - timedelta(days=200)
        PhoneNumber.objects.filter(user=alice).update(valid_from=old - timedelta(days=30))
        in_scope = make_cdr(account=alice, src=ALICE_NUMBER, dst=OTHER, started_at=old, rating="free")
        out_of_scope = make_cdr(src="+31205551111", dst=OTHER, started_at=old, rating="free")
        req = receive(legal1, authority, window=(old - timedelta(days=1), old + timedelta(days=1)))
        assert req.is_open
        purge_expired()
        assert Cdr.objects.filter(pk=in_scope.pk).exists() or _held(in_scope.pk)
        assert not Cdr.objects.filter(pk=out_of_scope.pk).exists()

    def test_once_the_hold_is_released_the_data_goes_at_the_next_purge(self, legal1, authority, alice):
        old = now() - timedelta(days=200)
        PhoneNumber.objects.filter(user=alice).update(valid_from=old - timedelta(days=30))
        cdr = make_cdr(account=alice, src=ALICE_NUMBER, dst=OTHER, started_at=old, rating="free")
        req = receive(legal1, authority, window=(old - timedelta(days=1), old + timedelta(days=1)))
        req = disclosure_request_withdraw(actor=legal1, request=req, note="by phone, the officer in charge")
        disclosure_holds_release_due(now=now() + timedelta(days=365))
        purge_expired()
        assert not Cdr.objects.filter(pk=cdr.pk).exists() and not _held(cdr.pk)


def _held(cdr_id: int) -> bool:
    from retention.models import HeldCdr

    return HeldCdr.objects.filter(cdr_id=cdr_id).exists()


class PackageRetentionTests:
    def test_delivered_packages_are_deleted_after_their_retention_through_the_purge(self, legal1, legal2, legal3, authority, alice):
        make_cdr(account=alice, src=ALICE_NUMBER, dst=OTHER, started_at=now() - timedelta(days=1))
        req = to_state(receive(legal1, authority), "delivered", intake=legal1, approvers=[legal2, legal3])
        package = Package.objects.get(request=req)
        assert package.delete_after == req.delivered_at + timedelta(days=90)
        purge_expired(now=now() + timedelta(days=89))
        assert Package.objects.get(pk=package.pk).files.count() == 4
        receipt = purge_expired(now=now() + timedelta(days=91))
        package.refresh_from_db()
        assert package.state == "deleted" and package.files.count() == 0
        assert package.manifest["record_count"] == 1  # the accountability record stays
        assert any(r["category"] == "disclosure_package" and r["deleted"] == 1 for r in receipt["receipts"])

    @pytest.mark.parametrize("state", ["produced", "checked"])
    def test_the_package_of_a_request_withdrawn_after_production_goes_at_the_next_purge(
            self, legal1, legal2, legal3, authority, alice, state):
        # Retention started only at delivery: the package of a request the authority withdrew once it was built
        # kept its copy of the calls for good, with no date to go, long after the calls themselves were purged.
        make_cdr(account=alice, src=ALICE_NUMBER, dst=OTHER, started_at=now() - timedelta(days=1))
        req = to_state(receive(legal1, authority), state, intake=legal1, approvers=[legal2, legal3])
        req = disclosure_request_withdraw(actor=legal1, request=req, note="letter PV-W1 of the unit")
        purge_expired(now=now() + timedelta(days=1))
        package = Package.objects.get(request=req)
        assert package.state == "deleted" and package.files.count() == 0
        assert package.manifest["record_count"] == 1  # the record of what was built stays (hashes, counts)
