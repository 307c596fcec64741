"""An erasure replayed after a restore (retention/backup/erasures.py) ends the number's assignment period at the
original erasure, not at the restore: the person no longer held the number from then on, and the CIOT history
must not show them holding it for the days between the erasure and the restore."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils.timezone import now

from accounts.dsr.models import DataSubjectRequest
from accounts.dsr.services import dsr_erasure_replay
from accounts.models import PhoneNumber, User

from .test_ciot import ALICE


@pytest.mark.django_db
def test_a_replayed_erasure_ends_the_held_numbers_period_at_the_original_erasure(alice):
    from retention.services import legal_hold_place

    legal_hold_place(reason="preservation_order", reference="TEST-HOLD-3", categories=["cdr_billed", "cdr_unbilled"],
                     numbers=[ALICE], window_start=now() - timedelta(days=60), expires_at=now() + timedelta(days=90))
    erased_at = now() - timedelta(days=3)  # erased three days ago; the backup restored today is older
    received_at = erased_at - timedelta(minutes=1)
    assert dsr_erasure_replay(account_id=alice.pk, account_created=alice.date_joined, request_id=9901,
                              received_at=received_at, erased_at=erased_at, backup="backup-test")
    kept = PhoneNumber.objects.get(user_id=alice.pk)  # the hold keeps the period ...
    assert kept.valid_to == erased_at  # ... ended when she was erased, not now
    erased = User.objects.get(pk=alice.pk)
    assert erased.anonymised_at == erased_at and erased.closed_at == erased_at
    assert DataSubjectRequest.objects.get(pk=9901).completed_at == erased_at
