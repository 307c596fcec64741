"""LEGAL.md section 5 row 1: a SIP Call-ID names the caller's host (an IP address), technical data kept 30 days.
Ingest now stores such an id as its hash; calls stored before that still hold it in clear. The daily purge
rewrites those in place once the call is past the technical period, as ingest would now store them: a re-push
of the call is still recognised, its legs stay one call, and a call pushed again after the upgrade (stored
twice, once in clear and once hashed) is left once."""
from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils.timezone import now as tz_now

from retention.models import Category, HeldCdr, PurgeReceipt
from retention.purge.call_ids import CATEGORY
from retention.purge.run import purge_expired
from retention.services import legal_hold_place
from tests.factories import make_cdr
from tests.retention.helpers import make_invoice, surviving, technical_ids
from tests.retention.test_purge_ingested_identifiers import KAMAILIO_CALL_ID, STARTED, _kamailio_push
from tests.stored_values import columns_holding
from tests.traffic.test_push import URL, auth, push_json
from traffic.ingest.rows import stored_id
from traffic.models import Cdr
from traffic.partitions import partitioning_enabled
from voipxs.privacy.models import AuditEntry

pytestmark = pytest.mark.django_db

HASHED = stored_id(KAMAILIO_CALL_ID)
PUSHED_AT = STARTED + timedelta(seconds=1200)  # _kamailio_push's start


def _as_stored_before(cdr_id: int, **clear) -> None:
    """The row as ingest stored it before ids naming a host were hashed."""
    Cdr.objects.filter(id=cdr_id).update(**clear)


def _push_again(client, creds):
    return client.post(URL, data=json.dumps(_kamailio_push()).encode(), content_type="application/json",
                       **auth(creds))


@pytest.fixture
def legacy(client, alice):
    """alice's call pushed by Kamailio and stored with its Call-ID in clear; the push source's credentials."""
    response, creds = push_json(client, _kamailio_push())
    assert response.status_code == 201, response.content
    cdr = Cdr.objects.get()
    _as_stored_before(cdr.id, unique_id=KAMAILIO_CALL_ID)
    return cdr.id, creds


def _receipt(run: dict) -> dict:
    return next(r for r in run["receipts"] if r["category"] == CATEGORY)


