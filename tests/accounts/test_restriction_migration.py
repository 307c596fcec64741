"""accounts migration 0018: restrictions in place before it get their row, so the DPO can see, tell and lift them;
an erased account's restriction (the law's, not the person's art. 18 one) gets none."""
from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.utils.timezone import now

from accounts.dsr.models import DataSubjectRequest, Restriction
from accounts.dsr.restriction import dsr_restriction_apply
from accounts.dsr.services import dsr_request_create
from accounts.models import User
from tests.factories import make_user

pytestmark = pytest.mark.django_db

MIGRATION = importlib.import_module("accounts.migrations.0018_restriction")


def _completed(user, when) -> DataSubjectRequest:
    req = dsr_request_create(user=user, kind=DataSubjectRequest.Kind.RESTRICTION, details="restrict it")
    DataSubjectRequest.objects.filter(pk=req.pk).update(status=DataSubjectRequest.Status.COMPLETED, completed_at=when)
    return req


def test_restricted_accounts_get_a_restriction_without_a_ground_linked_to_their_request(dpo):
    alice, bob, carol = make_user("alice"), make_user("bob"), make_user("carol")
    _completed(alice, now().replace(year=now().year - 1))  # an older restriction, lifted since
    newer = _completed(alice, now())
    for user in (alice, bob):
        dsr_restriction_apply(user=user, actor=dpo)
    User.objects.filter(pk=bob.pk).update(anonymised_at=now())  # erased: the law keeps it restricted
    Restriction.objects.all().delete()  # as before the migration

    MIGRATION.backfill(apps, None)

    row = Restriction.objects.get()
    alice.refresh_from_db()
    assert row.user_id == alice.pk and row.ground == "" and row.ends_on is None and row.lifted_at is None
    assert row.request_id == newer.pk and row.started_at == alice.restricted_at
    assert not Restriction.objects.filter(user_id__in=[bob.pk, carol.pk]).exists()
