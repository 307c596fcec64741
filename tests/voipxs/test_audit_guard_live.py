"""The guard of LEGAL.md row 21 (tests/audit_guard.py) in the live server's requests: each is served in a thread of
its own, which on PostgreSQL reads through a connection of its own, not the test's. From the request's start to its
end that connection is watched too; the check waits for the requests still running; and a page read through a
real HTTP request is noted and leaves its purpose on record."""
from __future__ import annotations

import threading
import urllib.request

import pytest
from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import connection, connections

from tests import audit_guard
from tests.factories import make_cdr
from traffic.models import Cdr
from traffic.selectors.cdr_reader import calls_newest

READ = "traffic/selectors/cdr_reader.py:calls_newest"


def _in_a_server_thread(work) -> None:
    """`work(own_connection)` in a new thread, between the signals a request sends, as the live server's threads do."""
    failure: list[BaseException] = []

    def serve() -> None:
        try:
            request_started.send(sender=WSGIHandler, environ={})
            try:
                work(connections["default"])
            finally:
                request_finished.send(sender=WSGIHandler)
        except BaseException as exc:  # noqa: BLE001 - shown in the test's thread below
            failure.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=serve)
    thread.start()
    thread.join(30)
    assert not thread.is_alive() and not failure, failure


def _read_alices_calls(alice):
    return lambda own: calls_newest(Cdr.objects.filter(account=alice), None, fields=("id", "started_at"), after=None,
                                    n=5)


@pytest.mark.django_db(transaction=True)
class ServerRequestsTests:
    def test_a_request_threads_own_connection_is_watched_only_while_the_guard_watches(self, alice,
                                                                                       audit_log_flushable):
        make_cdr(account=alice)
        reads = audit_guard.Reads()
        with connection.execute_wrapper(reads):  # all the guard did before: the test's own connection
            _in_a_server_thread(_read_alices_calls(alice))
        assert reads.origins == set()  # the read went through the thread's connection, unseen

        server = audit_guard.ServerRequests(reads)
        theirs = []

        def read_and_note(own) -> None:
            theirs.append((own, reads in own.execute_wrappers))
            _read_alices_calls(alice)(own)

        with connection.execute_wrapper(reads), server.watching():
            _in_a_server_thread(read_and_note)
        [(own, watched)] = theirs
        assert own is not connections["default"] and watched  # its own connection, watched during the request
        assert reads.origins == {READ}
        assert reads not in own.execute_wrappers  # and unwatched once the request ended

    def test_the_check_waits_for_the_requests_still_running(self, audit_log_flushable):
        server = audit_guard.ServerRequests(audit_guard.Reads())
        inside, leave = threading.Event(), threading.Event()

        def serve() -> None:
            request_started.send(sender=WSGIHandler, environ={})
            inside.set()
            leave.wait(10)
            request_finished.send(sender=WSGIHandler)
            connections.close_all()

        with server.watching():
            thread = threading.Thread(target=serve)
            thread.start()
            assert inside.wait(10)
            assert server.wait_idle(0.2) is False and server.running() == 1
            leave.set()
            assert server.wait_idle(10) is True and server.running() == 0
            thread.join(10)
            # the test's own requests (the test client's) are its own business, never waited for
            request_started.send(sender=WSGIHandler, environ={})
            assert server.running() == 0
            request_finished.send(sender=WSGIHandler)


@pytest.mark.django_db(transaction=True)
def test_a_page_the_live_server_serves_is_watched_and_leaves_its_purpose(live_server, client, alice,
                                                                         audit_log_flushable):
    make_cdr(account=alice, dst="+31699993678")
    client.force_login(alice)
    start = audit_guard.last_entry_id()
    reads = audit_guard.Reads()
    server = audit_guard.ServerRequests(reads)
    request = urllib.request.Request(f"{live_server.url}/calls/", headers={
        "Cookie": f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"})
    with connection.execute_wrapper(reads), server.watching():
        with urllib.request.urlopen(request, timeout=30) as response:  # nosec B310 - the test's own server
            assert response.status == 200 and "+31699993678" in response.read().decode()
        assert server.wait_idle()
    assert any(origin.startswith("traffic/") for origin in reads.origins), reads.origins
    assert audit_guard.purposeful_entries_since(start)
