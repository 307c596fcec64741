"""Shred at detach (issue 15, item 2): a month's data key is destroyed in the transaction that detaches
its partitions, so the month is unreadable from that commit, its detached tables and every backup
included; dropping the detached tables (the reclaim) is a later step, and a purge killed between the
two finishes the reclaim on its next run. Receipts and the DPO's page say when a month became
unreadable and when its files went.

The kill is real: the purge runs in a process of its own (tests/retention/purge_child.py) that stops
right after the first month's shred has committed and is SIGKILLed there.
"""
from __future__ import annotations

import subprocess
import sys
import time
from datetime import date

import pytest
from django.conf import settings
from django.db import connection
from django.test import override_settings
from django.utils import timezone
from django.utils.timezone import now

from retention.models import PurgedMonth, PurgeLock, PurgeRun
from retention.purge.lock import purge_lease
from retention.purge.months import detached_tables
from retention.purge.run import purge_expired
from tests.factories import make_cdr, verified_client
from tests.retention.helpers import at, make_invoice
from tests.retention.test_purge_killed import child_for_this_database
from traffic import keys
from traffic.keys import MonthKeyDestroyed, decrypt_number
from traffic.models import MonthKey
from traffic.partitions import cdr_partitions_list_names

JAN = date(2026, 1, 1)
AS_OF = at(2026, 8, 2)  # January's invoice window ended on 1 August: the whole month may go
URL = "/retention/"


@pytest.fixture
def committed(audit_log_flushable):
    """A transaction=True test commits DDL: drop what it made (partitions and detached tables alike)."""
    before = set(cdr_partitions_list_names())
    yield
    with connection.cursor() as cursor:
        for name in sorted(set(cdr_partitions_list_names()) - before) + detached_tables():
            cursor.execute(f'DROP TABLE IF EXISTS "{name}"')
    keys.month_keys_forget()


@pytest.fixture
def january(alice):
    paid = make_invoice(account=alice, period=JAN, status="paid", window_ends=date(2026, 8, 1))
    return [make_cdr(account=alice, src="+31205550101", dst="+31699993678", started_at=at(2026, 1, 10), invoice=paid,
                     technical={"ip": "192.0.2.7"}),
            make_cdr(account=alice, started_at=at(2026, 1, 13), rating="free")]


def detached_tokens() -> list[bytes]:
    """The source numbers still on disk in the detached January table, as a backup of it would hold them."""
    with connection.cursor() as cursor:
        cursor.execute('SELECT src_enc FROM "retention_detached_traffic_cdr_y2026m01"')
        return [bytes(row[0]) for row in cursor.fetchall()]


