"""The pure CDR parsers, on files written here in each layout and on the shared real samples."""
from __future__ import annotations

import io
import json
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from traffic.importers import FORMATS, get_parser
from traffic.importers.base import (
    CEL_REFUSAL,
    FLAG_AMBIGUOUS_LOCAL_TIME,
    FLAG_ANSWER_ON_UNANSWERED,
    FLAG_BILLSEC_OVER_DURATION,
    FLAG_INTERNAL_EXTENSION,
    FLAG_NONEXISTENT_LOCAL_TIME,
    CallRecord,
    ImportFormatError,
    RowError,
)

AMS = ZoneInfo("Europe/Amsterdam")
SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "cdr-samples"


def parse(fmt: str, data: str | bytes, tz: ZoneInfo = AMS) -> list[CallRecord | RowError]:
    raw = data.encode() if isinstance(data, str) else data
    return list(get_parser(fmt)(io.BytesIO(raw), tz=tz))


def sample(name: str) -> bytes:
    path = SAMPLES / name
    if not path.exists():
        pytest.skip(f"shared CDR samples not found at {SAMPLES} (they come with ../shared/ in CI)")
    return path.read_bytes()


def ast_row(*, src="0205554567", dst="0699993678", clid='"Jan" <0205554567>', start="2026-03-10 10:00:00",
            answer="2026-03-10 10:00:05", end="2026-03-10 10:01:05", duration=65, billsec=60,
            disposition="ANSWERED", uid="1700000000.1", extra=True) -> str:
    cols = ["acc1", src, dst, "from-internal", clid, "SIP/100-0001", "SIP/trunk-0002", "Dial", "SIP/trunk",
            start, answer, end, str(duration), str(billsec), disposition, "DOCUMENTATION"]
    if extra:
        cols += [uid, ""]
    return ",".join('"' + c.replace('"', '""') + '"' if not c.isdigit() else c for c in cols)


class AsteriskCsvTests:
    def test_it_reads_18_and_16_column_rows(self):
        rows = parse("asterisk-csv", ast_row() + "\n" + ast_row(extra=False) + "\n")
        assert [type(r) for r in rows] == [CallRecord, CallRecord]
        assert rows[0].unique_id == "1700000000.1"
        assert rows[1].unique_id.startswith("h:")  # 16 columns: a stable synthetic id
        assert rows[0].started_at == datetime(2026, 3, 10, 9, 0, tzinfo=timezone.utc)
        assert (rows[0].duration, rows[0].billsec, rows[0].disposition) == (65, 60, "answered")

    def test_it_keeps_quoted_commas_and_doubled_quotes_in_caller_names(self):
        row = ast_row(clid='"Smith, "Bobby" <script>" <0205554567>')  # Asterisk does not escape the name
        (record,) = parse("asterisk-csv", row)
        assert record.caller_name == 'Smith, "Bobby" <script>'

    def test_it_reads_an_empty_answer_time_as_unanswered(self):
        (record,) = parse("asterisk-csv", ast_row(answer="", disposition="NO ANSWER", billsec=0))
        assert record.answered_at is None and record.disposition == "no_answer"
        assert FLAG_ANSWER_ON_UNANSWERED not in record.flags

    def test_it_handles_crlf_and_a_byte_order_mark(self):
        data = b"\xef\xbb\xbf" + (ast_row(uid="1.1") + "\r\n" + ast_row(uid="1.2") + "\r\n").encode()
        rows = parse("asterisk-csv", data)
        assert [r.unique_id for r in rows] == ["1.1", "1.2"]
        assert rows[0].account_code == "acc1"  # the BOM did not stick to the first field

    def test_a_truncated_last_line_is_an_error_and_the_rest_lands(self):
        data = ast_row(uid="1.1") + "\n" + ast_row(uid="1.2") + "\n" + ast_row(uid="1.3")[:40]
        rows = parse("asterisk-csv", data)
        assert [type(r) for r in rows] == [CallRecord, CallRecord, RowError]
        assert rows[2].line == 3 and rows[2].reason in {"unterminated quoted field", "expected 16 to 21 columns, found 3"}

    def test_an_unterminated_quote_mid_file_never_swallows_the_next_rows(self):
        broken = '"acc1","0205554567","0699993678","ctx","""Jan <0205554567>,"SIP/1"'
        data = "\n".join([ast_row(uid="1.1"), broken, ast_row(uid="1.3"), ast_row(uid="1.4")])
        rows = parse("asterisk-csv", data)
        assert [getattr(r, "unique_id", None) for r in rows] == ["1.1", None, "1.3", "1.4"]
        assert rows[1].line == 2 and rows[1].reason in {"unterminated quoted field", "stray quote inside a field"}

    def test_it_reports_bad_rows_by_line_without_their_content(self):
        data = "\n".join([ast_row(uid="1.1"), ast_row(start="yesterday"), '"a","b"', ast_row(disposition="MAYBE")])
        rows = parse("asterisk-csv", data)
        errors = [r for r in rows if isinstance(r, RowError)]
        assert [(e.line, e.reason) for e in errors] == [
            (2, "start: not a timestamp"), (3, "expected 16 to 21 columns, found 2"), (4, "disposition: unknown value")]
        assert not any("0205554567" in e.reason for e in errors)

    def test_duplicates_share_an_id_and_conflicts_differ_in_fingerprint(self):
        a, b, c = parse("asterisk-csv", "\n".join([ast_row(), ast_row(), ast_row(billsec=61)]))
        assert a.unique_id == b.unique_id == c.unique_id
        assert a.fingerprint == b.fingerprint != c.fingerprint

    def test_it_flags_odd_but_real_rows_and_keeps_them(self):
        rows = parse("asterisk-csv", "\n".join([
            ast_row(billsec=70, duration=65),
            ast_row(disposition="BUSY", billsec=0),
            ast_row(src="100", dst="s"),
        ]))
        assert FLAG_BILLSEC_OVER_DURATION in rows[0].flags
        assert FLAG_ANSWER_ON_UNANSWERED in rows[1].flags
        assert FLAG_INTERNAL_EXTENSION in rows[2].flags and rows[2].src == "100"

    def test_a_local_time_that_occurs_twice_is_flagged_and_read_as_the_first(self):
        (record,) = parse("asterisk-csv", ast_row(start="2025-10-26 02:30:00", answer="", end=""))
        assert FLAG_AMBIGUOUS_LOCAL_TIME in record.flags
        assert record.started_at == datetime(2025, 10, 26, 0, 30, tzinfo=timezone.utc)  # CEST, UTC+2

    def test_a_local_time_in_the_spring_gap_is_flagged(self):
        (record,) = parse("asterisk-csv", ast_row(start="2026-03-29 02:30:00", answer="", end=""))
        assert FLAG_NONEXISTENT_LOCAL_TIME in record.flags

    def test_a_utc_source_is_not_shifted(self):
        (record,) = parse("asterisk-csv", ast_row(), tz=ZoneInfo("UTC"))
        assert record.started_at == datetime(2026, 3, 10, 10, 0, tzinfo=timezone.utc)

    def test_it_refuses_a_cel_event_log(self):
        with pytest.raises(ImportFormatError, match="event log, not CDRs"):
            parse("asterisk-csv", sample("asterisk_cel_custom_Master.csv"))

    def test_it_never_crashes_on_bytes_that_are_not_utf8(self):
        rows = parse("asterisk-csv", ast_row(clid='"X" <1>').encode().replace(b"X", b"\xff\xfe"))
        assert isinstance(rows[0], CallRecord)


