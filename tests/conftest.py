"""Shared test world. Personas (HC-style, see tests/base.py for who may see what)."""
from __future__ import annotations

import contextlib
import itertools
import threading

import pytest
from django.db import connection
from django.utils import translation

from tests import clock
from tests.factories import *  # noqa: F401,F403  (fixtures below use them)


def pytest_addoption(parser):
    clock.add_option(parser)  # --clock / VOIPXS_TEST_CLOCK (tests/clock.py)


def pytest_configure(config):
    clock.configure(config)


def pytest_unconfigure(config):
    if (travelled := clock.clock_of(config)) is not None:
        travelled.stop()


def pytest_report_header(config):
    travelled = clock.clock_of(config)
    return travelled.describe() if travelled is not None else None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    return (yield from clock.run_on_real_clock(item))


def pytest_terminal_summary(terminalreporter, config):
    clock.summary(terminalreporter, config)


def pytest_collection_modifyitems(config, items):
    """Skip what the current database or broker cannot run, with a clear reason."""
    from django.conf import settings

    engine = settings.DATABASES["default"]["ENGINE"]
    redis_url = settings.REDIS_URL
    for item in items:
        if "postgres" in item.keywords and "postgresql" not in engine:
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL=postgres://...)"))
        if "redis" in item.keywords and not redis_url:
            item.add_marker(pytest.mark.skip(reason="needs Redis and a Celery worker (set REDIS_URL=redis://...)"))


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """A database reused (--reuse-db) after a transaction=True test emptied it gets its seeded rows back
    (tests/migration_seeds.py)."""
    from tests.migration_seeds import migration_seeds_restore

    with django_db_blocker.unblock():
        migration_seeds_restore()


@pytest.fixture
def is_postgres() -> bool:
    return connection.vendor == "postgresql"


@pytest.fixture
def real_worker():
    """A Celery worker thread consuming from REDIS_URL, so tasks go through the broker, not in-process.
    Shared by every `@pytest.mark.redis` test that needs one (use with `django_db(transaction=True)`)."""
    from celery.contrib.testing.worker import start_worker
    from celery.signals import task_postrun

    from voipxs.celery import app

    def close_db(**_kwargs):
        connection.close()  # the worker thread's own connection, so the test database can be dropped

    was_eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    task_postrun.connect(close_db, weak=False)
    try:
        with start_worker(app, pool="solo", concurrency=1, perform_ping_check=False, shutdown_timeout=20) as worker:
            yield worker
    finally:
        task_postrun.disconnect(close_db)
        app.conf.task_always_eager = was_eager


@pytest.fixture
def broker_down():
    """Redis down for the whole test: tasks are really published, to a port where nothing listens
    (tests/broker.py). Yields the dead URL."""
    from tests.broker import broker_outage

    with broker_outage() as url:
        yield url


_witness_files = itertools.count()


@pytest.fixture(autouse=True)
def _audit_head_witness_of_its_own(settings, monkeypatch, tmp_path_factory):
    """Each test gets a head witness file of its own (voipxs/privacy/audit_head.py) in the run's temporary
    directory: a test's chain is rolled back or flushed after it, and the head it reached must not accuse the
    next test's shorter chain, nor land in var/. A process the test starts inherits it through the environment."""
    path = tmp_path_factory.getbasetemp() / "audit-head" / f"{next(_witness_files)}.json"
    settings.AUDIT_HEAD_FILE = path
    monkeypatch.setenv("AUDIT_HEAD_FILE", str(path))
    yield


@pytest.fixture(autouse=True)
def _language_reset():
    """A request in Dutch leaves nl active in the thread (LocaleMiddleware); the next test starts in English."""
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _live_server_one_request_at_a_time_on_sqlite(request, monkeypatch):
    """On SQLite the live server's threads share the test's one in-memory connection, so two requests
    at once interleave their savepoints ("no such savepoint") and one fails. A browser or a switch may
    well send two at once; on SQLite the live server serves them one after the other. PostgreSQL gives
    each thread its own connection and is left concurrent."""
    if "live_server" not in request.fixturenames or connection.vendor != "sqlite":
        yield
        return
    from django.core.handlers.wsgi import WSGIHandler

    lock, serve = threading.Lock(), WSGIHandler.__call__

    def serve_alone(self, environ, start_response):
        with lock:
            return serve(self, environ, start_response)

    monkeypatch.setattr(WSGIHandler, "__call__", serve_alone)
    yield


@pytest.fixture(autouse=True)
def _call_reads_are_audited(request):
    """LEGAL.md section 5 row 21 (tests/audit_guard.py): a test whose application code read call records fails
    unless each read is tied to an audit entry with a purpose written on its call path; and one whose application
    code wrote an audit entry without a purpose fails. Tests with a live server (the browser tests, which have no
    django_db mark) are watched in the server's request threads too."""
    import os

    live = "live_server" in request.fixturenames
    if (os.environ.get("VOIPXS_AUDIT_GUARD") == "off"
            or (request.node.get_closest_marker("django_db") is None and not live)
            or request.node.get_closest_marker("audit_guard_exempt") is not None):
        yield
        return
    request.getfixturevalue("_django_db_helper")
    if "audit_log_flushable" in request.fixturenames:
        request.getfixturevalue("audit_log_flushable")  # it empties the log after the test: after this check, then
    from tests import audit_guard

    start = audit_guard.last_entry_id()
    reads = audit_guard.Reads()
    server = audit_guard.ServerRequests(reads)
    entries = audit_guard.Entries()
    with (connection.execute_wrapper(reads), entries.watching(),
          server.watching() if live else contextlib.nullcontext()):
        yield
        # The browser is closed by now (its fixture ends first); a request it left running writes its entries yet.
        running = 0 if not live or server.wait_idle() else server.running()
    if entries.purposeless:
        pytest.fail("LEGAL.md row 21: application code wrote audit entries without a purpose: "
                    f"{sorted(entries.purposeless)} (tests/audit_guard.py)", pytrace=False)
    if unaudited := audit_guard.unaudited_reads(reads, entries, start):
        still = (f"; {running} live-server request(s) were still running after {server.IDLE_TIMEOUT:g} s, whose "
                 "entries may not have been written yet") if running else ""
        pytest.fail(f"LEGAL.md row 21: {unaudited} (tests/audit_guard.py){still}", pytrace=False)


@pytest.fixture
def partitions_restored():
    """A transaction=True test commits DDL: drop the partitions it made and forget cached month keys,
    so later tests (retention's month drop) see the database as the suite left it."""
    from traffic import keys
    from traffic.partitions import cdr_partitions_list_names

    before = set(cdr_partitions_list_names())
    yield
    with connection.cursor() as cursor:
        for name in sorted(set(cdr_partitions_list_names()) - before):
            cursor.execute(f"DROP TABLE IF EXISTS {name}")
    keys.month_keys_forget()
