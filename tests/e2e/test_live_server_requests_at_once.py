"""Two quick clicks send two requests at once, while the test reads the database to see their effect. The
live server the browser tests use must answer both and the test's reads must work, on SQLite too, where
the server's threads and the test share one in-memory connection (tests/conftest.py takes them one at a
time there): CI lost a click-to-call test to "no such savepoint" from two such requests, and then to
"database table is locked" from a read of the test during one."""
from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request
from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.utils.timezone import now

from tests.factories import make_cdr, make_user
from voipxs.privacy.models import AuditEntry

pytestmark = pytest.mark.e2e

AT_ONCE = 8


@pytest.mark.django_db(transaction=True)
def test_requests_sent_at_once_are_all_answered(live_server):
    alice = make_user("alice", numbers=["+31205550101"])
    make_cdr(account=alice, dst="+31699993678", started_at=now() - timedelta(hours=2))
    client = Client()
    client.force_login(alice)
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    start, statuses = threading.Barrier(AT_ONCE), []

    def fetch(path: str) -> None:
        request = urllib.request.Request(live_server.url + path, headers={"Cookie": cookie})
        start.wait()
        try:
            with urllib.request.urlopen(request, timeout=15) as response:  # nosec B310: our own live server
                statuses.append(response.status)
        except urllib.error.HTTPError as error:
            statuses.append(error.code)

    paths = ["/api/v1/me/", "/api/v1/me/calls/"] * (AT_ONCE // 2)
    threads = [threading.Thread(target=fetch, args=(path,)) for path in paths]
    for thread in threads:
        thread.start()
    counts = []
    while any(thread.is_alive() for thread in threads):  # the test polls, as the browser tests do
        counts.append(AuditEntry.objects.count())  # each request writes its access record there
        time.sleep(0.01)
    for thread in threads:
        thread.join()
    assert statuses == [200] * AT_ONCE and counts == sorted(counts)


def test_the_test_reads_through_the_connection_the_live_server_shares(playwright_driver, live_server):
    """On SQLite the live server shares the test's connection; with Playwright's event loop running, the test
    must still read through that same one, not a second one that meets the server's table locks."""
    from django.db import connections

    shared = live_server.thread.connections_override.get("default")
    assert shared is None or shared is connections["default"]  # None: PostgreSQL, a connection per thread
