"""A kept call's technical identifiers (IP, user agent, SIP call-id) go once no hold on them is left, although the
call itself stays while another hold needs it: on PostgreSQL the month's copy in the hold table carried them on."""
from __future__ import annotations

import pytest

from retention.models import Category, HeldCdr
from retention.purge.run import purge_expired
from retention.services import legal_hold_place, legal_hold_release
from tests.factories import make_cdr
from tests.retention.helpers import at, surviving, technical_ids

pytestmark = pytest.mark.django_db


def _technical_left(cdr_id: int) -> bool:
    return bool(technical_ids([cdr_id])) or HeldCdr.objects.filter(cdr_id=cdr_id, technical_enc__isnull=False).exists()


def test_the_technical_identifiers_go_when_their_hold_ends_while_the_call_stays(alice, dpo):
    cdr = make_cdr(account=alice, started_at=at(2026, 3, 10), rating="free", technical={"ip": "192.0.2.44"})
    legal_hold_place(reason="preservation_order", reference="order:21", account_ids=[alice.pk],
                     categories=[Category.CDR_UNBILLED], starts_at=at(2026, 3, 1), actor=dpo)
    technical = legal_hold_place(reason="preservation_order", reference="order:22", account_ids=[alice.pk],
                                 categories=[Category.CDR_TECHNICAL], starts_at=at(2026, 3, 1), actor=dpo)
    purge_expired(now=at(2026, 8, 1))  # on PostgreSQL March goes whole: the call is copied with its identifiers
    assert surviving([cdr.id]) == {cdr.id} and _technical_left(cdr.id)

    legal_hold_release(hold=technical, actor=dpo, now=at(2026, 8, 1))
    receipt = purge_expired(now=at(2026, 8, 2))

    assert surviving([cdr.id]) == {cdr.id}  # the other hold still keeps the call
    assert not _technical_left(cdr.id)
    assert receipt is not None


def test_a_dry_run_counts_them_and_clears_nothing(alice, dpo):
    cdr = make_cdr(account=alice, started_at=at(2026, 3, 10), rating="free", technical={"ip": "192.0.2.45"})
    legal_hold_place(reason="preservation_order", reference="order:23", account_ids=[alice.pk],
                     categories=[Category.CDR_UNBILLED], starts_at=at(2026, 3, 1), actor=dpo)
    technical = legal_hold_place(reason="preservation_order", reference="order:24", account_ids=[alice.pk],
                                 categories=[Category.CDR_TECHNICAL], starts_at=at(2026, 3, 1), actor=dpo)
    purge_expired(now=at(2026, 8, 1))
    legal_hold_release(hold=technical, actor=dpo, now=at(2026, 8, 1))
    purge_expired(now=at(2026, 8, 2), dry_run=True)
    assert _technical_left(cdr.id)
