"""LEGAL.md section 5 row 1 (Tw art. 11.5(1)): transient signalling and IP data are kept hours to days, the
billing fields longer. CDRs come in as the switches send them (an Asterisk Master.csv, a FreeSWITCH
mod_json_cdr file, a Kamailio push built as deploy/kamailio/kamailio.cfg builds it, whose uuid is the SIP
Call-ID with the caller's host address in it); the clock moves past the technical period (30 days); after the
purge, no IP address, Call-ID or user agent is left anywhere in the database, while every call's billing
fields are still there."""
from __future__ import annotations

import io
import json
from datetime import datetime, timedelta, timezone

import pytest

from retention.purge.run import purge_expired
from tests.factories import make_cdr
from tests.stored_values import columns_holding, decrypted_call_values
from tests.traffic.test_push import URL, auth, push_json
from traffic.ingest.rows import stored_id
from traffic.models import Cdr, CdrTechnical, Source
from traffic.services.imports import cdr_bulk_import
from traffic.services.sources import source_create

pytestmark = pytest.mark.django_db

START = 1777881600  # 2026-05-04 08:00:00 UTC
STARTED = datetime.fromtimestamp(START, tz=timezone.utc)
# What each switch knows of the phone that placed the call: signalling, not billing.
KAMAILIO_CALL_ID, KAMAILIO_IP, KAMAILIO_UA = "5a1c0b7e3f2d9e41@192.0.2.44", "192.0.2.44", "Linphone/5.2.1 (belle-sip)"
ASTERISK_IP = "192.0.2.45"
FREESWITCH_CALL_ID, FREESWITCH_IP, FREESWITCH_UA = "77e1c9d04b@192.0.2.46", "192.0.2.46", "Yealink SIP-T46U 108.86"
TRANSIENT = (KAMAILIO_CALL_ID, KAMAILIO_IP, KAMAILIO_UA, ASTERISK_IP, FREESWITCH_CALL_ID, FREESWITCH_IP,
             FREESWITCH_UA)


def _asterisk_line() -> str:
    fields = ["", "0205550101", "0699990001", "from-internal", '"Alice" <0205550101>', f"SIP/{ASTERISK_IP}-0000002a",
              "SIP/trunk-0000002b", "Dial", "SIP/trunk/0699990001,60", "2026-05-04 10:00:00", "2026-05-04 10:00:05",
              "2026-05-04 10:01:06"]
    quoted = ",".join('"' + f.replace('"', '""') + '"' for f in fields)
    return quoted + ',66,61,"ANSWERED","DOCUMENTATION","1777881600.42",""\n'


def _freeswitch_doc() -> dict:
    return {"variables": {
        "uuid": "3f0e8c1a-2b4d-4e6f-8a9b-0c1d2e3f4a5b", "caller_id_number": "0205550101",
        "destination_number": "0699990002", "start_epoch": str(START + 600), "answer_epoch": str(START + 605),
        "end_epoch": str(START + 666), "duration": "66", "billsec": "61", "hangup_cause": "NORMAL_CLEARING",
        "channel_name": "sofia/internal/0205550101@192.0.2.46", "sip_call_id": FREESWITCH_CALL_ID,
        "sip_network_ip": FREESWITCH_IP, "sip_user_agent": FREESWITCH_UA}}


def _kamailio_push() -> dict:
    """The document kamailio.cfg's route[CDR_PUSH] POSTs: its values as Kamailio has them (not URL-encoded)."""
    return {"variables": {
        "uuid": KAMAILIO_CALL_ID, "sip_call_id": KAMAILIO_CALL_ID, "caller_id_number": "0205550101",
        "destination_number": "0699990003", "sip_network_ip": KAMAILIO_IP, "sip_user_agent": KAMAILIO_UA,
        "hangup_cause": "NORMAL_CLEARING", "start_uepoch": f"{START + 1200}000000",
        "answer_uepoch": f"{START + 1205}000000", "end_uepoch": f"{START + 1266}000000"}}


