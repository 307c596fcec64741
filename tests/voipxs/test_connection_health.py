"""voipxs.db.postgresql: the health check Django runs before reusing a connection (CONN_HEALTH_CHECKS)
asks PostgreSQL nothing while the connection is idle and quiet, and still finds a connection the server
has dropped, so the next request reconnects instead of failing."""
from __future__ import annotations

import time

import psycopg2
import pytest
from django.db import connection
from django.db.backends.postgresql.base import DatabaseWrapper as PostgresDatabaseWrapper

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def round_trips(monkeypatch) -> list[int]:
    """Each time Django's own check (`SELECT 1`) runs."""
    asked: list[int] = []
    real = PostgresDatabaseWrapper.is_usable

    def counted(self) -> bool:
        asked.append(1)
        return real(self)

    monkeypatch.setattr(PostgresDatabaseWrapper, "is_usable", counted)
    return asked


def test_an_idle_connection_is_usable_without_a_query(round_trips):
    connection.ensure_connection()
    assert connection.is_usable() and round_trips == []


def test_a_connection_the_server_dropped_is_found_and_replaced(round_trips, settings):
    connection.ensure_connection()
    pid = connection.connection.get_backend_pid()
    params = connection.get_connection_params()
    other = psycopg2.connect(**{k: v for k, v in params.items() if k in ("host", "port", "user", "password",
                                                                            "dbname", "database")})
    other.autocommit = True
    with other.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    other.close()
    deadline = time.monotonic() + 5
    while connection.is_usable() and time.monotonic() < deadline:  # the server's notice reaches the socket
        time.sleep(0.05)
    assert not connection.is_usable() and round_trips  # Django's own check confirmed it
    connection.close()
    with connection.cursor() as cursor:  # a new connection, as the next request gets
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,) and connection.connection.get_backend_pid() != pid


def test_a_connection_inside_a_transaction_is_asked_as_before(round_trips):
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("BEGIN")
        try:
            assert connection.is_usable() and round_trips == [1]
        finally:
            cursor.execute("ROLLBACK")