class SharedSampleTests:
    def test_good_csv_meets_its_upstream_expectations(self):
        rows = parse("asterisk-csv", sample("asterisk_cdr_csv_good.csv"))
        assert len(rows) == 5 and all(isinstance(r, CallRecord) for r in rows)
        assert rows[0].disposition == "answered" and rows[0].caller_name == "Test User"
        assert rows[1].billsec == 7 and rows[1].duration == 5 and FLAG_BILLSEC_OVER_DURATION in rows[1].flags
        assert [r.disposition for r in rows[2:]] == ["failed", "no_answer", "busy"]
        assert all(FLAG_ANSWER_ON_UNANSWERED in r.flags for r in rows[2:])

    def test_the_truncated_file_fails_to_parse(self):
        rows = parse("asterisk-csv", sample("asterisk_cdr_csv_buggy_truncated.csv"))
        assert rows == [RowError(1, "unterminated quoted field")]

    def test_a_real_console_master_csv_reads(self):
        rows = parse("asterisk-csv", sample("asterisk_cdr_csv_console_Master.csv"))
        assert [(r.duration, r.billsec) for r in rows] == [(7, 7), (7, 7)]

    def test_the_cgrates_json_cdr_takes_the_called_number_from_the_callflow(self):
        (record,) = parse("freeswitch-json", sample("freeswitch_json_cdr_cgrates_fixture.json"))
        assert record.dst == "1002" and record.src == "1001"
        assert (record.duration, record.billsec, record.disposition) == (71, 68, "answered")
        assert record.sip_call_id and record.user_agent == "Jitsi2.10.5550Linux"


