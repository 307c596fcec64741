"""Two quick clicks send two requests at once. The live server the browser tests use must answer both,
on SQLite too, where its threads share one in-memory connection (tests/conftest.py serves them one
after the other there): CI once lost a click-to-call test to "no such savepoint" from two such requests."""
from __future__ import annotations

import threading
import urllib.request
from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.utils.timezone import now

from tests.factories import make_cdr, make_user

pytestmark = pytest.mark.e2e

AT_ONCE = 8


@pytest.mark.django_db(transaction=True)
def test_requests_sent_at_once_are_all_answered(live_server):
    alice = make_user("alice", numbers=["+31205550101"])
    make_cdr(account=alice, dst="+31612345678", started_at=now() - timedelta(hours=2))
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
    for thread in threads:
        thread.join()
    assert statuses == [200] * AT_ONCE
