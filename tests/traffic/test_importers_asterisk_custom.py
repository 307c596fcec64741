"""Asterisk cdr_custom with the default Master.csv mapping of cdr_custom.conf.sample (19 columns,
clid first, accountcode 16th, sequence last), on a file written here in that layout."""
from __future__ import annotations

import io
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from traffic.importers import get_parser
from traffic.importers.base import (
    FLAG_AMBIGUOUS_LOCAL_TIME,
    FLAG_BILLSEC_OVER_DURATION,
    FLAG_INTERNAL_EXTENSION,
    CallRecord,
    ImportFormatError,
    RowError,
)

AMS = ZoneInfo("Europe/Amsterdam")
FIXTURES = Path(__file__).parent / "fixtures"


def parse(data: bytes | str, tz: ZoneInfo = AMS) -> list[CallRecord | RowError]:
    raw = data.encode() if isinstance(data, str) else data
    return list(get_parser("asterisk-custom")(io.BytesIO(raw), tz=tz))


@pytest.fixture(scope="module")
def rows() -> list[CallRecord | RowError]:
    return parse((FIXTURES / "asterisk_cdr_custom_mixed.csv").read_bytes())


class AsteriskCustomTests:
    def test_it_reads_every_good_row_and_reports_the_truncated_last_line(self, rows):
        assert [type(r).__name__ for r in rows] == ["CallRecord"] * 8 + ["RowError"]
        assert rows[-1] == RowError(9, "unterminated quoted field")

    def test_it_reads_the_columns_in_the_sample_mappings_order(self, rows):
        first = rows[0]
        assert first.caller_name == 'Jansen, "Jan"'  # clid, the first column, quotes and comma kept
        assert (first.src, first.dst, first.account_code, first.unique_id) == (
            "0205550101", "0699993678", "acct-7", "2001.1")
        assert (first.channel, first.dst_channel) == ("SIP/alice-1", "SIP/trunk-2")
        assert first.started_at == datetime(2026, 5, 4, 8, 0, tzinfo=timezone.utc)
        assert (first.duration, first.billsec, first.disposition) == (66, 61, "answered")

    def test_an_empty_answer_time_is_none(self, rows):
        assert (rows[1].answered_at, rows[1].disposition) == (None, "no_answer")

    def test_a_duplicate_and_a_conflict_share_the_id(self, rows):
        first, duplicate, conflict = rows[0], rows[2], rows[3]
        assert first.unique_id == duplicate.unique_id == conflict.unique_id
        assert first.fingerprint == duplicate.fingerprint != conflict.fingerprint

    def test_odd_rows_are_kept_with_flags(self, rows):
        assert rows[4].flags == (FLAG_AMBIGUOUS_LOCAL_TIME,)
        assert rows[4].started_at == datetime(2025, 10, 26, 0, 30, tzinfo=timezone.utc)
        assert (rows[5].src, rows[5].flags) == ("100", (FLAG_INTERNAL_EXTENSION,))
        assert (rows[6].billsec, rows[6].flags) == (7, (FLAG_BILLSEC_OVER_DURATION,))

    def test_the_high_resolution_mapping_is_rounded_to_whole_seconds(self, rows):
        assert (rows[7].duration, rows[7].billsec) == (65, 61)  # "65.4", "60.5"

    def test_a_cdr_csv_row_is_not_taken_for_a_custom_one(self):
        cdr_csv = ",".join(['"acct"', '"0205550101"', '"0699993678"', '"ctx"', '"x"', '"SIP/a"', '""', '"Dial"', '""',
                            '"2026-05-04 10:00:00"', '""', '"2026-05-04 10:01:00"', "60", "0", '"NO ANSWER"',
                            '"DOCUMENTATION"', '"1.1"', '""'])
        assert parse(cdr_csv) == [RowError(1, "expected 19 columns, found 18")]

    def test_it_refuses_a_cel_event_log(self):
        with pytest.raises(ImportFormatError, match="CEL event log"):
            parse('"LINKEDID_END","1335310213.625295","","","","","s","s","default","TinCan/string"\n')
