"""The package's TS 102 657 XML: element names, order and namespace as the standard's text gives them.

The official XSD could not be obtained (README, "TS 102 657"), so this is a golden-file test: the
renderer's output must equal, element by element, a file written by hand from the standard
(tests/disclosures/golden/etsi_102657_response.xml), and read back the way an importer of real
deliveries reads it (header paths, one ResponseRecord per call, one TelephonyPartyInformation per party)."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from disclosures.etsi import NAMESPACE, generalized_time, render
from disclosures.selectors import Row

GOLDEN = Path(__file__).resolve().parent / "golden" / "etsi_102657_response.xml"
N = f"{{{NAMESPACE}}}"
AMS = ZoneInfo("Europe/Amsterdam")


def _row(cdr_id, started_at, duration, direction, disposition, src, dst) -> Row:
    return Row(cdr_id=cdr_id, started_at=started_at, answered_at=None, duration=duration, billsec=duration,
               direction=direction, disposition=disposition, src=src, dst=dst, src_index="", dst_index="",
               account_id=None)


ROWS = [
    _row(41, datetime(2026, 5, 19, 8, 14, tzinfo=AMS), 497, "outbound", "ANSWERED", "+31205550101", "+31205550999"),
    _row(42, datetime(2026, 5, 19, 23, 0, tzinfo=timezone.utc), 0, "inbound", "NO ANSWER", "+31205550999", "+31205550101"),
]


def _rendered(rows=ROWS) -> bytes:
    return render(request_id=7, reference="PL1300-2026-000123", authority="Politie Eenheid Amsterdam <&>",
                  provider_id="VoIPXS-NL", legal_basis="Sv 126n", rows=rows,
                  generated_at=datetime(2026, 5, 20, 12, 0, tzinfo=AMS))


def _shape(element: ET.Element) -> tuple:
    """Tag, trimmed text and children, in order: what the golden file fixes (not whitespace)."""
    return (element.tag, (element.text or "").strip(), tuple(_shape(child) for child in element))


def _paths(element: ET.Element, prefix: str = "") -> list[str]:
    path = f"{prefix}/{element.tag.removeprefix(N)}"
    return [path] + [p for child in element for p in _paths(child, path)]


class EtsiRenderTests:
    def test_it_matches_the_golden_file_element_by_element(self):
        assert _shape(ET.fromstring(_rendered())) == _shape(ET.parse(GOLDEN).getroot())

    def test_every_element_is_in_the_retained_data_namespace(self):
        root = ET.fromstring(_rendered())
        assert all(el.tag.startswith(N) for el in root.iter())
        assert _rendered().startswith(b"<?xml version='1.0' encoding='utf-8'?>\n<retainedDataMessage xmlns=")

    def test_the_header_and_one_record_follow_the_standards_sequence_order(self):
        paths = _paths(ET.fromstring(_rendered(ROWS[:1])))
        root, hdr, rec = "/retainedDataMessage", "/retainedDataMessage/retainedDataHeader", \
            "/retainedDataMessage/retainedDataPayload/responseMessage/responsePayload/ResponseRecord"
        party = f"{rec}/recordPayload/telephonyRecord/telephonyServiceUsage/partyInformation/TelephonyPartyInformation"
        leg = [party, f"{party}/partyRole", None, f"{party}/partyNumber", f"{party}/communicationTime",
               f"{party}/communicationTime/startTime", f"{party}/communicationTime/endTime",
               f"{party}/communicationTime/durationTime"]
        expected = [root, f"{root}/rdHeaderId", hdr, f"{hdr}/requestID", f"{hdr}/requestID/countryCode",
                    f"{hdr}/requestID/authorisedOrganisationID", f"{hdr}/requestID/requestNumber", f"{hdr}/cSPID",
                    f"{hdr}/timeStamp", f"{root}/retainedDataPayload", f"{root}/retainedDataPayload/responseMessage",
                    f"{root}/retainedDataPayload/responseMessage/responseStatus",
                    f"{root}/retainedDataPayload/responseMessage/responseStatus/responseComplete",
                    f"{root}/retainedDataPayload/responseMessage/responsePayload", rec, f"{rec}/recordNumber",
                    f"{rec}/recordPayload", f"{rec}/recordPayload/telephonyRecord",
                    f"{rec}/recordPayload/telephonyRecord/telephonyServiceUsage",
                    f"{rec}/recordPayload/telephonyRecord/telephonyServiceUsage/partyInformation"]
        for role in ("originating-Party", "terminating-Party"):
            expected += [p if p else f"{party}/partyRole/{role}" for p in leg]
        expected += [f"{rec}/additionalInformation", f"{rec}/additionalInformation/otherInformation"]
        assert paths == expected

    def test_an_importer_reads_back_header_numbers_and_times(self):
        root = ET.fromstring(_rendered())
        ns = {"rd": NAMESPACE}
        assert root.findtext("rd:retainedDataHeader/rd:requestID/rd:countryCode", namespaces=ns) == "NL"
        assert root.findtext("rd:retainedDataHeader/rd:requestID/rd:authorisedOrganisationID",
                             namespaces=ns) == "Politie Eenheid Amsterdam <&>"
        assert root.findtext("rd:retainedDataHeader/rd:timeStamp", namespaces=ns) == "20260520100000Z"
        records = root.findall(".//rd:ResponseRecord", ns)
        assert [r.findtext("rd:recordNumber", namespaces=ns) for r in records] == ["1", "2"]
        legs = records[0].findall(".//rd:TelephonyPartyInformation", ns)
        roles = [next(iter(leg.find("rd:partyRole", ns))).tag.removeprefix(N) for leg in legs]
        assert roles == ["originating-Party", "terminating-Party"]
        assert [leg.findtext("rd:partyNumber", namespaces=ns) for leg in legs] == ["+31205550101", "+31205550999"]
        assert legs[0].findtext("rd:communicationTime/rd:startTime", namespaces=ns) == "20260519061400Z"

    def test_no_calls_gives_an_empty_complete_response(self):
        root = ET.fromstring(_rendered([]))
        assert root.find(f".//{N}responsePayload") is not None and root.find(f".//{N}ResponseRecord") is None

    def test_generalized_time_is_utc(self):
        assert generalized_time(datetime(2026, 1, 1, 0, 30, tzinfo=AMS)) == "20251231233000Z"
        assert generalized_time(datetime(2026, 1, 1, tzinfo=timezone.utc) + timedelta(seconds=1)) == "20260101000001Z"
