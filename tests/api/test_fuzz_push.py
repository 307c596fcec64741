"""Hostile pushes to `/calls/push/` (traffic/push), through the WSGI application gunicorn serves (the lean push
handler, voipxs/wsgi.py): hostile credentials, and every variable of a mod_json_cdr document replaced by a hostile
value (a NUL byte, a lone surrogate, a long string, a time at the calendar's edge, a number past bigint, NaN, a list
or an object where text belongs), sent as JSON and as FreeSWITCH's form (`cdr=`), plus bodies that are no document
(invalid UTF-8, duplicate keys, deep nesting). No answer may be a server error; a refused CDR is a 4xx naming why,
a stored one a 2xx. The cases are a fixed list: the same every run, a few seconds in all."""
from __future__ import annotations

import base64
import json
from urllib.parse import quote

import pytest

from tests.traffic.test_push import auth, fs_doc, pusher  # noqa: F401 - the fixture
from tests.traffic.test_push_wsgi import _call, _keep_the_tests_connection  # noqa: F401 - the fixture
from voipxs import wsgi

pytestmark = [pytest.mark.fuzz, pytest.mark.django_db]

LONG = "x" * 20_000
TEXT = ["a\x00b", "\ud800", LONG, ["x"], {"a": 1}, None, 1, 1.5, True]
NUMBERS = ["0", "-1", str(2 ** 63), str(2 ** 64), "9" * 40, "1e400", "NaN", "Infinity", "-Infinity", "1.5",
           "-62135596800", "-62135596801", "253402300799", "253402300800", "1" * 30 + ".5"]
STAMPS = ["0001-01-01 00:00:00", "9999-12-31 23:59:59.999999", "2026-02-30 10:00:00", "0000-00-00 00:00:00"]


def _basic(raw: bytes) -> dict:
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(raw).decode()}


def _hostile_documents():
    base = fs_doc("u-fuzz")
    for name in base["variables"]:
        values = TEXT + NUMBERS if "epoch" in name or name in ("duration", "billsec") else TEXT + STAMPS
        for value in values:
            doc = json.loads(json.dumps(base))
            doc["variables"][name] = value
            yield f"variables.{name}={str(value)[:30]!r}", doc
    for value in TEXT:
        doc = json.loads(json.dumps(base))
        doc["callflow"][0]["caller_profile"]["destination_number"] = value
        yield f"destination_number={str(value)[:30]!r}", doc
        for key in ("variables", "callflow", "channel_data"):
            yield f"{key}={str(value)[:30]!r}", {**base, key: value}


def test_hostile_credentials_are_401_never_a_server_error(pusher):  # noqa: F811
    body = ("cdr=" + quote(json.dumps(fs_doc("u-auth")), safe="")).encode()
    user = pusher["username"].encode()
    headers = [_basic(user + b"\x00:" + pusher["password"].encode()), _basic(b"push-\x00fs1:x"),
               _basic(b"\xff\xfe:\xff"), _basic(user + b":\xed\xa0\x80"), _basic(b"x" * 100_000 + b":y"),
               _basic(user + b":" + b"x" * 100_000), _basic(b":"), _basic(b"\x00"),
               {"HTTP_AUTHORIZATION": "Basic " + "A" * 100_001}, {"HTTP_AUTHORIZATION": "Basic \x00"},
               {"HTTP_AUTHORIZATION": "Basic"}, {"HTTP_AUTHORIZATION": "basic " + base64.b64encode(b"a:b").decode()}]
    statuses = [_call(wsgi.PUSH_PATH, body=body, **h)[0] for h in headers]
    assert statuses == [401] * len(headers)


@pytest.mark.parametrize("kind", ["json", "form"])
def test_no_hostile_value_in_a_pushed_cdr_is_a_server_error(pusher, kind):  # noqa: F811
    failures = []
    for n, (label, doc) in enumerate(_hostile_documents()):
        text = json.dumps(doc)
        if kind == "json":
            body, content_type = text.encode("utf-8", "surrogatepass"), "application/json"
        else:
            body, content_type = ("cdr=" + quote(text, safe="")).encode(), "application/x-www-form-urlencoded"
        status, _headers, content = _call(wsgi.PUSH_PATH, body=body, CONTENT_TYPE=content_type, **auth(pusher))
        if status >= 500 or not 200 <= status < 500:
            failures.append(f"{label} -> {status} {content[:200]!r}")
    assert failures == [], "\n".join(failures)


@pytest.mark.parametrize("body, content_type", [
    (b"\xff\xfe{", "application/json"), (b'{"variables": {"uuid": "\xed\xa0\x80"}}', "application/json"),
    (b'{"variables": {}, "variables": []}', "application/json"), (b"[" * 5000, "application/json"),
    (b"{" * 5000, "application/json"), (b"cdr=%FF%FE", "application/x-www-form-urlencoded"),
    (b"cdr=%00", "application/x-www-form-urlencoded"), (b"cdr=" + b"&cdr=" * 2000, "application/x-www-form-urlencoded"),
    (b"cdr=\xff", "application/x-www-form-base64-encoded"),
    (b"cdr=<cdr>\x00</cdr>", "application/x-www-form-plaintext"),
    (b"<cdr><variables><uuid>\xff</uuid></variables></cdr>", "text/xml"), (b"\x00" * 100, "text/plain"),
    (b'--x\r\nContent-Disposition: form-data; name="cdr"\r\n\r\n\x00\r\n--x--\r\n',
     "multipart/form-data; boundary=x"),
    (b"x" * 2_000_000, "application/json"),
])
def test_a_body_that_is_no_document_is_a_refusal(pusher, body, content_type):  # noqa: F811
    status, _headers, content = _call(wsgi.PUSH_PATH, body=body, CONTENT_TYPE=content_type, **auth(pusher))
    assert 400 <= status < 500, content[:300]
