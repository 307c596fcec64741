"""FreeSWITCH mod_json_cdr: NDJSON written here (URL-encoded values, callflow as array and as the
old single object, the called number only in the caller profile), single, concatenated and array
documents, and files that are not JSON at all."""
from __future__ import annotations

import io
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from traffic.importers import get_parser
from traffic.importers.base import FLAG_AMBIGUOUS_LOCAL_TIME, CallRecord, ImportFormatError, RowError
from traffic.importers.freeswitch_json import BAD_DOCUMENT, NOT_A_CDR

AMS = ZoneInfo("Europe/Amsterdam")
FIXTURES = Path(__file__).parent / "fixtures"


def parse(data: bytes | str, tz: ZoneInfo = AMS) -> list[CallRecord | RowError]:
    raw = data.encode() if isinstance(data, str) else data
    return list(get_parser("freeswitch-json")(io.BytesIO(raw), tz=tz))


def doc(uid: str, **variables: Any) -> dict[str, Any]:
    base = {"uuid": uid, "start_epoch": "1777881600", "answer_epoch": "1777881605", "end_epoch": "1777881666",
            "duration": "66", "billsec": "61", "hangup_cause": "NORMAL_CLEARING", "caller_id_number": "0205550101"}
    base.update(variables)
    return {"variables": base, "callflow": [{"caller_profile": {"destination_number": "0699993678"}}]}


@pytest.fixture(scope="module")
def rows() -> list[CallRecord | RowError]:
    return parse((FIXTURES / "freeswitch_json_cdr_mixed.ndjson").read_bytes())


class FreeswitchJsonFixtureTests:
    def test_it_reads_every_document_and_reports_the_truncated_last_line(self, rows):
        assert [type(r).__name__ for r in rows] == ["CallRecord"] * 5 + ["RowError"]
        assert rows[-1] == RowError(6, BAD_DOCUMENT)

    def test_it_percent_decodes_and_takes_the_destination_from_the_callflow(self, rows):
        first = rows[0]
        assert (first.caller_name, first.src, first.dst, first.unique_id) == (
            'Jansen, "Jan"', "0205550101", "0699993678", "u-1")
        assert (first.channel, first.sip_call_id, first.remote_ip, first.user_agent) == (
            "sofia/internal/alice@pbx", "abc@192.0.2.1", "192.0.2.1", "Yealink T46U 66.86.0.15")

    def test_it_prefers_exact_microsecond_epochs(self, rows):
        assert rows[0].started_at == datetime(2026, 5, 4, 8, 0, 0, 250000, tzinfo=timezone.utc)
        assert rows[0].answered_at == datetime(2026, 5, 4, 8, 0, 5, tzinfo=timezone.utc)

    def test_an_unanswered_call_with_an_old_callflow_object(self, rows):
        unanswered = rows[1]
        assert (unanswered.answered_at, unanswered.disposition, unanswered.dst) == (None, "no_answer", "0699993678")

    def test_a_duplicate_and_a_conflict_share_the_id(self, rows):
        first, duplicate, conflict = rows[0], rows[2], rows[3]
        assert first.unique_id == duplicate.unique_id == conflict.unique_id
        assert first.fingerprint == duplicate.fingerprint != conflict.fingerprint

    def test_local_stamps_are_read_when_there_is_no_epoch(self, rows):
        dst_end = rows[4]
        assert dst_end.started_at == datetime(2025, 10, 26, 0, 30, tzinfo=timezone.utc)
        assert dst_end.flags == (FLAG_AMBIGUOUS_LOCAL_TIME,)


class FreeswitchJsonLayoutTests:
    def test_a_pretty_printed_single_document(self):
        (record,) = parse(json.dumps(doc("u-1"), indent="\t"))
        assert (record.line, record.unique_id, record.billsec) == (1, "u-1", 61)

    def test_concatenated_pretty_documents_report_the_line_each_starts_on(self):
        one, two = json.dumps(doc("u-1"), indent=2), json.dumps(doc("u-2"), indent=2)
        broken = two[:-40]
        rows = parse(one + "\n" + broken + "\n" + two + "\n")
        lines_one, lines_broken = one.count("\n") + 1, broken.count("\n") + 1
        assert [(type(r).__name__, r.line) for r in rows] == [
            ("CallRecord", 1), ("RowError", 1 + lines_one), ("CallRecord", 1 + lines_one + lines_broken)]

    def test_an_array_of_documents(self):
        rows = parse(json.dumps([doc("u-1"), doc("u-2")], indent=1))
        assert [r.unique_id for r in rows] == ["u-1", "u-2"] and rows[0].line == 2

    def test_a_document_without_variables_is_rejected(self):
        assert parse('{"variables": {"uuid": "u-1"}, "callflow": []}\n{"hello": 1}\n')[1] == RowError(2, NOT_A_CDR)

    def test_missing_or_broken_fields_are_rejected_by_document(self):
        rows = parse("\n".join(json.dumps(d) for d in [
            doc(""), doc("u-2", start_epoch="", start_uepoch=""), doc("u-3", start_uepoch="soon"),
            doc("u-4", billsec="a lot"), doc("u-5", start_epoch="", start_stamp="2026-05-04%2010%3A00%3A00"),
        ]))
        assert [getattr(r, "reason", "ok") for r in rows] == [
            "uuid: missing", "start: missing", "start_epoch: not a number", "billsec: not a whole number", "ok"]
        assert rows[4].started_at == datetime(2026, 5, 4, 8, 0, tzinfo=timezone.utc)

    def test_durations_come_from_the_times_when_the_switch_wrote_none(self):
        (record,) = parse(json.dumps(doc("u-1", duration="", billsec="")))
        assert (record.duration, record.billsec) == (66, 61)

    def test_an_empty_file_has_no_records(self):
        assert parse(b"") == [] and parse(b"\n  \n") == []


class FreeswitchJsonRefusalTests:
    @pytest.mark.parametrize("data", [
        b"not json at all\nnor this",
        b'"acct","0205550101","0699993678"\n',
        b"{broken",
        b"\xff\xfe\x00garbage",
    ])
    def test_it_refuses_a_file_that_is_not_json_without_quoting_it(self, data: bytes):
        with pytest.raises(ImportFormatError) as caught:
            parse(data)
        assert "0205550101" not in str(caught.value) and "broken" not in str(caught.value)

    def test_absurd_nesting_is_a_row_error_not_a_crash(self):
        rows = parse(json.dumps(doc("u-1")) + "\n" + "[" * 100_000 + "\n")
        assert [type(r).__name__ for r in rows] == ["CallRecord", "RowError"]

    def test_an_end_before_the_start_never_gives_negative_seconds(self):
        (record,) = parse(json.dumps(doc("u-1", duration="", billsec="", end_epoch="1777880000")))
        assert (record.duration, record.billsec) == (0, 0)
