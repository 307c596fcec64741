"""Live push (traffic/push): what FreeSWITCH's mod_json_cdr and mod_xml_cdr really send, stored once,
rated and visible like an imported CDR; wrong credentials, non-CDR bodies and oversized bodies refused."""
from __future__ import annotations

import base64
import hashlib
import io
import json
from datetime import date
from decimal import Decimal
from urllib.parse import quote

import pytest
from django.core.management import call_command
from hypothesis import given
from hypothesis import strategies as st
from django.test import override_settings

from tests.factories import verified_client
from traffic.models import Cdr, PushCredential, Source, Tariff
from traffic.push.body import percent_decode
from voipxs.privacy.audit import AuditEntry

URL = "/calls/push/"
START = 1777881600  # 2026-05-04 08:00:00 UTC


def fs_doc(uid: str, *, src: str = "0205550101", dst: str = "0612345678", billsec: int = 61,
           cause: str = "NORMAL_CLEARING", answered: bool = True) -> dict:
    """A mod_json_cdr document as FreeSWITCH writes it (encode-values on: values URL-encoded)."""
    variables = {
        "uuid": uid, "sip_call_id": quote(f"{uid}@10.0.0.1"), "caller_id_number": src, "caller_id_name": "Alice%20A",
        "start_epoch": str(START), "start_uepoch": str(START * 1_000_000),
        "answer_epoch": str(START + 5) if answered else "0", "answer_uepoch": str((START + 5) * 1_000_000) if answered else "0",
        "end_epoch": str(START + 5 + billsec), "end_uepoch": str((START + 5 + billsec) * 1_000_000),
        "duration": str(5 + billsec), "billsec": str(billsec if answered else 0), "hangup_cause": cause,
        "start_stamp": "2026-05-04%2010%3A00%3A00",
    }
    return {"core-uuid": "c0ffee", "switchname": "fs1", "channel_data": {"state": "CS_REPORTING"},
            "variables": variables,
            "callflow": [{"profile_index": "1", "caller_profile": {"destination_number": dst, "uuid": uid}}]}


def fs_xml(uid: str, *, billsec: int = 61) -> str:
    """A mod_xml_cdr document: variables URL-encoded, as FreeSWITCH writes them."""
    variables = fs_doc(uid, billsec=billsec)["variables"]
    body = "".join(f"<{k}>{v}</{k}>" for k, v in variables.items())
    return (f'<?xml version="1.0"?>\n<cdr core-uuid="c0ffee" switchname="fs1"><channel_data><state>CS_REPORTING'
            f'</state></channel_data><variables>{body}</variables><callflow dialplan="XML" profile_index="1">'
            f'<caller_profile><username>1000</username><destination_number>0612345678</destination_number>'
            f'</caller_profile></callflow></cdr>')


@pytest.fixture
def pusher(db):
    out = io.StringIO()
    call_command("cdr_source", "add", "fs1", "--format", "freeswitch-json", "--timezone", "Europe/Amsterdam",
                 "--push", stdout=out)
    return json.loads(out.getvalue().strip().splitlines()[-1])


