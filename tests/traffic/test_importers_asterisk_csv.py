"""Asterisk cdr_csv (Master.csv) parser on files written here in its layout, and on the edge cases
of strict CSV reading that all CSV formats share (they go through the same reader)."""
from __future__ import annotations

import io
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from traffic.importers import FORMATS, get_parser
from traffic.importers.base import (
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
FIXTURES = Path(__file__).parent / "fixtures"
NAME = 'Jansen, "Jan"'
PERSONAL = ("0205550101", "0699993678", "Jansen", "Jan")


def parse(data: bytes | str, tz: ZoneInfo = AMS) -> list[CallRecord | RowError]:
    raw = data.encode() if isinstance(data, str) else data
    return list(get_parser("asterisk-csv")(io.BytesIO(raw), tz=tz))


def q(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


def row(uid: str = "1.1", *, clid: str = f'"{NAME}" <0205550101>', start: str = "2026-05-04 10:00:00",
        answer: str = "2026-05-04 10:00:05", end: str = "2026-05-04 10:01:06", duration: str = "66",
        billsec: str = "61", disposition: str = "ANSWERED", lastdata: str = "SIP/trunk/0699993678,60") -> str:
    return ",".join([q("acct-7"), q("0205550101"), q("0699993678"), q("from-internal"), q(clid), q("SIP/alice-1"),
                     q("SIP/trunk-2"), q("Dial"), q(lastdata), q(start), q(answer), q(end), duration, billsec,
                     q(disposition), q("DOCUMENTATION"), q(uid), q("")])


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def rows() -> list[CallRecord | RowError]:
    return parse((FIXTURES / "asterisk_cdr_csv_mixed.csv").read_bytes())


class AsteriskCsvFixtureTests:
    """tests/traffic/fixtures/asterisk_cdr_csv_mixed.csv: BOM, CRLF, a blank line, a 16-column row
    and a last line cut off inside a quoted field."""

    def test_it_reads_every_good_row_and_reports_the_truncated_one(self, rows):
        assert [r.line for r in rows] == [1, 2, 3, 4, 5, 6, 7, 9, 10]  # line 8 is blank
        assert [type(r) for r in rows] == [CallRecord] * 8 + [RowError]
        assert rows[-1] == RowError(10, "unterminated quoted field")

    def test_it_keeps_quoted_commas_and_doubled_quotes(self, rows):
        first = rows[0]
        assert first.caller_name == NAME  # '"Jansen, "Jan"" <0205550101>' without the number part
        assert (first.src, first.dst, first.account_code, first.unique_id) == (
            "0205550101", "0699993678", "acct-7", "1001.1")
        assert first.channel == "SIP/alice-00000001" and first.dst_channel == "SIP/trunk-00000002"

    def test_the_byte_order_mark_does_not_stick_to_the_first_field(self, rows):
        assert rows[0].account_code == "acct-7"

    def test_it_converts_local_times_to_utc(self, rows):
        first = rows[0]
        assert (first.started_at, first.answered_at, first.ended_at) == (
            utc(2026, 5, 4, 8, 0, 0), utc(2026, 5, 4, 8, 0, 5), utc(2026, 5, 4, 8, 1, 6))
        assert (first.duration, first.billsec, first.disposition, first.flags) == (66, 61, "answered", ())

    def test_an_empty_answer_time_is_none(self, rows):
        assert (rows[1].answered_at, rows[1].disposition, rows[1].flags) == (None, "no_answer", ())

    def test_a_duplicate_has_the_same_id_and_fingerprint_and_a_conflict_another_fingerprint(self, rows):
        first, duplicate, conflict = rows[0], rows[2], rows[3]
        assert first.unique_id == duplicate.unique_id == conflict.unique_id
        assert first.fingerprint == duplicate.fingerprint
        assert conflict.fingerprint != first.fingerprint and conflict.billsec == 59

    def test_a_time_that_occurs_twice_is_read_as_its_first_occurrence_and_flagged(self, rows):
        dst_end = rows[4]
        assert dst_end.started_at == utc(2025, 10, 26, 0, 30)  # 02:30 CEST (UTC+2), not 02:30 CET
        assert dst_end.flags == (FLAG_AMBIGUOUS_LOCAL_TIME,)

    def test_internal_extensions_are_kept_as_written_and_flagged(self, rows):
        internal = rows[5]
        assert (internal.src, internal.dst, internal.caller_name) == ("100", "s", "Reception")
        assert internal.flags == (FLAG_INTERNAL_EXTENSION,)

    def test_billsec_above_duration_is_kept_and_flagged(self, rows):
        assert (rows[6].duration, rows[6].billsec, rows[6].flags) == (5, 7, (FLAG_BILLSEC_OVER_DURATION,))

    def test_a_16_column_row_gets_a_stable_synthetic_id(self, rows):
        sixteen = rows[7]
        assert sixteen.unique_id.startswith("h:") and sixteen.line == 9
        again = parse((FIXTURES / "asterisk_cdr_csv_mixed.csv").read_bytes())[7]
        assert again.unique_id == sixteen.unique_id


class AsteriskCsvStrictnessTests:
    def test_it_tracks_physical_lines_across_a_quoted_field_with_a_line_break(self):
        data = "\n".join([row("1.1"), row("1.2", lastdata="first line\nsecond line"), row("1.3"), '"a","b"'])
        rows = parse(data)
        assert [(type(r).__name__, r.line) for r in rows] == [
            ("CallRecord", 1), ("CallRecord", 2), ("CallRecord", 4), ("RowError", 5)]
        assert rows[1].unique_id == "1.2"

    def test_an_unterminated_quote_mid_file_is_that_lines_error_and_the_next_rows_land(self):
        broken = '"acct-7","0205550101","0699993678","ctx","""Jan <0205550101>,"SIP/1"'
        data = "\n".join([row("1.1"), broken, row("1.3"), row("1.4")])
        rows = parse(data)
        assert [getattr(r, "unique_id", r.line) for r in rows] == ["1.1", 2, "1.3", "1.4"]
        assert isinstance(rows[1], RowError)

    def test_an_unterminated_quote_before_unquoted_lines_swallows_nothing(self):
        # Nothing after the open quote closes it until the last line: a 1-record merge the reader
        # accepts, but with the wrong width, so every line is read again on its own.
        data = '"acct-7","open\n1,2,3\n4,5,6\n' + row("1.4")
        rows = parse(data)
        assert [(type(r).__name__, r.line) for r in rows] == [
            ("RowError", 1), ("RowError", 2), ("RowError", 3), ("CallRecord", 4)]

    def test_it_reads_crlf_and_lf_and_a_last_line_without_line_end(self):
        rows = parse(row("1.1") + "\r\n" + row("1.2") + "\n" + row("1.3"))
        assert [r.unique_id for r in rows] == ["1.1", "1.2", "1.3"]

    def test_blank_lines_are_skipped_and_counted(self):
        rows = parse("\n\r\n   \n" + row("1.1") + "\n\n" + row("1.2") + "\n\n")
        assert [(r.line, r.unique_id) for r in rows] == [(4, "1.1"), (6, "1.2")]

    def test_bytes_that_are_not_utf8_never_crash(self):
        data = row("1.1", clid='"X" <0205550101>').encode().replace(b'"X"', b'"\xff\xfeX"')
        record, garbage = parse(data + b"\n" + b"\x80\x81\x82,\xff\n")
        assert record.caller_name == "\ufffd\ufffdX"  # replaced, the row still lands
        assert garbage == RowError(2, "expected 16 to 21 columns, found 2")

    def test_a_nul_byte_is_not_a_crash(self):
        rows = parse(row("1.1").replace("Dial", "Di\x00al") + "\n" + row("1.2"))
        assert [r.unique_id for r in rows] == ["1.1", "1.2"]

    def test_other_column_counts_are_rejected_by_line(self):
        twenty_two = row("1.2") + ',"","1.2",7,"x"'
        rows = parse("\n".join([row("1.1"), twenty_two, "", row("1.4")]))
        assert rows[1] == RowError(2, "expected 16 to 21 columns, found 22")
        assert rows[2].line == 4

    def test_unreadable_fields_are_rejected_by_line_and_name_the_column(self):
        rows = parse("\n".join([
            row("1.1", start="yesterday"), row("1.2", answer="2026-13-01 00:00:00"), row("1.3", duration="a minute"),
            row("1.4", billsec="-5"), row("1.5", disposition="MAYBE"), row("1.6", end="2026-05-04 10:01:xx"),
        ]))
        assert [(r.line, r.reason) for r in rows] == [
            (1, "start: not a timestamp"), (2, "answer: not a timestamp"), (3, "duration: not a whole number"),
            (4, "billsec: negative"), (5, "disposition: unknown value"), (6, "end: not a timestamp")]

    def test_reasons_never_quote_numbers_or_names(self):
        broken = ['"0205550101","Jansen","', row("1.2", start="0699993678"), row("1.3", disposition="Jansen, Jan"),
                  '"0699993678"', row("1.5")[:80]]
        errors = [r for r in parse("\n".join(broken)) if isinstance(r, RowError)]
        assert len(errors) == 5
        assert not [e.reason for e in errors if any(p in e.reason for p in PERSONAL)]


class AsteriskCsvTimeTests:
    def test_a_local_time_in_the_spring_gap_is_flagged(self):
        (record,) = parse(row(start="2026-03-29 02:30:00", answer="", end="2026-03-29 03:31:00",
                              disposition="NO ANSWER", billsec="0"))
        assert FLAG_NONEXISTENT_LOCAL_TIME in record.flags
        assert record.started_at == utc(2026, 3, 29, 1, 30)  # read with the offset before the gap (UTC+1)

    def test_a_call_over_the_repeated_hour_does_not_end_before_it_starts(self):
        # Starts 02:50 CEST, lasts 20 minutes, ends 02:10 CET: the end is the hour's second occurrence.
        (record,) = parse(row(start="2025-10-26 02:50:00", answer="2025-10-26 02:50:00",
                              end="2025-10-26 02:10:00", duration="1200", billsec="1200"))
        assert record.started_at == utc(2025, 10, 26, 0, 50)
        assert record.ended_at == utc(2025, 10, 26, 1, 10)
        assert FLAG_AMBIGUOUS_LOCAL_TIME in record.flags

    def test_a_utc_source_is_not_shifted(self):
        (record,) = parse(row(), tz=ZoneInfo("UTC"))
        assert record.started_at == utc(2026, 5, 4, 10, 0)

    def test_a_winter_time_uses_utc_plus_one(self):
        (record,) = parse(row(start="2026-01-15 23:59:59", answer="", end="2026-01-16 00:00:09",
                              disposition="BUSY", billsec="0"))
        assert record.started_at == utc(2026, 1, 15, 22, 59, 59) and record.ended_at == utc(2026, 1, 15, 23, 0, 9)

    def test_a_timestamp_with_fractions_or_an_offset_is_read_too(self):
        rows = parse("\n".join([row("1.1", start="2026-05-04 10:00:00.500000"),
                                row("1.2", start="2026-05-04T08:00:00+00:00")]))
        assert rows[0].started_at == datetime(2026, 5, 4, 8, 0, 0, 500000, tzinfo=timezone.utc)
        assert rows[1].started_at == utc(2026, 5, 4, 8, 0)


class AsteriskCsvCallerNameTests:
    @pytest.mark.parametrize(("clid", "name"), [
        ('"Test User" <test>', "Test User"),
        ('"Smith, "Bobby" <script>" <0205550101>', 'Smith, "Bobby" <script>'),
        ('"=HYPERLINK(1)" <0205550101>', "=HYPERLINK(1)"),
        ("<0205550101>", ""),
        ("0205550101", ""),  # a clid without a name is the bare number: no name
        ('"0205550101" <0205550101>', ""),
        ("Reception", "Reception"),
        ("", ""),
    ])
    def test_it_takes_the_name_and_leaves_the_number_out(self, clid: str, name: str):
        (record,) = parse(row(clid=clid))
        assert record.caller_name == name

    def test_flags_for_an_answer_time_on_an_unanswered_call(self):
        (record,) = parse(row(disposition="FAILED", billsec="0"))
        assert record.flags == (FLAG_ANSWER_ON_UNANSWERED,) and record.answered_at is not None


class AsteriskCsvCelTests:
    def test_it_refuses_a_cel_event_log_without_quoting_it(self):
        cel = ('"CHAN_START","1335310195.513823","","0205550101","","","","s","default","SIP/x","","","3","",'
               '"1.0","1.0","","","",""\n')
        with pytest.raises(ImportFormatError, match="Asterisk CEL event log, not CDRs") as caught:
            parse(cel * 3)
        assert "0205550101" not in str(caught.value)


class RegistryTests:
    def test_it_knows_the_six_formats_by_name(self):
        assert {name: module.FORMAT for name, module in FORMATS.items()} == {
            "asterisk-csv": "asterisk-csv", "asterisk-custom": "asterisk-custom",
            "freeswitch-csv": "freeswitch-csv", "freeswitch-json": "freeswitch-json",
            "freeswitch-xml": "freeswitch-xml", "kamailio-acc": "kamailio-acc"}

    def test_an_unknown_format_lists_the_known_ones(self):
        with pytest.raises(ValueError, match="asterisk-csv, asterisk-custom, freeswitch-csv, freeswitch-json"):
            get_parser("cisco-cucm")


class HalfHourDstTests:
    """Lord Howe Island moves its clocks by 30 minutes, inside an hour: the per-hour offset cache
    must not be trusted for such an hour."""

    LORD_HOWE = ZoneInfo("Australia/Lord_Howe")

    def test_the_half_of_the_hour_after_the_spring_gap_exists_and_is_not_flagged(self):
        # 2025-10-05 02:00 → 02:30 local (UTC+10:30 → UTC+11): 02:15 does not exist, 02:45 does.
        gap, after = parse("\n".join([row("1.1", start="2025-10-05 02:15:00", answer="", end="", billsec="0",
                                           disposition="NO ANSWER"),
                                       row("1.2", start="2025-10-05 02:45:00", answer="", end="", billsec="0",
                                           disposition="NO ANSWER")]), tz=self.LORD_HOWE)
        assert FLAG_NONEXISTENT_LOCAL_TIME in gap.flags
        assert FLAG_NONEXISTENT_LOCAL_TIME not in after.flags
        assert after.started_at == utc(2025, 10, 4, 15, 45)  # 02:45 at UTC+11

    def test_the_repeated_half_hour_in_autumn_is_flagged_and_the_rest_of_the_hour_is_not(self):
        # 2026-04-05 02:00 → 01:30 local (UTC+11 → UTC+10:30): 01:45 occurs twice, 01:15 once.
        once, twice = parse("\n".join([row("1.1", start="2026-04-05 01:15:00", answer="", end="", billsec="0",
                                            disposition="NO ANSWER"),
                                        row("1.2", start="2026-04-05 01:45:00", answer="", end="", billsec="0",
                                            disposition="NO ANSWER")]), tz=self.LORD_HOWE)
        assert FLAG_AMBIGUOUS_LOCAL_TIME not in once.flags and once.started_at == utc(2026, 4, 4, 14, 15)
        assert FLAG_AMBIGUOUS_LOCAL_TIME in twice.flags and twice.started_at == utc(2026, 4, 4, 14, 45)