def drop_receipt_months(run: PurgeRun) -> list[dict]:
    return run.receipts.get(category="cdr_month_drop").details["months"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
class KilledBetweenShredAndReclaimTests:
    def test_the_month_is_unreadable_at_once_and_the_next_run_reclaims_its_files(self, committed, january, tmp_path,
                                                                                client, dpo):
        child = child_for_this_database(tmp_path)
        child.process = subprocess.Popen(
            [sys.executable, "-m", "tests.retention.purge_child", AS_OF.isoformat(), "1000", "1", "month:shredded"],
            cwd=settings.BASE_DIR, env=child.env, stdout=subprocess.PIPE, text=True)
        try:
            assert child.process.stdout.readline().strip() == "stopped"  # January's shred has committed
        finally:
            child.kill()

        # Killed between the shred and the reclaim: January is out of traffic_cdr, its tables still on
        # disk, and nothing can read them any more.
        assert "traffic_cdr_y2026m01" not in cdr_partitions_list_names()
        assert detached_tables() == ["retention_detached_traffic_cdr_y2026m01",
                                      "retention_detached_traffic_cdrtechnical_y2026m01"]
        assert MonthKey.objects.get(month=JAN).wrapped_key is None
        tokens = detached_tokens()
        assert len(tokens) == 2
        keys.month_keys_forget()
        for token in tokens:
            with pytest.raises(MonthKeyDestroyed):
                decrypt_number(token, started_at=at(2026, 1, 10))
        purged = PurgedMonth.objects.get(month=JAN)
        assert purged.shredded_at is not None and purged.reclaimed_at is None
        killed = PurgeRun.objects.get(dry_run=False)
        assert killed.status == PurgeRun.Status.RUNNING  # its lease has not run out yet
        [month] = drop_receipt_months(killed)
        assert month["shredded_at"] == purged.shredded_at.isoformat() and month["reclaimed_at"] is None
        assert killed.state["months"]["2026-01"] == ["copied", "detached", "key_destroyed"]

        # The next run, once the dead run's lease ran out, fails it and reclaims the files.
        renewed_at = PurgeLock.objects.get(pk=1).renewed_at
        with override_settings(PURGE_LEASE_SECONDS=1):
            time.sleep(max(0.0, (renewed_at + purge_lease() - now()).total_seconds()) + 0.05)
            result = purge_expired(now=AS_OF)
        killed.refresh_from_db()
        assert killed.status == PurgeRun.Status.FAILED and "2026-01" in killed.error
        assert result["status"] == "done"
        assert detached_tables() == []
        purged.refresh_from_db()
        assert purged.reclaimed_at is not None and purged.reclaimed_at > purged.shredded_at
        reclaim = next(r for r in result["receipts"] if r["category"] == "cdr_month_reclaim")
        assert reclaim["details"]["months"][0]["month"] == "2026-01"
        assert reclaim["details"]["months"][0]["reclaimed_at"] == purged.reclaimed_at.isoformat()
        drop = next(r for r in result["receipts"] if r["category"] == "cdr_month_drop")
        assert drop["deleted"] == 0 and drop["details"]["months"] == []  # nothing shredded twice
        assert drop_receipt_months(killed)[0]["reclaimed_at"] is None  # the dead run did not reclaim it

        # The DPO's page says when January became unreadable and when its files went, in both languages.
        c = verified_client(client, dpo)
        body = c.get(URL).content.decode()
        section = body[body.index('id="purged-months"'):body.index('id="receipts"')]
        row = section[section.index("January 2026"):]
        assert "partition detached" in row
        assert f'{purged.shredded_at.astimezone(timezone.get_default_timezone()):%H:%M}' in row
        receipts = body[body.index('id="receipts"'):]
        assert "2026-01: unreadable since" in receipts and "files given back" in receipts
        assert "files not given back yet" in receipts  # the killed run's receipt
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "nl"
        body = c.get(URL).content.decode()
        assert "Maanden gesprekken die onleesbaar zijn gemaakt" in body and "partitie losgekoppeld" in body
        assert "onleesbaar sinds" in body and "bestanden vrijgegeven" in body


@pytest.mark.django_db
class PurgedMonthPageTests:
    def test_a_month_emptied_by_batches_shows_when_its_key_went_and_no_files_to_give_back(self, client, dpo, alice):
        make_cdr(account=alice, started_at=at(2026, 2, 10), rating="free")
        result = purge_expired(now=at(2026, 6, 1))
        if connection.vendor == "postgresql":  # February's partition went whole: detached and shredded
            assert PurgedMonth.objects.get(month=date(2026, 2, 1)).method == PurgedMonth.Method.DETACHED
            return
        purged = PurgedMonth.objects.get(month=date(2026, 2, 1))
        assert purged.method == PurgedMonth.Method.BATCHES and purged.reclaimed_at is None
        assert purged.shredded_at == MonthKey.objects.get(month=date(2026, 2, 1)).destroyed_at
        assert next(r for r in result["receipts"] if r["category"] == "month_key")["details"]["months"] == ["2026-02"]
        body = verified_client(client, dpo).get(URL).content.decode()
        section = body[body.index('id="purged-months"'):body.index('id="receipts"')]
        assert "February 2026" in section and "rows deleted in batches" in section
