"""LEGAL.md section 5 row 8 (Tw art. 11.5a, ePrivacy art. 9; LEGAL.md 1.3): the caller's location on a 112 call
is for the emergency centre, passed through by the switch and never kept here. VoIPXS has no consent model, so
no location may be stored at all (tests/voipxs/test_no_location_data.py keeps location fields out of the models).

Here a 112 call reaches us from each kind of switch with the location its signalling carried, where an operator
might let it into a CDR: a dialplan's CDR(userfield) on Asterisk, FreeSWITCH's channel variables of the
Geolocation and P-Access-Network-Info headers and a PIDF-LO body (mod_json_cdr writes every variable), a
Kamailio push whose route added them, and a Kamailio acc line with them as cdr_extra. The call is stored (it is
traffic data, billed at nothing), and its location is nowhere: in no column of any table, in clear or inside the
encrypted numbers, caller name and technical identifiers."""
from __future__ import annotations

import io
import json

import pytest

from tests.stored_values import columns_holding, decrypted_call_values
from tests.traffic.test_push import START, push_json
from traffic.models import Cdr
from traffic.services.imports import cdr_bulk_import
from traffic.services.sources import source_create

pytestmark = pytest.mark.django_db

# The location the handset or the access network sent: coordinates (PIDF-LO, RFC 4119 / 5491), the 3GPP cell
# (P-Access-Network-Info, RFC 7315), and the Geolocation header's reference to the location body (RFC 6442).
LATITUDE, LONGITUDE, CELL, LOCATION_REF = "52.37021", "4.89516", "2040f1a2b3c4d", "loc-7f3a9e"
LOCATION = (LATITUDE, LONGITUDE, CELL, LOCATION_REF)
PIDF = (f'<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="pres:alice@voipxs.invalid"><tuple id="{LOCATION_REF}">'
        f'<status><geopriv><location-info><gml:Point srsName="urn:ogc:def:crs:EPSG::4326"><gml:pos>{LATITUDE} '
        f'{LONGITUDE}</gml:pos></gml:Point></location-info></geopriv></status></tuple></presence>')
GEOLOCATION = f"<cid:{LOCATION_REF}@voipxs.invalid>"
PANI = f"3GPP-E-UTRAN-FDD; utran-cell-id-3gpp={CELL}"


def _asterisk() -> bytes:
    """Master.csv with loguniqueid and loguserfield: the dialplan put the location in CDR(userfield)."""
    fields = ["", "0205550101", "112", "from-internal", '"Alice" <0205550101>', "PJSIP/alice-0000001a",
              "PJSIP/psap-0000001b", "Dial", "PJSIP/112@psap,60", "2026-05-04 10:00:00", "2026-05-04 10:00:02",
              "2026-05-04 10:03:02"]
    text = ",".join('"' + f.replace('"', '""') + '"' for f in fields)
    return (text + f',182,180,"ANSWERED","DOCUMENTATION","1777881600.7","geo={LATITUDE},{LONGITUDE};{PANI}"\n').encode()


def _location_variables() -> dict:
    return {"sip_geolocation": GEOLOCATION, "sip_h_Geolocation": GEOLOCATION, "sip_geolocation_routing": "yes",
            "sip_P-Access-Network-Info": PANI, "sip_h_P-Access-Network-Info": PANI,
            "sip_multipart": f"application/pidf+xml:{PIDF}", "emergency_location": f"{LATITUDE},{LONGITUDE}"}


def _freeswitch() -> bytes:
    variables = {"uuid": "9b2d7c40-1e3f-4a5b-8c6d-7e8f9a0b1c2d", "caller_id_number": "0205550101",
                 "destination_number": "112", "start_epoch": str(START + 600), "answer_epoch": str(START + 602),
                 "end_epoch": str(START + 782), "duration": "182", "billsec": "180", "hangup_cause": "NORMAL_CLEARING",
                 "sip_call_id": "e1f2a3b4@192.0.2.60", "sip_network_ip": "192.0.2.60", **_location_variables()}
    flow = [{"caller_profile": {"destination_number": "112"}}]
    return json.dumps({"variables": variables, "callflow": flow}).encode()


def _kamailio_push() -> dict:
    """kamailio.cfg's document, from a route that also copied the location headers into it."""
    return {"variables": {"uuid": "c4d5e6f7a8b9@192.0.2.61", "sip_call_id": "c4d5e6f7a8b9@192.0.2.61",
                          "caller_id_number": "0205550101", "destination_number": "112",
                          "sip_network_ip": "192.0.2.61", "hangup_cause": "NORMAL_CLEARING",
                          "start_uepoch": f"{START + 1200}000000", "answer_uepoch": f"{START + 1202}000000",
                          "end_uepoch": f"{START + 1382}000000", **_location_variables()}}


def _kamailio_acc() -> bytes:
    """An acc CDR line whose cdr_extra logs the Geolocation and P-Access-Network-Info headers ($hdr(...))."""
    return (f"Dec  4 10:00:00 proxy kamailio[812]: NOTICE: acc [acc_cdr.c:255]: start_time={START + 1800}.000000; "
            f"end_time={START + 1982}.000000; duration=182.000000; callid=f0e1d2c3@192.0.2.62; src_user=0205550101; "
            f"dst_user=112; geolocation={GEOLOCATION}; pani={PANI}; pidf={PIDF}; sip_code=200\n").encode()


@pytest.fixture
def emergency_calls(client, alice) -> list[Cdr]:
    for name, kind, data in (("pbx1", "asterisk-csv", _asterisk()), ("fs1", "freeswitch-json", _freeswitch()),
                             ("proxy1", "kamailio-acc", _kamailio_acc())):
        source = source_create(name=name, format=kind, timezone="UTC")
        result = cdr_bulk_import(source=source, stream=io.BytesIO(data), file_name="cdrs")
        assert (result.status, result.imported, result.report["rejected"]) == ("done", 1, []), name
    response, _ = push_json(client, _kamailio_push())
    assert response.status_code == 201, response.content
    return list(Cdr.objects.order_by("started_at"))


class EmergencyCallLocationTests:
    def test_a_112_call_from_each_switch_is_stored_without_the_callers_location(self, emergency_calls):
        assert len(emergency_calls) == 4
        assert {cdr.account_id for cdr in emergency_calls} == {emergency_calls[0].account_id} != {None}
        clear = {cdr.id: decrypted_call_values(cdr) for cdr in emergency_calls}
        assert all("112" in values for values in clear.values())  # the call itself is kept, as traffic data
        assert {cdr.id: [v for v in values if any(m in v for m in LOCATION)] for cdr, values in
                zip(emergency_calls, clear.values())} == {cdr.id: [] for cdr in emergency_calls}
        assert columns_holding(*LOCATION) == []

    def test_the_check_sees_a_location_where_it_would_be_kept(self, emergency_calls):
        """The scan reads every table: a location written into any column is found."""
        Cdr.objects.filter(id=emergency_calls[0].id).update(account_code=f"{LATITUDE},{LONGITUDE}")
        assert columns_holding(*LOCATION) == ["traffic_cdr.account_code"]