class AsteriskCustomTests:
    def _row(self, uid="1.1", clid='"Jan, "J"" <0205554567>', answer="2026-03-10 10:00:05") -> str:
        cols = [clid, "0205554567", "0699993678", "ctx", "SIP/100-1", "SIP/trunk-2", "Dial", "x",
                "2026-03-10 10:00:00", answer, "2026-03-10 10:01:05", "65", "60",
                "ANSWERED" if answer else "NO ANSWER", "DOCUMENTATION", "acc9", uid, "", "7"]
        return ",".join('"' + c.replace('"', '""') + '"' for c in cols)

    def test_it_reads_the_default_mapping_with_clid_first_and_accountcode_16th(self):
        (record,) = parse("asterisk-custom", self._row())
        assert record.caller_name == 'Jan, "J"' and record.account_code == "acc9" and record.unique_id == "1.1"

    def test_it_refuses_other_column_counts_per_line(self):
        rows = parse("asterisk-custom", self._row() + "\n" + ast_row() + "\r\n" + self._row(uid="1.2", answer=""))
        assert [type(r).__name__ for r in rows] == ["CallRecord", "RowError", "CallRecord"]
        assert rows[1].reason == "expected 19 columns, found 18" and rows[2].answered_at is None


class FreeswitchCsvTests:
    def _row(self, *, uuid="a-1", cause="NORMAL_CLEARING", billsec=60, answer="2026-03-10 10:00:05", name='Jan "J", Sr'):
        cols = [name, "0205554567", "0699993678", "default", "2026-03-10 10:00:00", answer,
                "2026-03-10 10:01:05", "65", str(billsec), cause, uuid, "b-1", "acc", "PCMA", "PCMA"]
        return ",".join('"' + c.replace('"', '""') + '"' for c in cols)

    def test_it_reads_the_example_template(self):
        (record,) = parse("freeswitch-csv", "\ufeff" + self._row() + "\r\n")
        assert (record.unique_id, record.caller_name, record.disposition) == ("a-1", 'Jan "J", Sr', "answered")

    def test_it_maps_hangup_causes(self):
        rows = parse("freeswitch-csv", "\n".join([
            self._row(uuid="1", cause="USER_BUSY", billsec=0, answer=""),
            self._row(uuid="2", cause="NO_ANSWER", billsec=0, answer=""),
            self._row(uuid="3", cause="NORMAL_CIRCUIT_CONGESTION", billsec=0, answer=""),
            self._row(uuid="4", cause="CALL_REJECTED", billsec=0, answer=""),
        ]))
        assert [r.disposition for r in rows] == ["busy", "no_answer", "congestion", "failed"]

    def test_a_truncated_last_line_is_reported(self):
        rows = parse("freeswitch-csv", self._row() + "\n" + self._row(uuid="b")[:30])
        assert isinstance(rows[0], CallRecord) and rows[1].line == 2


class FreeswitchJsonTests:
    def _doc(self, **variables) -> dict:
        base = {"uuid": "u-1", "start_epoch": "1773136800", "answer_epoch": "1773136805", "end_epoch": "1773136865",
                "duration": "65", "billsec": "60", "hangup_cause": "NORMAL_CLEARING",
                "caller_id_name": "Jan%20%22J%22", "caller_id_number": "0205554567"}
        base.update(variables)
        return {"variables": base, "callflow": [{"caller_profile": {"destination_number": "0699993678"}}]}

    def test_it_decodes_url_encoded_values_and_finds_the_destination_in_the_callflow(self):
        (record,) = parse("freeswitch-json", json.dumps(self._doc()))
        assert record.caller_name == 'Jan "J"' and record.dst == "0699993678"
        assert record.started_at == datetime.fromtimestamp(1773136800, tz=timezone.utc)

    def test_it_accepts_an_old_callflow_object_and_ndjson_with_a_broken_line(self):
        old = self._doc(uuid="u-2")
        old["callflow"] = old["callflow"][0]
        data = json.dumps(self._doc()) + "\n{broken\n" + json.dumps(old) + "\n"
        rows = parse("freeswitch-json", data)
        assert [type(r).__name__ for r in rows] == ["CallRecord", "RowError", "CallRecord"]
        assert rows[1].line == 2 and rows[2].dst == "0699993678"

    def test_it_falls_back_to_local_stamps(self):
        doc = self._doc(start_epoch="", answer_epoch="0", end_epoch="", start_stamp="2026-03-10%2010%3A00%3A00")
        (record,) = parse("freeswitch-json", json.dumps(doc))
        assert record.started_at == datetime(2026, 3, 10, 9, 0, tzinfo=timezone.utc) and record.answered_at is None

    def test_it_refuses_a_file_that_is_not_json(self):
        with pytest.raises(ImportFormatError):
            parse("freeswitch-json", b"not json at all\nnor this")


class RegistryTests:
    def test_it_knows_exactly_the_six_formats(self):
        assert set(FORMATS) == {"asterisk-csv", "asterisk-custom", "freeswitch-csv", "freeswitch-json",
                                "freeswitch-xml", "kamailio-acc"}

    def test_it_names_the_known_formats_for_an_unknown_one(self):
        with pytest.raises(ValueError, match="asterisk-csv"):
            get_parser("cisco")
