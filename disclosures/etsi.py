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
- responseStatus: responseComplete, also where the authority capped the answer (RequestMessage maxHits) and more
  records matched than it asked for. What the standard itself says of that case is the comment on maxHits in
  RDMessage.asn (ETSI Forge li/trial, 102657/RDMessage.asn, kept alike in the v16 and v17 modules of the diff
  42061c3b): "Maximum number of records to be returned. / On a national basis maximum numbers could be considered
  / In case of maxHit a responseFailed message is sent and no data is sent / (see clause 6.3.3.2)". So the standard
  does not cut an answer to maxHits: it refuses it whole. We hand over the first records up to the cap instead
  (production.capped, as this app was designed), so no status of the standard's describes the file: responseFailed says no
  data follow, where the file holds records, and responseIncomplete (LEGAL.md section 3.2, [R]) announces further
  messages, which none are. The file says what it holds, completely; that the answer was cut to the cap, and how
  many matched, is in the manifest (rendering._max_hits, per category) and on the officer's pages. Clause 6.3.3.2
  itself, and the ResponseStatus type's text, could not be read here. The file holds call records only:
  subscriber data go in subscribers.json.
Values go through ElementTree, so caller-supplied text is always escaped. A package's file is written one batch
of records at a time (`render_chunks`), so that a delivery of hundreds of thousands of calls never has the whole
tree or text in memory; the bytes are those of ElementTree writing the whole message.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone
from typing import Iterable, Iterator

NAMESPACE = "http://uri.etsi.org/02657/v1.28.1#/RetainedData"
RD_HEADER_ID = "0.4.0.2.3.0.28"  # retainedData rdHeader version28 (the OID of the module version used)
COUNTRY_CODE = "NL"
_MARKER = "responseRecordsGoHere"  # where render_chunks cuts the frame


def generalized_time(moment: datetime) -> str:
    """ASN.1 GeneralizedTime as the XML deliveries write it: YYYYMMDDHHMMSS plus the zone, here UTC "Z"."""
    return moment.astimezone(timezone.utc).strftime("%Y%m%d%H%M%SZ")


def _q(tag: str) -> str:
    return f"{{{NAMESPACE}}}{tag}"


def _sub(parent: ET.Element, tag: str, text: object | None = None, *, qualified: bool = True) -> ET.Element:
    element = ET.SubElement(parent, _q(tag) if qualified else tag)
    if text is not None:
        element.text = str(text)
    return element


def _party(parent: ET.Element, *, role: str, number: str, start: datetime, end: datetime, duration: int) -> None:
    party = _sub(parent, "TelephonyPartyInformation", qualified=False)
    _sub(_sub(party, "partyRole", qualified=False), role, qualified=False)
    _sub(party, "partyNumber", number, qualified=False)
    when = _sub(party, "communicationTime", qualified=False)
    _sub(when, "startTime", generalized_time(start), qualified=False)
    _sub(when, "endTime", generalized_time(end), qualified=False)
    _sub(when, "durationTime", duration, qualified=False)


def _record(number: int, row) -> ET.Element:
    """One ResponseRecord, its tags without the namespace: serialised on its own it reads exactly as it does
    inside the message, where the namespace is the default one (no prefix)."""
    record = ET.Element("ResponseRecord")
    _sub(record, "recordNumber", number, qualified=False)
    usage = record
    for tag in ("recordPayload", "telephonyRecord", "telephonyServiceUsage"):
        usage = _sub(usage, tag, qualified=False)
    parties = _sub(usage, "partyInformation", qualified=False)
    end = row.started_at + timedelta(seconds=row.duration)
    for role, party_number in (("originating-Party", row.src), ("terminating-Party", row.dst)):
        _party(parties, role=role, number=party_number, start=row.started_at, end=end, duration=row.duration)
    other = ";".join(f'"{k}"="{v}"' for k, v in (("cdrID", row.cdr_id), ("direction", row.direction),
                                                  ("disposition", row.disposition)))
    _sub(_sub(record, "additionalInformation", qualified=False), "otherInformation", other, qualified=False)
    return record


def record_xml(number: int, row) -> bytes:
    """The ResponseRecord of call `number` (1..n), as ElementTree writes it in the message (UTF-8, characters
    it cannot encode as character references)."""
    return ET.tostring(_record(number, row), encoding="unicode").encode("utf-8", "xmlcharrefreplace")


def _message(*, reference: str, authority: str, provider_id: str, generated_at: datetime,
             ) -> tuple[ET.Element, ET.Element]:
    """The message without its records, and the responsePayload element they go in."""
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
    return root, _sub(response, "responsePayload")


def render_chunks(*, request_id: int, reference: str, authority: str, provider_id: str, legal_basis: str,
                  generated_at: datetime, rows: Iterable, batch: int = 1000) -> Iterator[bytes]:
    """The message in pieces (`batch` records each), without the whole tree or text in memory: the bytes joined
    are those ElementTree writes for the whole message (`render`). The frame is written by ElementTree around a
    marker element, and cut at it; text goes through ElementTree, which escapes `<`, so the marker's tag cannot
    appear anywhere else."""
    root, payload = _message(reference=reference, authority=authority, provider_id=provider_id,
                             generated_at=generated_at)
    records = enumerate(rows, start=1)
    first = next(records, None)
    if first is None:  # an empty responsePayload is written as <responsePayload />, as before
        yield ET.tostring(root, encoding="utf-8", xml_declaration=True)
        return
    _sub(payload, _MARKER)
    head, tail = ET.tostring(root, encoding="utf-8", xml_declaration=True).split(b"<" + _MARKER.encode() + b" />")
    yield head
    pending = [record_xml(*first)]
    for number, row in records:
        pending.append(record_xml(number, row))
        if len(pending) >= batch:
            yield b"".join(pending)
            pending = []
    yield b"".join(pending) + tail


def render(*, request_id: int, reference: str, authority: str, provider_id: str, legal_basis: str,
           generated_at: datetime, rows: Iterable) -> bytes:
    """`request_id` and `legal_basis` are named in the manifest; the XML identifies the request the way
    the standard does, by the authority and its request number (`reference`). The whole message at once (tests,
    small files); a package writes `render_chunks` into its file."""
    return b"".join(render_chunks(request_id=request_id, reference=reference, authority=authority,
                                  provider_id=provider_id, legal_basis=legal_basis, generated_at=generated_at,
                                  rows=rows))