def auth(creds: dict, password: str | None = None) -> dict:
    token = base64.b64encode(f"{creds['username']}:{password or creds['password']}".encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {token}"}


def push_json(client, document: dict, *, source: str = "kamailio1"):
    """A new push source of format freeswitch-json (as deploy/kamailio/kamailio.cfg's is declared), and one
    JSON document POSTed to it the way Kamailio's http_client sends it."""
    out = io.StringIO()
    call_command("cdr_source", "add", source, "--format", "freeswitch-json", "--timezone", "UTC", "--push", stdout=out)
    creds = json.loads(out.getvalue().strip().splitlines()[-1])
    return client.post(URL, data=json.dumps(document).encode(), content_type="application/json", **auth(creds)), creds


def form(document: str, client, creds, *, kind: str = "application/x-www-form-urlencoded", encode=True):
    body = "cdr=" + (quote(document, safe="") if encode else document)
    return client.post(URL, data=body.encode(), content_type=kind, **auth(creds))


class CredentialTests:
    def test_add_with_push_ends_with_one_json_line_and_stores_only_a_hash(self, pusher):
        assert pusher["url"].endswith("/calls/push/") and pusher["username"] == "push-fs1"
        stored = PushCredential.objects.get(username="push-fs1")
        assert stored.password_sha256 == hashlib.sha256(pusher["password"].encode()).hexdigest()
        assert pusher["password"] not in str(PushCredential.objects.values_list())
        assert AuditEntry.objects.filter(action="cdr_source.push_credential").exists()

    def test_a_new_credential_replaces_the_old_one(self, client, pusher):
        out = io.StringIO()
        call_command("cdr_source", "push", "fs1", stdout=out)
        new = json.loads(out.getvalue().strip().splitlines()[-1])
        document = json.dumps(fs_doc("u-rotate"))
        assert client.post(URL, data=document, content_type="application/json", **auth(pusher)).status_code == 401
        assert client.post(URL, data=document, content_type="application/json", **auth(new)).status_code == 201

    def test_a_new_credential_for_an_unknown_source_names_the_field(self, db):
        from django.core.management import CommandError

        with pytest.raises(CommandError, match="name: no source"):
            call_command("cdr_source", "push", "nope", stdout=io.StringIO())
        assert not PushCredential.objects.exists()

    @pytest.mark.parametrize("headers", [
        {}, {"HTTP_AUTHORIZATION": "Basic !!!"}, {"HTTP_AUTHORIZATION": "Bearer abc"},
        {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(b"push-nobody:x").decode()},
    ])
    def test_no_or_an_unknown_credential_is_401(self, client, pusher, headers):
        response = client.post(URL, data=json.dumps(fs_doc("u1")), content_type="application/json", **headers)
        assert response.status_code == 401 and response["WWW-Authenticate"].startswith("Basic")
        assert not Cdr.objects.exists()

    def test_a_wrong_password_is_401(self, client, pusher):
        response = client.post(URL, data=json.dumps(fs_doc("u1")), content_type="application/json",
                               **auth(pusher, password="guess"))
        assert response.status_code == 401 and not Cdr.objects.exists()


class WhatFreeswitchSendsTests:
    def test_mod_json_cdr_form_urlencoded_is_stored_with_its_times(self, client, pusher):
        response = form(json.dumps(fs_doc("u-json", billsec=61)), client, pusher)
        assert response.status_code == 201, response.content
        cdr = Cdr.objects.get(unique_id="u-json")
        assert (cdr.disposition, cdr.billsec, cdr.duration) == ("answered", 61, 66)
        assert int(cdr.started_at.timestamp()) == START and int(cdr.answered_at.timestamp()) == START + 5

    def test_base64_and_bare_json_and_values_not_url_encoded(self, client, pusher):
        plain = fs_doc("u-plain")
        plain["variables"]["caller_id_name"] = "Alice A"
        b64 = base64.b64encode(json.dumps(fs_doc("u-b64")).encode()).decode()
        assert client.post(URL, data=f"cdr={b64}", content_type="application/x-www-form-base64-encoded",
                           **auth(pusher)).status_code == 201
        assert client.post(URL, data=json.dumps(plain), content_type="application/json", **auth(pusher)).status_code == 201
        assert set(Cdr.objects.values_list("unique_id", flat=True)) == {"u-b64", "u-plain"}

    @pytest.mark.parametrize("kind, encode", [
        ("application/x-www-form-urlencoded", True), ("application/x-www-form-plaintext", False),
        ("text/xml", None),
    ])
    def test_mod_xml_cdr_in_each_encoding(self, client, pusher, kind, encode):
        if encode is None:
            response = client.post(URL, data=fs_xml("u-xml"), content_type=kind, **auth(pusher))
        else:
            response = form(fs_xml("u-xml"), client, pusher, kind=kind, encode=encode)
        assert response.status_code == 201, response.content
        assert Cdr.objects.get(unique_id="u-xml").billsec == 61

    def test_a_retried_push_answers_2xx_and_stores_one_cdr(self, client, pusher):
        document = json.dumps(fs_doc("u-retry"))
        statuses = [form(document, client, pusher).status_code for _ in range(3)]
        assert statuses == [201, 201, 201]
        assert Cdr.objects.filter(unique_id="u-retry").count() == 1

    def test_the_same_id_with_other_figures_is_a_409_and_changes_nothing(self, client, pusher):
        assert form(json.dumps(fs_doc("u-c", billsec=61)), client, pusher).status_code == 201
        response = form(json.dumps(fs_doc("u-c", billsec=99)), client, pusher)
        assert response.status_code == 409 and "same unique id" in response.json()["error"]
        assert list(Cdr.objects.values_list("billsec", flat=True)) == [61]


@given(st.binary(max_size=64) | st.text(alphabet="%\\x0123456789abcdefABCDEF+ az", max_size=40).map(str.encode))
def test_the_fast_percent_decoding_is_urllibs(data):
    from urllib.parse import quote_from_bytes, unquote_to_bytes

    assert percent_decode(data) == unquote_to_bytes(data)
    assert percent_decode(quote_from_bytes(data).encode()) == data


class RefusalTests:
    @pytest.mark.parametrize("body, kind, words", [
        (b"", "application/json", "empty"),
        (b"hello=1", "application/x-www-form-urlencoded", "no cdr field"),
        (b"cdr=%7Bnot json", "application/x-www-form-urlencoded", "not"),
        (b'{"no": "variables"}', "application/json", "no variables"),
        (b"<html><body>hi</body></html>", "text/xml", "root is not <cdr>"),
        (b"<cdr><variables>", "text/xml", "not well-formed"),
        (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><cdr/>', "text/xml", "DOCTYPE"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "image/png", "not"),
        (json.dumps({"variables": {"uuid": "x"}}).encode(), "application/json", "start"),
    ])
    def test_a_body_that_is_no_cdr_gets_a_4xx_naming_why(self, client, pusher, body, kind, words):
        response = client.post(URL, data=body, content_type=kind, **auth(pusher))
        assert 400 <= response.status_code < 500, response.content
        assert words.lower() in response.json()["error"].lower()
        assert not Cdr.objects.exists()

    @override_settings(CDR_PUSH_MAX_BYTES=2000)
    def test_a_body_over_the_limit_is_413(self, client, pusher):
        document = fs_doc("u-big")
        document["variables"]["padding"] = "x" * 3000
        response = client.post(URL, data=json.dumps(document), content_type="application/json", **auth(pusher))
        assert response.status_code == 413 and "2000 bytes" in response.json()["error"]
        assert not Cdr.objects.exists()

    def test_get_is_not_allowed_and_no_csrf_token_is_needed(self, pusher):
        from django.test import Client

        strict = Client(enforce_csrf_checks=True)
        assert strict.get(URL, **auth(pusher)).status_code == 405
        response = strict.post(URL, data=json.dumps(fs_doc("u-csrf")), content_type="application/json", **auth(pusher))
        assert response.status_code == 201 and "sessionid" not in response.cookies

    def test_xml_to_a_source_of_another_format_is_415(self, client, db):
        out = io.StringIO()
        call_command("cdr_source", "add", "ast", "--format", "asterisk-csv", "--timezone", "UTC", "--push", stdout=out)
        creds = json.loads(out.getvalue().strip().splitlines()[-1])
        response = client.post(URL, data=fs_xml("u"), content_type="text/xml", **auth(creds))
        assert response.status_code == 415 and "freeswitch-json" in response.json()["error"]


class RatedAndVisibleTests:
    def test_a_pushed_call_is_rated_and_in_the_customers_calls(self, client, pusher, alice):
        Tariff.objects.create(prefix="316", zone="NL mobile", price_per_minute=Decimal("0.10"), increment_first=60,
                              increment_next=60, valid_from=date(2020, 1, 1))
        assert form(json.dumps(fs_doc("u-rated", billsec=61)), client, pusher).status_code == 201
        cdr = Cdr.objects.get(unique_id="u-rated")
        assert (cdr.account_id, cdr.zone, cdr.price) == (alice.pk, "NL mobile", Decimal("0.20000"))
        assert AuditEntry.objects.filter(action="cdr_push.store", target_id=str(Source.objects.get().pk)).exists()
        verified_client(client, alice)
        calls = client.get("/api/v1/me/calls/").json()["results"]
        assert [(c["other_number"], c["billsec"]) for c in calls] == [("+31612345678", 61)]


class AsteriskCollectorTests:
    """An Asterisk collector (README "Connecting your switch") POSTs each new Master.csv line as it is."""

    LINE = ('"acct-7","0205550101","0612345678","from-internal","""Jansen"" <0205550101>","SIP/alice-00000001",'
            '"SIP/trunk-00000002","Dial","SIP/trunk/0612345678,60","2026-05-04 10:00:00","2026-05-04 10:00:05",'
            '"2026-05-04 10:01:06",66,61,"ANSWERED","DOCUMENTATION","1001.1",""\n')

    def test_a_master_csv_line_is_stored_once_in_the_sources_time_zone(self, client, db):
        out = io.StringIO()
        call_command("cdr_source", "add", "ast1", "--format", "asterisk-csv", "--timezone", "Europe/Amsterdam",
                     "--push", stdout=out)
        creds = json.loads(out.getvalue().strip().splitlines()[-1])
        for _ in range(2):
            response = client.post(URL, data=self.LINE.encode(), content_type="text/csv", **auth(creds))
            assert response.status_code == 201, response.content
        cdr = Cdr.objects.get()
        assert (cdr.unique_id, cdr.billsec, cdr.started_at.isoformat()) == ("1001.1", 61, "2026-05-04T08:00:00+00:00")

    def test_a_line_of_another_layout_is_a_4xx_naming_why(self, client, db):
        out = io.StringIO()
        call_command("cdr_source", "add", "ast2", "--format", "asterisk-csv", "--timezone", "UTC", "--push", stdout=out)
        creds = json.loads(out.getvalue().strip().splitlines()[-1])
        response = client.post(URL, data=b'"a","b"\n', content_type="text/csv", **auth(creds))
        assert response.status_code == 400 and "column" in response.json()["error"].lower()
        assert not Cdr.objects.exists()
