"""The package's XML file in the ETSI TS 102 657 (Retained data handling; handover interface) XML form:
a RetainedDataMessage carrying a ResponseMessage with one ResponseRecord per call.

The structure follows RDMessage.asn (ETSI Forge, li/schemas-definitions/102657, v1.28.1) as its XML
rendering is used in deliveries (namespace `http://uri.etsi.org/02657/v1.28.1#/RetainedData`; element
names and order as in the ASN.1 SEQUENCEs; see ../shared/LEGAL.md section 3.2 and the README,
"TS 102 657"). The official XSD could not be obtained here, so tests/disclosures/test_etsi.py checks the
element structure against a golden file written from the standard's text, not against the schema.

What goes where:
- header: requestID {countryCode "NL", authorisedOrganisationID, requestNumber}, cSPID, timeStamp
  (GeneralizedTime, UTC "Z"). The standard has no header field for the legal basis: it travels in the
  package manifest (disclosures/production.py), so `legal_basis` is accepted and not written here.
- per call: recordNumber (1..n), then recordPayload/telephonyRecord/telephonyServiceUsage/partyInformation
  with a TelephonyPartyInformation per party (partyRole originating-Party / terminating-Party,
  partyNumber E.164, communicationTime {startTime, endTime, durationTime}); the call's id, direction and
  disposition as key=value pairs in additionalInformation/otherInformation (the standard's free field).
Values go through ElementTree, so caller-supplied text is always escaped.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone
from typing import Iterable

NAMESPACE = "http://uri.etsi.org/02657/v1.28.1#/RetainedData"
RD_HEADER_ID = "0.4.0.2.3.0.28"  # retainedData rdHeader version28 (the OID of the module version used)
COUNTRY_CODE = "NL"


def generalized_time(moment: datetime) -> str:
    """ASN.1 GeneralizedTime as the XML deliveries write it: YYYYMMDDHHMMSS plus the zone, here UTC "Z"."""
    return moment.astimezone(timezone.utc).strftime("%Y%m%d%H%M%SZ")


def _q(tag: str) -> str:
    return f"{{{NAMESPACE}}}{tag}"


def _sub(parent: ET.Element, tag: str, text: object | None = None) -> ET.Element:
    element = ET.SubElement(parent, _q(tag))
    if text is not None:
        element.text = str(text)
    return element


def _party(parent: ET.Element, *, role: str, number: str, start: datetime, end: datetime, duration: int) -> None:
    party = _sub(parent, "TelephonyPartyInformation")
    _sub(_sub(party, "partyRole"), role)
    _sub(party, "partyNumber", number)
    when = _sub(party, "communicationTime")
    _sub(when, "startTime", generalized_time(start))
    _sub(when, "endTime", generalized_time(end))
    _sub(when, "durationTime", duration)


def _record(payload: ET.Element, number: int, row) -> None:
    record = _sub(payload, "ResponseRecord")
    _sub(record, "recordNumber", number)
    usage = _sub(_sub(_sub(record, "recordPayload"), "telephonyRecord"), "telephonyServiceUsage")
    parties = _sub(usage, "partyInformation")
    end = row.started_at + timedelta(seconds=row.duration)
    for role, party_number in (("originating-Party", row.src), ("terminating-Party", row.dst)):
        _party(parties, role=role, number=party_number, start=row.started_at, end=end, duration=row.duration)
    other = ";".join(f'"{k}"="{v}"' for k, v in (("cdrID", row.cdr_id), ("direction", row.direction),
                                                  ("disposition", row.disposition)))
    _sub(_sub(record, "additionalInformation"), "otherInformation", other)


def render(*, request_id: int, reference: str, authority: str, provider_id: str, legal_basis: str,
           generated_at: datetime, rows: Iterable) -> bytes:
    """`request_id` and `legal_basis` are named in the manifest; the XML identifies the request the way
    the standard does, by the authority and its request number (`reference`)."""
    ET.register_namespace("", NAMESPACE)
    root = ET.Element(_q("retainedDataMessage"))
    _sub(root, "rdHeaderId", RD_HEADER_ID)
    header = _sub(root, "retainedDataHeader")
    request = _sub(header, "requestID")
    _sub(request, "countryCode", COUNTRY_CODE)
    _sub(request, "authorisedOrganisationID", authority)
    _sub(request, "requestNumber", reference)
    _sub(header, "cSPID", provider_id)
    _sub(header, "timeStamp", generalized_time(generated_at))
    response = _sub(_sub(root, "retainedDataPayload"), "responseMessage")
    _sub(_sub(response, "responseStatus"), "responseComplete")
    payload = _sub(response, "responsePayload")
    for number, row in enumerate(rows, start=1):
        _record(payload, number, row)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)
