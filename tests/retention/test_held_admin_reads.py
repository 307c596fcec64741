"""LEGAL.md section 5 row 21 on the DPO's admin page of the calls a month drop kept (retention_heldcdr): each page
leaves an audit entry with the purpose LEGAL_OBLIGATION and the calls' ids; the administrator, who lacks that
purpose, is refused before anything is read, and the refusal is on record."""
from __future__ import annotations

import pytest
from django.utils.timezone import now

from retention.models import HeldCdr
from tests.factories import verified_client
from voipxs.models import AuditEntry
from voipxs.privacy.audit import actor_ref

pytestmark = pytest.mark.django_db


def held(account, cdr_id: int) -> HeldCdr:
    return HeldCdr.objects.create(cdr_id=cdr_id, started_at=now(), source_id=1, unique_id=f"h{cdr_id}", fingerprint="f",
                                  account_id=account.pk, direction="out", disposition="answered", src_enc=b"x",
                                  dst_enc=b"x", src_index="s", dst_index="d", rating="rated")


class HeldCdrAdminReadsTests:
    def test_the_dpos_list_and_a_copys_page_record_the_calls_ids_with_the_purpose(self, client, dpo, alice):
        copies = [held(alice, 9001), held(alice, 9002)]
        dpo_client = verified_client(client, dpo)
        assert dpo_client.get("/admin/retention/heldcdr/").status_code == 200
        assert dpo_client.get(f"/admin/retention/heldcdr/{copies[0].pk}/change/").status_code == 200
        listed = AuditEntry.objects.get(action="admin.held_cdr.list")
        assert (listed.actor, listed.purpose, listed.outcome) == (actor_ref(dpo), "legal_obligation", "ok")
        assert listed.extra == {"ids": [9002, 9001]}  # the calls' own ids as listed (newest copy first), nothing else
        one = AuditEntry.objects.get(action="admin.held_cdr.get")
        assert (one.purpose, one.target_type, one.target_id, one.extra) == (
            "legal_obligation", "cdr", "9001", {"found": True})

    def test_the_administrator_is_refused_before_reading_and_the_refusal_is_recorded(self, client, admin_user, alice):
        copy = held(alice, 9003)
        assert verified_client(client, admin_user).get(f"/admin/retention/heldcdr/{copy.pk}/change/").status_code == 403
        [entry] = AuditEntry.objects.filter(action__startswith="admin.held_cdr.")
        assert (entry.action, entry.purpose, entry.outcome) == ("admin.held_cdr.read", "legal_obligation", "refused")
