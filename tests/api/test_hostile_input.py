"""Hostile input on every API operation with a body: each field of each operation in /api/schema/ gets the values
that made servers fail before (a NUL byte, a lone surrogate, a string far past max_length, a date or time at the
calendar's edge, an integer past bigint, a decimal with thirty digits, a list or an object where text belongs,
null), sent by a user of a role the operation is for, on top of a body it takes. No answer may be a server error,
and a refusal names the field (as a key of the answer, or as its "field").

The fuzz tests (test_fuzz.py) send what schemathesis makes of the schema: valid-looking values and type errors,
rarely these. This test sends them all, every time. NUL bytes only matter on PostgreSQL (text cannot hold them;
SQLite stores them), so those cases are skipped on SQLite; the rest runs on both.
"""
from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test import Client

from tests.factories import verified_client
from tests.traffic.switch_fakes import FakeAmi

pytestmark = pytest.mark.django_db

PERSONAS = ("alice", "acme_admin", "billing_staff", "legal1", "dpo", "support", "admin_user", "noc", "fraud_analyst")
# Operations that end the session or the account they are sent with, or need a file (multipart only).
SKIPPED = ("logout", "/close/", "/auth/login/", "/cdr-imports/")
NEXT_YEAR = str(date.today().year + 1)

# A body each operation takes (or refuses for a reason of its own, after its fields were read), so that a hostile
# value in one field reaches the service, and the database, as far as a good one would. "{n}": a fresh number per
# request (names and references are unique).
BASES = {
    "/api/v1/me/billing-address/": {"name": "A", "street": "Straat", "house_number": "1", "postcode": "1234 AB",
                                    "town": "Amsterdam", "country": "NL"},
    "/api/v1/me/calls/setup/": {"number": "+31205550999"},
    "/api/v1/me/privacy-requests/": {"kind": "access"},
    "/api/v1/staff/disclosures/authorities/create/": {"name": "Unit {n}", "kind": "police",
                                                      "contact_phone": "+31205550777"},
    "/api/v1/staff/disclosures/requests/{id}/documents/": {"title": "x", "content_base64": "JVBERi0xLjcgb3JkZXI="},
    "/api/v1/staff/disclosures/requests/receive/": {
        "authority": "{authority}", "reference": "R-{n}", "legal_basis": "sv_126n", "categories": ["user_data"],
        "numbers": ["+31205550101"], "window_start": "2026-10-01T00:00:00Z", "window_end": "2026-11-01T00:00:00Z",
        "deadline": f"{NEXT_YEAR}-01-20T00:00:00Z"},
    "/api/v1/staff/masking-list/": {"csv": "number\n+31205550888\n"},
    "/api/v1/staff/masking-list/take-off/": {"numbers": ["+31205550888"]},
    "/api/v1/staff/retention/holds/place/": {"reason": "disclosure_request", "reference": "H-{n}",
                                             "categories": ["cdr_billed"], "numbers": ["+31205550101"]},
    "/api/v1/staff/retention/policies/{category}/": {"change_reason": "x", "trigger": "t{n}"},
    "/api/v1/staff/sources/": {"name": "pbx{n}", "format": "asterisk-csv", "timezone": "Europe/Amsterdam"},
    "/api/v1/staff/tariffs/": {"prefix": "3120555", "zone": "x", "price_per_minute": "0.0100",
                               "valid_from": f"{NEXT_YEAR}-01-01"},
    "/api/v1/staff/tariffs/{tariff_id}/end/": {"valid_to": f"{NEXT_YEAR}-02-01"},
    "/api/v1/staff/tariffs/rate-deck/preview/": {"valid_from": f"{NEXT_YEAR}-01-01", "csv": "3120555,x,0.01,60/60\n"},
    "/api/v1/staff/tariffs/rate-deck/apply/": {"valid_from": f"{NEXT_YEAR}-01-01", "csv": "3120555,x,0.01,60/60\n",
                                               "confirm": "x"},
}

PG_ONLY = "pg-only"
LONG = "x" * 100_000
TEXT = ["a\x00b", "\ud800", LONG, [LONG], {"a": 1}, None, 1]
DATETIMES = ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "0001-01-01T00:30:00", "9999-12-31T23:59:59",
             "0001-01-01T01:00:00+01:00", "9999-12-31T22:00:00Z"]
DATES = ["0001-01-01", "9999-12-31", "0000-01-01", "10000-01-01"]
DECIMALS = ["1" * 30, "0." + "1" * 30, "1e400", "NaN", "Infinity", "-1", 10 ** 30]
INTEGERS = [2 ** 63, 2 ** 64, -(2 ** 63) - 1, -1, 0, 10 ** 40, "9" * 40, 1.5]


