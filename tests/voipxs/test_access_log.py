"""gunicorn's access log (`--access-logfile -` in the Dockerfile and docker-compose.yml) wrote each request line
whole, query string included, and the Referer: the support desk's search (`GET /support/?q=...`) put the e-mail
address or phone number looked up into the log, and again as the Referer of the customer's card opened next.
Personal data never go into logs (README, STYLE_GUIDE): the access log keeps the path, never the query.
The path of a password-reset link holds the reset token itself, which opens the account until it is used: the
log shows the path with the token left out."""
from __future__ import annotations

import runpy
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

from gunicorn.config import Config
from gunicorn.glogging import SafeAtoms

CONF = Path(__file__).resolve().parents[2] / "gunicorn.conf.py"


def _access_line(path: str, query: str, referer: str) -> str:
    cfg, conf = Config(), runpy.run_path(str(CONF))
    for name in ("access_log_format", "logger_class"):
        if conf.get(name):
            cfg.set(name, conf[name])
    environ = {"REQUEST_METHOD": "GET", "RAW_URI": f"{path}?{query}", "PATH_INFO": path, "QUERY_STRING": query,
               "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "192.0.2.7", "HTTP_REFERER": referer,
               "HTTP_USER_AGENT": "Firefox"}
    response = SimpleNamespace(status="200 OK", sent=1234, headers=[])
    request = SimpleNamespace(headers=[("REFERER", referer)])
    atoms = cfg.logger_class(cfg).atoms(response, request, environ, timedelta(milliseconds=12))
    return cfg.access_log_format % SafeAtoms(atoms)


def test_a_support_search_leaves_no_address_or_number_in_the_access_log():
    line = _access_line("/support/", "q=alice%40example.org", "https://voipxs.example/support/?q=%2B31205550101")
    assert "alice" not in line and "31205550101" not in line
    assert "GET /support/ HTTP/1.1" in line and " 200 " in line  # what operations need stays


def test_a_password_reset_link_leaves_no_token_in_the_access_log():
    token = "cz4k1q-4f1e2d3c4b5a69788796a5b4c3d2e1f0"
    line = _access_line(f"/accounts/password/reset/MTI/{token}/", "", "-")
    assert token not in line and "4f1e2d3c4b5a" not in line
    assert "GET /accounts/password/reset/MTI/" in line


def test_the_set_password_step_after_it_is_logged_as_it_is():
    line = _access_line("/accounts/password/reset/MTI/set-password/", "", "-")
    assert "GET /accounts/password/reset/MTI/set-password/ HTTP/1.1" in line