class CallIdRewriteTests:
    def test_a_clear_call_id_is_hashed_after_the_period_and_a_re_push_still_finds_the_call(self, legacy, client):
        cdr_id, creds = legacy
        young = _receipt(purge_expired(now=STARTED + timedelta(days=29)))
        assert Cdr.objects.get(id=cdr_id).unique_id == KAMAILIO_CALL_ID  # within the period: left alone
        assert (young["anonymised"], young["deleted"]) == (0, 0)

        run = purge_expired(now=STARTED + timedelta(days=31))

        assert Cdr.objects.get(id=cdr_id).unique_id == HASHED
        assert (_receipt(run)["anonymised"], _receipt(run)["deleted"]) == (1, 0)
        assert columns_holding(KAMAILIO_CALL_ID, "192.0.2.44") == []  # receipts and audit hold counts only
        audit = AuditEntry.objects.filter(action="retention.purge").order_by("-id").first()
        assert audit.extra[f"{CATEGORY}_anonymised"] == 1
        assert _push_again(client, creds).status_code == 201  # the switch sends the call once more
        assert list(Cdr.objects.values_list("id", flat=True)) == [cdr_id]  # recognised: stored once

    def test_a_call_pushed_twice_across_the_upgrade_is_left_once_under_its_hash(self, legacy, client):
        cdr_id, creds = legacy
        assert _push_again(client, creds).status_code == 201
        twin = Cdr.objects.exclude(id=cdr_id).get()
        assert twin.unique_id == HASHED  # the same call twice: once in clear, once hashed

        run = purge_expired(now=STARTED + timedelta(days=31))

        assert list(Cdr.objects.values_list("id", "unique_id")) == [(cdr_id, HASHED)]  # the one stored first
        assert (_receipt(run)["anonymised"], _receipt(run)["deleted"]) == (1, 1)

    def test_of_a_call_stored_twice_the_one_an_invoice_refers_to_stays(self, legacy, client, alice):
        cdr_id, creds = legacy
        assert _push_again(client, creds).status_code == 201
        twin = Cdr.objects.exclude(id=cdr_id).get()
        invoice = make_invoice(account=alice, period=PUSHED_AT.date().replace(day=1), status="open")
        Cdr.objects.filter(id=twin.id).update(invoice=invoice)

        purge_expired(now=STARTED + timedelta(days=31))

        assert list(Cdr.objects.values_list("id", "unique_id", "invoice_id")) == [(twin.id, HASHED, invoice.id)]

    def test_of_a_call_stored_and_billed_twice_both_stay_and_no_host_is_left(self, legacy, client, alice):
        """Neither copy of a call billed twice may be deleted (an invoice refers to each): the clear one is hashed
        apart from its twin."""
        cdr_id, creds = legacy
        assert _push_again(client, creds).status_code == 201
        twin = Cdr.objects.exclude(id=cdr_id).get()
        first = make_invoice(account=alice, period=PUSHED_AT.date().replace(day=1), status="open")
        # the second copy came late and went on the next month's invoice, as a late call does
        next_month = (PUSHED_AT.date().replace(day=1) + timedelta(days=32)).replace(day=1)
        second = make_invoice(account=alice, period=next_month, status="open")
        Cdr.objects.filter(id=cdr_id).update(invoice=first)
        Cdr.objects.filter(id=twin.id).update(invoice=second)

        run = purge_expired(now=STARTED + timedelta(days=31))

        assert set(Cdr.objects.values_list("id", "unique_id", "invoice_id")) == {
            (cdr_id, f"{HASHED}-{cdr_id}", first.id), (twin.id, HASHED, second.id)}
        assert (_receipt(run)["anonymised"], _receipt(run)["deleted"]) == (1, 0)
        assert columns_holding(KAMAILIO_CALL_ID, "192.0.2.44") == []

    def test_the_legs_of_a_call_stay_one_call(self, alice):
        a_leg = make_cdr(account=alice, started_at=STARTED, unique_id="a-leg")
        b_leg = make_cdr(account=alice, started_at=STARTED + timedelta(seconds=2), unique_id="b-leg")
        _as_stored_before(a_leg.id, unique_id=KAMAILIO_CALL_ID)
        _as_stored_before(b_leg.id, unique_id="b7c1@pc33.atlanta.example", call_id=KAMAILIO_CALL_ID)
        other = make_cdr(account=alice, started_at=STARTED, unique_id="1777881600.42")  # an Asterisk id

        purge_expired(now=STARTED + timedelta(days=31))

        rows = dict(Cdr.objects.values_list("id", "call_id"))
        assert rows == {a_leg.id: "", b_leg.id: HASHED, other.id: ""}
        assert Cdr.objects.get(id=a_leg.id).unique_id == HASHED  # b's call is a's id, as ingest stores it
        assert Cdr.objects.get(id=b_leg.id).unique_id == stored_id("b7c1@pc33.atlanta.example")
        assert Cdr.objects.get(id=other.id).unique_id == "1777881600.42"

    def test_a_younger_call_keeps_its_id_until_its_own_period_ends(self, alice):
        old = make_cdr(account=alice, started_at=STARTED, unique_id="old")
        young = make_cdr(account=alice, started_at=STARTED + timedelta(days=10), unique_id="young")
        _as_stored_before(old.id, unique_id="o1@pc33.atlanta.example")
        _as_stored_before(young.id, unique_id="y1@192.0.2.2")
        v6 = make_cdr(account=alice, started_at=STARTED, unique_id="v6")
        _as_stored_before(v6.id, unique_id="2001:db8::7-1777881600")  # a Call-ID of an IPv6 host
        v4 = make_cdr(account=alice, started_at=STARTED, unique_id="v4")
        _as_stored_before(v4.id, unique_id="192.0.2.7-1777881600-5512")  # the address with a counter

        purge_expired(now=STARTED + timedelta(days=31))
        assert Cdr.objects.get(id=young.id).unique_id == "y1@192.0.2.2"
        assert Cdr.objects.get(id=old.id).unique_id == stored_id("o1@pc33.atlanta.example")
        assert Cdr.objects.get(id=v6.id).unique_id == stored_id("2001:db8::7-1777881600")
        assert Cdr.objects.get(id=v4.id).unique_id == stored_id("192.0.2.7-1777881600-5512")

        purge_expired(now=STARTED + timedelta(days=41))  # the next runs start where the last one stopped
        assert Cdr.objects.get(id=young.id).unique_id == stored_id("y1@192.0.2.2")

    def test_a_hold_on_technical_data_keeps_the_clear_id(self, legacy):
        cdr_id, _ = legacy
        legal_hold_place(reason="preservation_order", reference="PO-2026-11", categories=[Category.CDR_TECHNICAL],
                         account_ids=[Cdr.objects.get(id=cdr_id).account_id], starts_at=STARTED)
        purge_expired(now=STARTED + timedelta(days=31))
        assert technical_ids([cdr_id]) == {cdr_id}  # the hold keeps the technical row, and so the clear id
        assert Cdr.objects.get(id=cdr_id).unique_id == KAMAILIO_CALL_ID

    def test_the_command_previews_in_a_dry_run_and_then_rewrites(self, alice):
        cdr = make_cdr(account=alice, started_at=tz_now() - timedelta(days=40), unique_id="c1")
        _as_stored_before(cdr.id, unique_id=KAMAILIO_CALL_ID)

        call_command("purge_expired", "--dry-run", stdout=io.StringIO())
        assert Cdr.objects.get(id=cdr.id).unique_id == KAMAILIO_CALL_ID  # a preview changes nothing
        assert PurgeReceipt.objects.get(category=CATEGORY, dry_run=True).anonymised == 1

        call_command("purge_expired", "--yes", stdout=io.StringIO())
        assert Cdr.objects.get(id=cdr.id).unique_id == HASHED
        assert PurgeReceipt.objects.get(category=CATEGORY, dry_run=False).anonymised == 1

    def test_a_run_killed_in_a_batch_receipts_what_it_rewrote_and_the_next_run_finishes(self, alice):
        ids = [make_cdr(account=alice, started_at=STARTED + timedelta(minutes=i), unique_id=f"k{i}").id
               for i in range(3)]
        for i, cdr_id in enumerate(ids):
            _as_stored_before(cdr_id, unique_id=f"k{i}@192.0.2.9")
        batches = []

        def die_in_second_batch(step: str) -> None:
            batches.append(step)
            if batches.count(f"batch:{CATEGORY}") == 2:
                raise RuntimeError("worker killed")

        with pytest.raises(RuntimeError):
            purge_expired(now=STARTED + timedelta(days=31), chunk_size=2, fault=die_in_second_batch)
        hashed = Cdr.objects.filter(unique_id__startswith="ci:").count()
        assert hashed == 2 and PurgeReceipt.objects.get(category=CATEGORY).anonymised == 2

        purge_expired(now=STARTED + timedelta(days=31))
        assert Cdr.objects.filter(unique_id__startswith="ci:").count() == 3

    def test_a_kept_call_of_a_purged_month_is_hashed_where_it_is_kept(self, alice):
        period = STARTED.date().replace(day=1)
        invoice = make_invoice(account=alice, period=period, status="open", window_ends=period + timedelta(days=60))
        cdr = make_cdr(account=alice, started_at=STARTED, unique_id="h1", invoice=invoice)  # unpaid: kept
        _as_stored_before(cdr.id, unique_id=KAMAILIO_CALL_ID)

        purge_expired(now=STARTED + timedelta(days=160))  # PostgreSQL drops the month, keeping the call aside

        assert surviving([cdr.id]) == {cdr.id}
        assert HeldCdr.objects.filter(cdr_id=cdr.id).exists() == partitioning_enabled()
        assert columns_holding(KAMAILIO_CALL_ID) == []
        kept = HeldCdr.objects.filter(cdr_id=cdr.id).first() or Cdr.objects.get(id=cdr.id)
        assert kept.unique_id == HASHED