def hostile(prop: dict, components: dict) -> list:
    """The values to try in a field of this schema."""
    prop = _deref(prop, components)
    kind, fmt = prop.get("type"), prop.get("format")
    values = list(TEXT)
    if fmt == "date-time":
        values += DATETIMES
    elif fmt == "date":
        values += DATES
    elif fmt == "decimal":
        values += DECIMALS
    elif kind == "integer":
        values += INTEGERS
    if kind == "array":
        values += [[item] for item in hostile(prop.get("items", {}), components) if not isinstance(item, list)]
    return values


def _deref(prop: dict, components: dict) -> dict:
    while "$ref" in prop:
        prop = components[prop["$ref"].rsplit("/", 1)[-1]]
    return prop


def _has_nul(value) -> bool:
    return "\x00" in json.dumps(value)


@pytest.fixture(autouse=True)
def fake_switch(settings):
    """Click-to-call reaches a protocol-level fake of Asterisk AMI (without a switch the set-up answers 503)."""
    with FakeAmi() as switch:
        settings.CALL_SETUP_BACKEND = "asterisk"
        settings.CALL_SETUP_URL = f"ami://voipxs:secret@127.0.0.1:{switch.port}"
        yield switch


@pytest.fixture
def objects(legal1, legal2, alice, billing_staff):
    """What the operations' paths name: an authority, a request taken in from it, a tariff, alice's invoice."""
    from tests.disclosures.conftest import receive, with_certificate
    from disclosures.models import AuthorityKind
    from disclosures.services.authorities import authority_create, authority_verify
    from traffic.services.tariffs import tariff_create

    authority = authority_create(actor=legal1, name="Politie Eenheid Test", kind=AuthorityKind.POLICE,
                                 contact_phone="020 555 9999")
    authority = with_certificate(authority_verify(actor=legal2, authority=authority, note="register"), actor=legal1)
    request = receive(legal1, authority)
    tariff = tariff_create(prefix="3120555", zone="x", price_per_minute="0.01", valid_from=date.today(),
                           actor=billing_staff)
    return {"id": {"authorities": authority.pk, "requests": request.pk}, "tariff_id": tariff.pk,
            "category": "cdr_billed", "authority": authority.pk}


@pytest.fixture
def schema(alice):
    client = verified_client(Client(), alice)
    return client.get("/api/schema/?format=json").json()


def _operations(schema: dict):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            content = operation.get("requestBody", {}).get("content", {})
            if method != "get" and "application/json" in content and not any(s in path for s in SKIPPED):
                yield path, method, content["application/json"]["schema"]


class Sender:
    """Sends a body to an operation as the first persona the operation does not refuse."""

    def __init__(self, request, objects):
        self.clients = {name: verified_client(Client(), request.getfixturevalue(name)) for name in PERSONAS}
        self.objects, self.count = objects, 0

    def url(self, path: str) -> str:
        for name, value in self.objects.items():
            if isinstance(value, dict):
                value = next((v for part, v in value.items() if f"/{part}/" in path), 0)
            path = path.replace("{%s}" % name, str(value))
        return path

    def body(self, path: str, required: dict) -> dict:
        body = {**required, **BASES.get(path, {})}
        for key, value in body.items():
            if isinstance(value, str) and "{" in value:
                self.count += 1
                body[key] = value.replace("{n}", str(self.count)).replace("{authority}", str(self.objects["authority"]))
                body[key] = int(body[key]) if key == "authority" else body[key]
        return body

    def client_for(self, method: str, url: str, body: dict):
        for name in PERSONAS:
            if self.send(name, method, url, body).status_code not in (401, 403):
                return name
        raise AssertionError(f"no persona may {method.upper()} {url}")

    def send(self, name: str, method: str, url: str, body):
        return self.clients[name].generic(method.upper(), url, json.dumps(body), content_type="application/json")


def _required(schema_ref: dict, components: dict) -> tuple[dict, dict]:
    body_schema = _deref(schema_ref, components)
    props = {k: v for k, v in body_schema.get("properties", {}).items() if not v.get("readOnly")}
    return props, {k: _plain(props[k], components) for k in body_schema.get("required", []) if k in props}


def _plain(prop: dict, components: dict):
    prop = _deref(prop, components)
    if "enum" in prop:
        return prop["enum"][0]
    return {"integer": 1, "boolean": False, "array": []}.get(prop.get("type"), "x")


def _same_as_base(response, base) -> bool:
    """The body without the hostile value is refused the same way: the refusal is the operation's (the request's
    state, an open request of this kind), and the value was taken."""
    return base.status_code == response.status_code and base.json() == response.json()


