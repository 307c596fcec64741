"""The hottest reads run as server-side prepared statements (voipxs/statements.py): prepared once per
database connection, the same rows as a planned statement, again after a reconnect, and a statement
PostgreSQL cannot prepare runs as before without harming the transaction around it."""
from __future__ import annotations

import logging
from datetime import datetime, timezone

import pytest
from django.db import connection, transaction

from tests.factories import make_cdr, verified_client
from voipxs import statements
from voipxs.statements import execute_prepared

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def _prepared_names() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM pg_prepared_statements")
        return {row[0] for row in cursor.fetchall()}


class PreparedStatementTests:
    def test_it_prepares_once_per_connection_and_gives_the_planned_rows(self):
        sql = "SELECT %s::int + n FROM generate_series(1, 3) AS n WHERE n > %s"
        with connection.cursor() as cursor:
            cursor.execute(sql, [10, 1])
            planned = cursor.fetchall()
            execute_prepared(cursor, ("test-sum", 1), sql, [10, 1])
            first = cursor.fetchall()
            execute_prepared(cursor, ("test-sum", 1), sql, [20, 2])
            second = cursor.fetchall()
        assert first == planned == [(12,), (13,)] and second == [(23,)]
        assert len([n for n in _prepared_names() if n.startswith("voipxs_test_sum_")]) == 1

    @pytest.mark.django_db(transaction=True)  # the connection closes in the middle
    def test_a_new_connection_prepares_again(self):
        sql = "SELECT %s::text || '%%'"
        with connection.cursor() as cursor:
            execute_prepared(cursor, ("test-percent",), sql, ["50"])
            assert cursor.fetchall() == [("50%",)]  # %% is the % it stands for, in PREPARE too
        connection.close()  # as CONN_MAX_AGE or a database restart does
        with connection.cursor() as cursor:
            execute_prepared(cursor, ("test-percent",), sql, ["7"])
            assert cursor.fetchall() == [("7%",)]
        assert any(n.startswith("voipxs_test_percent_") for n in _prepared_names())

    def test_a_statement_that_cannot_be_prepared_runs_planned_and_the_transaction_goes_on(self, caplog):
        sql = "SHOW server_version_num"  # a utility statement: PREPARE refuses it
        with transaction.atomic(), connection.cursor() as cursor, caplog.at_level(logging.WARNING):
            execute_prepared(cursor, ("test-untyped",), sql, [])
            assert cursor.fetchall()[0][0].isdigit()
            cursor.execute("SELECT 1")  # the transaction is not aborted
            assert cursor.fetchall() == [(1,)]
        assert ("test-untyped",) in statements._unpreparable and "cannot be prepared" in caplog.text

    def test_switched_off_it_plans_every_run(self, settings):
        settings.DATABASE_PREPARED_STATEMENTS = False
        with connection.cursor() as cursor:
            execute_prepared(cursor, ("test-off",), "SELECT %s::int", [5])
            assert cursor.fetchall() == [(5,)]
        assert not any(n.startswith("voipxs_test_off_") for n in _prepared_names())

    def test_the_call_history_reads_its_calls_and_user_through_prepared_statements(self, client, alice):
        make_cdr(account=alice, started_at=datetime(2026, 3, 10, 9, tzinfo=timezone.utc), dst="+31699993678")
        for _ in range(2):  # the second page view uses what the first prepared
            page = verified_client(client, alice).get("/calls/").content.decode()
            assert "+31699993678" in page
        names = _prepared_names()
        assert any(n.startswith("voipxs_own_calls_") for n in names)
        assert any(n.startswith("voipxs_user_facts_") for n in names)

    def test_the_masking_lookup_keeps_a_few_statements_whatever_the_count_of_numbers(self):
        from traffic.models import MaskedNumber
        from traffic.selectors.masking import masking_entries
        from voipxs.privacy.crypto import blind_index

        listed = MaskedNumber.objects.create(number="+318000113", valid_from=datetime(2026, 1, 1, tzinfo=timezone.utc))
        before = _prepared_names()
        others = [blind_index(f"+3169999{i:04d}", domain="phone") for i in range(40)]
        for count in range(1, 41):  # a page or an export batch meets any count of numbers
            found, _ = masking_entries({listed.number_index, *others[:count - 1]}, reader_id=1, requested=False)
            assert found == {listed.number_index: (listed.valid_from, None)}
        masking = [n for n in _prepared_names() - before if n.startswith("voipxs_masking_")]
        assert len(masking) <= 7  # 1, 2, 4, 8, 16, 32 and 64 numbers (one per count, 40, before)
