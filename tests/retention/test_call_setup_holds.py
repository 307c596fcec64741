"""Click-to-call set-up records under a legal hold stay past their 30 days, as the calls do: a hold naming the
account, its own number or the number called (in its window) keeps them; after the hold they go."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils.timezone import now

from retention.models import Category
from retention.services import legal_hold_place, legal_hold_release
from traffic.models import CallSetup
from voipxs.models import AuditEntry
from voipxs.privacy.registry import purgers

pytestmark = pytest.mark.django_db


def _purge(**kwargs) -> dict:
    return purgers()["call_setup"](now=now(), **kwargs)


def _setup(user, *, age_days: int, number: str = "+31699993678") -> CallSetup:
    return CallSetup.objects.create(user=user, own_number=user.phone_numbers.get(), number=number, via="extension",
                                    backend="asterisk", created_at=now() - timedelta(days=age_days))


def _left() -> set[int]:
    return set(CallSetup.objects.values_list("pk", flat=True))


def test_a_hold_on_the_account_keeps_its_set_ups_until_it_ends(alice, bob, dpo):
    held, other = _setup(alice, age_days=40), _setup(bob, age_days=40)
    hold = legal_hold_place(reason="preservation_order", reference="order:31", account_ids=[alice.pk],
                            categories=[Category.CDR_BILLED, Category.CDR_UNBILLED], actor=dpo)
    assert _purge(dry_run=True)["deleted"] == 1
    result = _purge()
    assert result["deleted"] == 1 and result["kept"] == 1 and _left() == {held.pk}
    assert AuditEntry.objects.get(action="call_setup.purge").extra["kept"] == 1  # counts only
    legal_hold_release(hold=hold, actor=dpo)
    assert _purge()["deleted"] == 1 and _left() == set() and other.pk


def test_a_hold_on_a_number_keeps_set_ups_from_it_or_to_it_in_its_window(alice, bob, dpo):
    own = _setup(alice, age_days=40)  # alice's own number +31205550101 rings first
    called = _setup(bob, age_days=40, number="+31205550101")  # bob called it
    outside = _setup(alice, age_days=90)  # before the hold's window
    unrelated = _setup(bob, age_days=40)
    legal_hold_place(reason="dispute", reference="geschil-31", numbers=["+31205550101"],
                     categories=[Category.CDR_TECHNICAL], window_start=now() - timedelta(days=60), actor=dpo)
    _purge()
    assert _left() == {own.pk, called.pk} and outside.pk and unrelated.pk


def test_a_hold_only_on_invoices_keeps_no_set_up(alice, dpo):
    _setup(alice, age_days=40)
    legal_hold_place(reason="dispute", reference="court:31", account_ids=[alice.pk], categories=[Category.INVOICE],
                     actor=dpo)
    assert _purge()["deleted"] == 1 and _left() == set()


def test_an_erasure_under_a_hold_on_calls_leaves_the_set_ups_to_the_purge(alice, dpo):
    from retention.keeper import retention_keeper
    from voipxs.privacy.registry import sections

    recent = _setup(alice, age_days=3)
    eraser = next(s for s in sections() if s.name == "call_setups").eraser
    legal_hold_place(reason="preservation_order", reference="order:32", account_ids=[alice.pk],
                     categories=[Category.CDR_BILLED], actor=dpo)
    result = eraser(alice, retention_keeper(alice))
    assert result["deleted"] == 0 and result["kept"] == 1 and _left() == {recent.pk}
    assert eraser(alice, [])["deleted"] == 1  # no hold: they go with the erasure
