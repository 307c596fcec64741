"""Every format end to end (parse → normalise → rate → encrypt → store) on files written here in each
layout: quoted commas and doubled quotes in caller names, empty answer times, CRLF, a byte-order mark,
a truncated last line, a duplicate and a conflicting duplicate."""
from __future__ import annotations

import io
import json
from datetime import datetime, timezone
from urllib.parse import quote

import pytest

from traffic.keys import decrypt_number
from traffic.models import Cdr, CdrTechnical
from traffic.services.imports import cdr_bulk_import
from traffic.services.sources import source_create

pytest.importorskip("traffic.importers", reason="the CDR parsers (traffic/importers) are not in the tree yet")

NAME = 'Jansen, "Jan"'  # a comma and quotes: CSV writes it as "Jansen, ""Jan"""


def q(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


def framed(lines: list[str], truncated: str) -> bytes:
    """BOM, CRLF line ends, and a last line cut off inside a quoted field."""
    return b"\xef\xbb\xbf" + ("\r\n".join(lines) + "\r\n").encode() + truncated.encode()


def asterisk_custom(uid: str, *, answer="2026-05-04 10:00:05", billsec=61, disposition="ANSWERED") -> str:
    clid = f'"{NAME}" <0205550101>'
    return ",".join([q(clid), q("0205550101"), q("0612345678"), q("from-internal"), q("SIP/alice-1"), q("SIP/trunk-2"),
                     q("Dial"), q("SIP/x"), q("2026-05-04 10:00:00"), q(answer), q("2026-05-04 10:01:06"), q("66"),
                     q(str(billsec)), q(disposition), q("DOCUMENTATION"), q("acct-7"), q(uid), q(""), "1"])


def freeswitch_csv(uid: str, *, answer="2026-05-04 10:00:05", billsec=61, cause="NORMAL_CLEARING") -> str:
    return ",".join([q(NAME), q("0205550101"), q("0612345678"), q("default"), q("2026-05-04 10:00:00"), q(answer),
                     q("2026-05-04 10:01:06"), q("66"), q(str(billsec)), q(cause), q(uid), q(""), q("acct-7"),
                     q("PCMA"), q("PCMA")])


def freeswitch_doc(uid: str, *, billsec=61, answered=True, callflow_list=True, dst_in_profile_only=False) -> dict:
    enc = lambda v: quote(str(v), safe="")  # noqa: E731  (mod_json_cdr's encode-values)
    variables = {
        "uuid": enc(uid), "caller_id_name": enc(NAME), "caller_id_number": enc("0205550101"),
        "start_stamp": enc("2026-05-04 10:00:00"), "answer_stamp": enc("2026-05-04 10:00:05" if answered else ""),
        "end_stamp": enc("2026-05-04 10:01:06"), "duration": "66", "billsec": str(billsec),
        "hangup_cause": "NORMAL_CLEARING" if answered else "NO_ANSWER", "accountcode": "acct-7",
        "channel_name": enc("sofia/internal/alice@pbx"), "sip_call_id": enc("abc@192.0.2.1"),
        "sip_network_ip": "192.0.2.1", "sip_user_agent": enc("Yealink T46U"),
    }
    profile = {"caller_id_number": "0205550101", "destination_number": "0612345678"}
    if not dst_in_profile_only:
        variables["destination_number"] = enc("0612345678")
    flow = {"caller_profile": profile}
    return {"variables": variables, "callflow": [flow] if callflow_list else flow}


def import_bytes(source, data: bytes):
    return cdr_bulk_import(source=source, stream=io.BytesIO(data), file_name="cdrs")


def assert_landed(result, source, *, imported=3, duplicates=1, conflicts=1, rejected_lines=(6,)):
    assert result.status == "done", result.error
    assert (result.imported, result.duplicates, result.conflicts) == (imported, duplicates, conflicts)
    assert [r["line"] for r in result.report["rejected"]] == list(rejected_lines)
    rows = {c.unique_id: c for c in Cdr.objects.filter(source=source)}
    answered = rows["u-1"]
    assert answered.started_at == datetime(2026, 5, 4, 8, 0, tzinfo=timezone.utc)
    assert (answered.direction, answered.disposition, answered.billsec) == ("out", "answered", 61)
    assert decrypt_number(answered.dst_enc, started_at=answered.started_at) == "+31612345678"
    assert decrypt_number(answered.caller_name_enc, started_at=answered.started_at) == NAME
    unanswered = rows["u-2"]
    assert (unanswered.answered_at, unanswered.rating) == (None, "free")
    return rows


@pytest.fixture
def tariff(db):
    from datetime import date
    from decimal import Decimal

    from traffic.models import Tariff

    return Tariff.objects.create(prefix="316", zone="NL mobile", price_per_minute=Decimal("0.10"), valid_from=date(2020, 1, 1))


class AsteriskCustomIngestTests:
    def test_it_lands_with_duplicates_conflicts_and_a_rejected_truncated_line(self, alice, tariff):
        source = source_create(name="custom", format="asterisk-custom", timezone="Europe/Amsterdam")
        data = framed([
            asterisk_custom("u-1"), asterisk_custom("u-2", answer="", billsec=0, disposition="NO ANSWER"),
            asterisk_custom("u-3"), asterisk_custom("u-1"), asterisk_custom("u-3", billsec=5),
        ], truncated=asterisk_custom("u-4")[:40])

        rows = assert_landed(import_bytes(source, data), source)
        assert rows["u-1"].account_code == "acct-7" and rows["u-1"].rating == "rated"
        assert import_bytes(source, data).imported == 0


class FreeswitchCsvIngestTests:
    def test_it_lands_with_duplicates_conflicts_and_a_rejected_truncated_line(self, alice, tariff):
        source = source_create(name="fs-csv", format="freeswitch-csv", timezone="Europe/Amsterdam")
        data = framed([
            freeswitch_csv("u-1"), freeswitch_csv("u-2", answer="", billsec=0, cause="NO_ANSWER"),
            freeswitch_csv("u-3"), freeswitch_csv("u-1"), freeswitch_csv("u-3", billsec=5),
        ], truncated=freeswitch_csv("u-4")[:30])

        rows = assert_landed(import_bytes(source, data), source)
        assert rows["u-1"].price is not None
        assert import_bytes(source, data).imported == 0


class FreeswitchJsonIngestTests:
    def test_ndjson_lands_with_duplicates_conflicts_and_a_rejected_truncated_line(self, alice, tariff):
        source = source_create(name="fs-json", format="freeswitch-json", timezone="Europe/Amsterdam")
        docs = [freeswitch_doc("u-1"), freeswitch_doc("u-2", billsec=0, answered=False, callflow_list=False),
                freeswitch_doc("u-3", dst_in_profile_only=True), freeswitch_doc("u-1"), freeswitch_doc("u-3", billsec=5)]
        lines = [json.dumps(d) for d in docs]
        data = framed(lines, truncated=json.dumps(freeswitch_doc("u-4"))[:50])

        rows = assert_landed(import_bytes(source, data), source)
        assert decrypt_number(rows["u-3"].dst_enc, started_at=rows["u-3"].started_at) == "+31612345678"
        tech = CdrTechnical.objects.get(cdr_id=rows["u-1"].id)
        from traffic.keys import month_cipher
        from traffic.partitions import month_start

        payload = json.loads(month_cipher(month_start(tech.started_at)).decrypt(bytes(tech.payload_enc)))
        assert payload == {"channel": "sofia/internal/alice@pbx", "sip_call_id": "abc@192.0.2.1",
                           "remote_ip": "192.0.2.1", "user_agent": "Yealink T46U"}
        assert import_bytes(source, data).imported == 0

    def test_a_single_document_file_lands(self, alice):
        source = source_create(name="fs-one", format="freeswitch-json", timezone="UTC")
        result = import_bytes(source, json.dumps(freeswitch_doc("one-1")).encode())
        assert (result.status, result.imported) == ("done", 1)