def _names(answer: dict, field: str) -> bool:
    """The refusal names a field: this one, or the one a rule across fields holds against it (a window that must end
    after it starts names window_end; a rate deck sent as `csv` is named as its `file`)."""
    return field in answer or "field" in answer or bool(set(answer) - {"detail", "non_field_errors"})


def test_no_hostile_field_value_is_a_server_error_and_a_refusal_names_the_field(request, objects, schema):
    components = schema["components"]["schemas"]
    sender = Sender(request, objects)
    on_postgres = connection.vendor == "postgresql"
    failures, tried = [], 0
    for path, method, schema_ref in _operations(schema):
        props, required = _required(schema_ref, components)
        url = sender.url(path)
        persona = sender.client_for(method, url, sender.body(path, required))
        for field, prop in props.items():
            for value in hostile(prop, components):
                if _has_nul(value) and not on_postgres:
                    continue  # PG_ONLY: SQLite stores a NUL byte
                body = {**sender.body(path, required), field: value}
                response = sender.send(persona, method, url, body)
                tried += 1
                label = f"{method.upper()} {path} as {persona}: {field}={json.dumps(value)[:60]}"
                if response.status_code >= 500:
                    failures.append(f"{label} -> {response.status_code}")
                elif response.status_code == 400 and not _names(response.json(), field) and not _same_as_base(
                        response, sender.send(persona, method, url, sender.body(path, required))):
                    failures.append(f"{label} -> 400 without the field: {response.content[:200]!r}")
    assert tried > 1000
    assert failures == [], "\n".join(failures)


def test_a_body_that_is_no_object_is_a_refusal_not_a_server_error(request, objects, schema):
    sender = Sender(request, objects)
    components = schema["components"]["schemas"]
    failures = []
    for path, method, schema_ref in _operations(schema):
        _props, required = _required(schema_ref, components)
        url = sender.url(path)
        persona = sender.client_for(method, url, sender.body(path, required))
        client = sender.clients[persona]
        for raw, content_type in [(b"", "application/json"), (b"null", "application/json"), (b"[]", "application/json"),
                                  (b'"x"', "application/json"), (b"\xff\xfe{", "application/json"),
                                  (b'{"\\ud800": 1}', "application/json"), (b"a=b", "text/plain"),
                                  (b"{" * 5000, "application/json")]:
            response = client.generic(method.upper(), url, raw, content_type=content_type)
            if response.status_code >= 500:
                failures.append(f"{method.upper()} {path} as {persona}: {raw[:20]!r} -> {response.status_code}")
    assert failures == [], "\n".join(failures)


@pytest.mark.parametrize("field, body, status", [
    ("country", {"country": "\ud800"}, 400),
    ("name", {"name": "\udfff"}, 400),
])
def test_a_lone_surrogate_is_refused_at_its_field(client, alice, field, body, status):
    """A JSON body may escape a lone surrogate ("\\ud800"), which no UTF-8 text holds. A choice field echoed it in
    its refusal ('"\\ud800" is not a valid choice') and the answer could not be encoded: 500."""
    base = BASES["/api/v1/me/billing-address/"]
    response = verified_client(client, alice).put("/api/v1/me/billing-address/", json.dumps({**base, **body}),
                                                  content_type="application/json")
    assert response.status_code == status
    assert list(response.json()) == [field]
    assert "Surrogate characters are not allowed" in response.json()[field][0]


@pytest.mark.parametrize("body", [{"numbers": ["+31205550101", "\ud800"]}, {"numbers": [{"x": "\ud800"}]}])
def test_a_surrogate_deeper_in_the_body_names_the_top_field(client, billing_staff, body):
    response = verified_client(client, billing_staff).post("/api/v1/staff/masking-list/take-off/", json.dumps(body),
                                                          content_type="application/json")
    assert response.status_code == 400 and list(response.json()) == ["numbers"]


def test_a_surrogate_in_a_key_is_refused_without_showing_it(client, billing_staff):
    response = verified_client(client, billing_staff).post("/api/v1/staff/masking-list/take-off/",
                                                          '{"numbers": [], "\\ud800": 1}',
                                                          content_type="application/json")
    assert response.status_code == 400 and list(response.json()) == ["detail"]


def test_the_window_edge_is_no_server_error_in_a_hold(client, dpo):
    """A hold's window may start at the earliest time Python holds; it is stored or refused, never a 500."""
    base = BASES["/api/v1/staff/retention/holds/place/"] | {"reference": "H-edge"}
    response = verified_client(client, dpo).post(
        "/api/v1/staff/retention/holds/place/",
        json.dumps(base | {"window_start": "0001-01-01T01:00:00+01:00",
                           "window_end": (date.today() + timedelta(days=1)).isoformat() + "T00:00:00Z"}),
        content_type="application/json")
    assert response.status_code < 500
