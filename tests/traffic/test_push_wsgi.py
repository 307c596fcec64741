"""The push path through the WSGI application gunicorn serves (voipxs/wsgi.py): a lean handler with only
the middleware a push needs, which still stores once, refuses wrong credentials and foreign hosts, and
sends every security header a page sends; every other path still gets the full chain."""
from __future__ import annotations

import io
import json
from urllib.parse import quote

import pytest
from django.conf import settings as django_settings
from django.core.signals import request_finished, request_started
from django.db import close_old_connections

from tests.traffic.test_push import auth, fs_doc, pusher  # noqa: F401 - the fixture
from traffic.models import Cdr
from voipxs import wsgi


@pytest.fixture(autouse=True)
def _keep_the_tests_connection():
    """As Django's test client does: the handler's request signals must not close the connection that
    holds the test's transaction."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _call(path: str, *, body: bytes = b"", method: str = "POST", host: str = "testserver", **extra):
    environ = {"REQUEST_METHOD": method, "PATH_INFO": path, "SERVER_NAME": "testserver", "SERVER_PORT": "80",
               "HTTP_HOST": host, "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(body),
               "wsgi.errors": io.StringIO(), "CONTENT_LENGTH": str(len(body)),
               "CONTENT_TYPE": "application/x-www-form-urlencoded", **extra}
    seen: dict = {}

    def start_response(status, headers, exc_info=None):
        seen["status"], seen["headers"] = int(status.split()[0]), dict(headers)

    content = b"".join(wsgi.application(environ, start_response))
    return seen["status"], seen["headers"], content


def test_the_push_middleware_is_a_sub_list_of_the_sites_in_its_order():
    positions = [django_settings.MIDDLEWARE.index(path) for path in wsgi.PUSH_MIDDLEWARE]
    assert positions == sorted(positions)


def test_a_push_and_its_retry_through_the_lean_handler_store_one_cdr_with_every_security_header(pusher):  # noqa: F811
    body = ("cdr=" + quote(json.dumps(fs_doc("u-wsgi")), safe="")).encode()
    for _ in range(2):
        status, headers, _ = _call(wsgi.PUSH_PATH, body=body, **auth(pusher))
        assert status == 201
        for name in ("Content-Security-Policy", "Permissions-Policy", "X-Frame-Options", "X-Content-Type-Options",
                     "Referrer-Policy"):
            assert name in headers, name
        assert "no-store" in headers["Cache-Control"]
    assert Cdr.objects.filter(unique_id="u-wsgi").count() == 1


def test_the_lean_handler_refuses_a_wrong_password_a_get_and_a_foreign_host(pusher, settings):  # noqa: F811
    settings.ALLOWED_HOSTS = ["testserver"]
    body = ("cdr=" + quote(json.dumps(fs_doc("u-wsgi-2")), safe="")).encode()
    assert _call(wsgi.PUSH_PATH, body=body, **auth(pusher, "wrong"))[0] == 401
    assert _call(wsgi.PUSH_PATH, method="GET", **auth(pusher))[0] == 405
    assert _call(wsgi.PUSH_PATH, body=body, host="evil.example", **auth(pusher))[0] == 400
    assert not Cdr.objects.filter(unique_id="u-wsgi-2").exists()


def test_other_paths_still_get_the_full_chain(db):
    status, headers, _ = _call("/calls/", method="GET")
    assert status == 302 and "/login" in headers["Location"]  # sign-in needs the session middleware
    assert _call("/calls/push", method="POST")[0] in (301, 302, 404, 405)  # not the lean path: the site's rules
