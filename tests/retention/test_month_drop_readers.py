"""PostgreSQL: dropping a month while customers read their calls (found by `make bench-soak`, issue 16).

A page's query locks the partitioned table first and then each partition; the month drop locked the
month's partition first and then needed the partitioned table for its DETACH. A page that had begun
between the two waited for the partition while the purge waited for the page: PostgreSQL broke the
deadlock by failing one of them (pages answered 503, a purge run failed). The purge now locks the
partitioned tables first, in the order the pages do, and the page simply waits for the drop."""
from __future__ import annotations

import threading
import time
from datetime import timedelta

import psycopg2
import pytest
from django.db import connection
from django.utils.timezone import now

from retention.purge.run import purge_expired
from tests.factories import make_cdr
from tests.retention.helpers import at
from traffic.partitions import cdr_partitions_list_names


def _reader():
    s = connection.settings_dict
    return psycopg2.connect(dbname=s["NAME"], user=s["USER"] or None, password=s["PASSWORD"] or None,
                            host=s["HOST"] or None, port=s["PORT"] or None)


def _waiting_pids(cursor, other_than: int) -> list[int]:
    """Who waits for the partitioned table itself (the purge's DETACH, or with the fix its first lock)."""
    cursor.execute("SELECT DISTINCT l.pid FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                   "WHERE NOT l.granted AND c.relname = 'traffic_cdr' AND l.pid <> %s", [other_than])
    return [row[0] for row in cursor.fetchall()]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
class MonthDropWhileReadingTests:
    def test_a_page_that_began_before_the_drop_waits_and_neither_fails(self, committed, alice):
        make_cdr(account=alice, started_at=at(2026, 1, 10), rating="free")
        make_cdr(account=alice, started_at=now() - timedelta(days=2), rating="free")
        page, watcher = _reader(), _reader()
        watcher.autocommit = True
        outcome: dict = {}

        def purge() -> None:
            try:
                outcome["result"] = purge_expired(now=at(2026, 8, 2))
            except Exception as exc:  # noqa: BLE001 - the test reports it
                outcome["error"] = exc
            finally:
                connection.close()

        with page.cursor() as cursor, watcher.cursor() as watch:
            cursor.execute("SELECT pg_backend_pid()")
            page_pid = cursor.fetchone()[0]
            # The page's query has begun: the partitioned table is locked, its partitions come next.
            cursor.execute("LOCK TABLE ONLY traffic_cdr IN ACCESS SHARE MODE")
            runner = threading.Thread(target=purge)
            runner.start()
            deadline = time.monotonic() + 20
            while not _waiting_pids(watch, page_pid) and time.monotonic() < deadline:
                time.sleep(0.05)
            if not _waiting_pids(watch, page_pid):
                watch.execute("SELECT l.pid, l.locktype, l.mode, l.granted, c.relname FROM pg_locks l "
                              "LEFT JOIN pg_class c ON c.oid = l.relation WHERE NOT l.granted")
                waits = watch.fetchall()
                page.rollback()
                runner.join(60)
                raise AssertionError(f"the purge never waited for the page: {waits} {outcome}")
            cursor.execute("SELECT count(*) FROM traffic_cdr WHERE account_id = %s", [alice.pk])  # all partitions
            seen = cursor.fetchone()[0]
            page.commit()
        runner.join(60)
        page.close()
        watcher.close()
        assert "error" not in outcome, outcome.get("error")
        assert seen == 2  # the page read before the drop, whole
        assert "traffic_cdr_y2026m01" not in cdr_partitions_list_names()