@pytest.fixture
def ingested(client, alice) -> list[int]:
    """Three of alice's calls, one from each switch, as their switches deliver them."""
    asterisk = source_create(name="pbx1", format="asterisk-csv", timezone="Europe/Amsterdam")
    freeswitch = source_create(name="fs1", format="freeswitch-json", timezone="UTC")
    for source, data in ((asterisk, _asterisk_line().encode()), (freeswitch, json.dumps(_freeswitch_doc()).encode())):
        assert cdr_bulk_import(source=source, stream=io.BytesIO(data), file_name="cdrs").imported == 1
    response, _ = push_json(client, _kamailio_push())
    assert response.status_code == 201, response.content
    calls = list(Cdr.objects.order_by("started_at").values_list("id", flat=True))
    assert Source.objects.count() == 3 and len(calls) == 3
    return calls


def _billing(ids: list[int]) -> list[tuple]:
    return list(Cdr.objects.filter(id__in=ids).order_by("started_at").values_list(
        "started_at", "account_id", "direction", "disposition", "billsec", "rating", "zone", "price"))


class TransientIdentifiersPurgeTests:
    def test_after_the_technical_period_no_signalling_or_ip_data_is_left_and_the_billing_fields_are(self, ingested):
        held = [v for cdr in Cdr.objects.filter(id__in=ingested) for v in decrypted_call_values(cdr)]
        assert all(any(t in v for v in held) for t in TRANSIENT)  # stored on arrival, for the transmission
        billing = _billing(ingested)
        assert [row[4] for row in billing] == [61, 61, 61]

        purge_expired(now=STARTED + timedelta(days=29))
        assert CdrTechnical.objects.filter(cdr_id__in=ingested).count() == 3  # within the period: kept
        purge_expired(now=STARTED + timedelta(days=31))

        assert CdrTechnical.objects.filter(cdr_id__in=ingested).count() == 0
        left = [v for cdr in Cdr.objects.filter(id__in=ingested) for v in decrypted_call_values(cdr)]
        assert not [t for t in TRANSIENT if any(t in v for v in left)]
        assert columns_holding(*TRANSIENT) == []  # nor in clear anywhere: ids, import reports, audit, side tables
        assert _billing(ingested) == billing

    def test_a_pushed_call_id_is_one_id_so_a_retried_push_is_stored_once(self, ingested, client):
        # the id stored in the Call-ID's place is a hash of it: the same Call-ID is the same call
        kamailio = Cdr.objects.get(source__name="kamailio1")
        assert kamailio.unique_id.startswith("ci:") and "@" not in kamailio.unique_id
        first, creds = push_json(client, _kamailio_push(), source="kamailio2")
        again = client.post(URL, data=json.dumps(_kamailio_push()).encode(), content_type="application/json",
                            **auth(creds))  # the switch retries the same CDR: answered 201, stored once
        assert (first.status_code, again.status_code) == (201, 201), again.content
        assert Cdr.objects.filter(source__name="kamailio2").count() == 1
        assert Cdr.objects.get(source__name="kamailio2").unique_id == kamailio.unique_id


@pytest.mark.parametrize("switch_id, hidden", [
    ("5a1c0b7e3f2d9e41@192.0.2.44", True),  # a SIP Call-ID: random@host
    ("192.0.2.7-1777881600-5512", True),  # a Call-ID that is the address with a counter
    ("f81d4fae@[2001:db8::7]", True), ("2001:db8::7-1777881600", True),  # IPv6
    ("1777881600.42", False), ("pbx1-1777881600.42", False),  # Asterisk uniqueid, with systemname
    ("3f0e8c1a-2b4d-4e6f-8a9b-0c1d2e3f4a5b", False),  # FreeSWITCH uuid
    ("kc:0a1b2c3d4e5f60718293a4b5", False), ("h:0a1b2c3d4e5f60718293a4b5", False),  # ours, already hashes
])
def test_an_id_that_names_a_host_is_stored_as_its_hash_and_others_as_written(alice, switch_id, hidden):
    cdr = make_cdr(account=alice, unique_id=switch_id, started_at=STARTED)
    stored = Cdr.objects.get(id=cdr.id).unique_id
    assert (stored == stored_id(switch_id) != switch_id) if hidden else stored == switch_id
