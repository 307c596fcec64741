"""An XML file shaped on ETSI TS 102 657 (Retained data handling; handover interface): a
RetainedDataMessage with the request's identifiers and one record per call, carrying the originating
and terminating party numbers, begin and end time and duration. The shape follows the standard's
RetainedDataHeader / RetainedDataRecords structure in an XML rendering; it is not the ASN.1 BER
encoding. Values are written through ElementTree, so caller-supplied text is always escaped."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime, timedelta
from typing import Iterable

NAMESPACE = "http://uri.etsi.org/02657/v1.18.1#/RetainedData"


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def render(*, request_id: int, reference: str, authority: str, provider_id: str, legal_basis: str,
           generated_at: datetime, rows: Iterable) -> bytes:
    ET.register_namespace("", NAMESPACE)
    q = lambda tag: f"{{{NAMESPACE}}}{tag}"  # noqa: E731
    root = ET.Element(q("RetainedDataMessage"))
    header = ET.SubElement(root, q("retainedDataHeader"))
    ET.SubElement(header, q("requestID")).text = str(request_id)
    ET.SubElement(header, q("authorizedOrganizationID")).text = authority
    ET.SubElement(header, q("requestReference")).text = reference
    ET.SubElement(header, q("cSPID")).text = provider_id
    ET.SubElement(header, q("legalBasis")).text = legal_basis
    ET.SubElement(header, q("timeStamp")).text = _iso(generated_at)
    payload = ET.SubElement(root, q("retainedDataPayload"))
    records = ET.SubElement(payload, q("requestAnswer"))
    count = 0
    for row in rows:
        count += 1
        record = ET.SubElement(records, q("retainedDataRecord"))
        ET.SubElement(record, q("recordID")).text = str(row.cdr_id)
        call = ET.SubElement(record, q("telephonyServiceUsage"))
        party = ET.SubElement(call, q("partyInformation"))
        orig = ET.SubElement(party, q("originatingParty"))
        ET.SubElement(orig, q("e164Number")).text = row.src
        term = ET.SubElement(party, q("terminatingParty"))
        ET.SubElement(term, q("e164Number")).text = row.dst
        ET.SubElement(call, q("communicationTime")).text = _iso(row.started_at)
        ET.SubElement(call, q("communicationEndTime")).text = _iso(row.started_at + timedelta(seconds=row.duration))
        ET.SubElement(call, q("duration")).text = str(row.duration)
        ET.SubElement(call, q("callDirection")).text = row.direction
        ET.SubElement(call, q("disposition")).text = row.disposition
    ET.SubElement(header, q("numberOfRecords")).text = str(count)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)
