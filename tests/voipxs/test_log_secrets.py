"""The path of a password-reset link holds the reset token, which opens the account until it is used. gunicorn's
access log left it out, but Django's own log lines did not: a server error on that path wrote "Internal Server Error:
/accounts/password/reset/<uid>/<token>/" (django.request, with the traceback), an edited link "Not Found: ..." (a
warning), and the development server (django.server) its request line; gunicorn's error log ("Error handling request
<uri>") and its access log for the link without its trailing slash wrote it too. Every handler now writes the path
with "[token]" in its place (voipxs.log_secrets)."""
from __future__ import annotations

import io
import logging
import runpy
from pathlib import Path

import pytest
from django.contrib.auth import views as auth_views
from django.test import Client

from voipxs.log_secrets import redact

pytestmark = pytest.mark.django_db

TOKEN = "cz4k1q-4f1e2d3c4b5a69788796a5b4c3d2e1f0"
LINK = f"/accounts/password/reset/MTI/{TOKEN}/"


@pytest.fixture
def written():
    """What the configured handlers (settings.LOGGING) write, whichever logger a line comes from."""
    stream = io.StringIO()
    handlers = {h for name in ("", "django", "django.request", "django.server")
                for h in logging.getLogger(name).handlers if isinstance(h, logging.StreamHandler)}
    assert handlers
    old = {h: h.setStream(stream) for h in handlers}
    yield stream
    for handler, previous in old.items():
        handler.setStream(previous)


def test_a_server_error_on_the_reset_link_leaves_no_token_in_the_log(monkeypatch, written):
    def fail(*args, **kwargs):
        raise RuntimeError(f"failed at {LINK}")
    monkeypatch.setattr(auth_views.PasswordResetConfirmView, "dispatch", fail)
    response = Client(raise_request_exception=False).get(LINK)
    assert response.status_code == 500
    log = written.getvalue()
    assert "Internal Server Error: /accounts/password/reset/MTI/[token]/" in log
    assert "RuntimeError" in log  # the traceback stays, without the token
    assert TOKEN not in log and "4f1e2d3c4b5a" not in log


def test_an_edited_reset_link_that_is_not_found_leaves_no_token_either(written):
    Client().get(f"{LINK}extra/")
    log = written.getvalue()
    assert "Not Found: /accounts/password/reset/MTI/[token]/extra/" in log and TOKEN not in log


def test_the_development_servers_request_line_leaves_it_out(written):
    logging.getLogger("django.server").info('"%s" %s %s', f"GET {LINK} HTTP/1.1", "200", "1234")
    assert "GET /accounts/password/reset/MTI/[token]/ HTTP/1.1" in written.getvalue()
    assert TOKEN not in written.getvalue()


@pytest.mark.parametrize("path, shown", [
    (LINK, "/accounts/password/reset/MTI/[token]/"),
    (LINK.rstrip("/"), "/accounts/password/reset/MTI/[token]"),
    (f"{LINK}?next=/x", "/accounts/password/reset/MTI/[token]/?next=/x"),
    ("/accounts/password/reset/MTI/set-password/", "/accounts/password/reset/MTI/set-password/"),
    ("/accounts/password/reset/sent/", "/accounts/password/reset/sent/"),
    ("/accounts/password/reset/done/", "/accounts/password/reset/done/"),
])
def test_redact_leaves_the_token_out_and_every_other_step_as_it_is(path, shown):
    assert redact(f"x {path} y") == f"x {shown} y"


def test_gunicorns_error_log_leaves_it_out():
    from gunicorn.config import Config

    conf = runpy.run_path(str(Path(__file__).resolve().parents[2] / "gunicorn.conf.py"))
    cfg = Config()
    cfg.set("logger_class", conf["logger_class"])
    logger = cfg.logger_class(cfg)
    stream = io.StringIO()
    for handler in logger.error_log.handlers:
        handler.setStream(stream)
    logger.error("Error handling request %s", LINK)
    assert "/accounts/password/reset/MTI/[token]/" in stream.getvalue() and TOKEN not in stream.getvalue()
