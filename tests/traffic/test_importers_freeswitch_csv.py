"""FreeSWITCH mod_cdr_csv with the `example` template of cdr_csv.conf.xml (15 columns), on a file
written here in that layout."""
from __future__ import annotations

import io
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from traffic.importers import get_parser
from traffic.importers.base import (
    FLAG_AMBIGUOUS_LOCAL_TIME,
    FLAG_ANSWER_ON_UNANSWERED,
    FLAG_BILLSEC_OVER_DURATION,
    FLAG_INTERNAL_EXTENSION,
    CallRecord,
    ImportFormatError,
    RowError,
)
from traffic.importers.freeswitch_csv import disposition_from_cause

AMS = ZoneInfo("Europe/Amsterdam")
FIXTURES = Path(__file__).parent / "fixtures"


def parse(data: bytes | str, tz: ZoneInfo = AMS) -> list[CallRecord | RowError]:
    raw = data.encode() if isinstance(data, str) else data
    return list(get_parser("freeswitch-csv")(io.BytesIO(raw), tz=tz))


def row(uid: str, *, name: str = "Jan", cause: str = "NORMAL_CLEARING", billsec: str = "61",
        answer: str = "2026-05-04 10:00:05", start: str = "2026-05-04 10:00:00") -> str:
    values = [name, "0205550101", "0699993678", "default", start, answer, "2026-05-04 10:01:06", "66", billsec,
              cause, uid, "", "acct-7", "PCMA", "PCMA"]
    return ",".join('"' + v.replace('"', '""') + '"' for v in values)


@pytest.fixture(scope="module")
def rows() -> list[CallRecord | RowError]:
    return parse((FIXTURES / "freeswitch_cdr_csv_mixed.csv").read_bytes())


class FreeswitchCsvFixtureTests:
    def test_it_reads_every_good_row_and_reports_the_truncated_last_line(self, rows):
        assert [type(r).__name__ for r in rows] == ["CallRecord"] * 8 + ["RowError"]
        assert rows[-1].line == 9

    def test_it_reads_the_example_template(self, rows):
        first = rows[0]
        assert (first.caller_name, first.src, first.dst, first.account_code, first.unique_id) == (
            'Jansen, "Jan"', "0205550101", "0699993678", "acct-7", "a-1")
        assert (first.started_at, first.answered_at, first.ended_at) == (
            datetime(2026, 5, 4, 8, 0, tzinfo=timezone.utc), datetime(2026, 5, 4, 8, 0, 5, tzinfo=timezone.utc),
            datetime(2026, 5, 4, 8, 1, 6, tzinfo=timezone.utc))
        assert (first.duration, first.billsec, first.disposition, first.flags) == (66, 61, "answered", ())

    def test_an_empty_answer_stamp_is_none(self, rows):
        assert (rows[1].answered_at, rows[1].disposition, rows[1].flags) == (None, "no_answer", ())

    def test_a_duplicate_and_a_conflict_share_the_id(self, rows):
        first, duplicate, conflict = rows[0], rows[2], rows[3]
        assert first.unique_id == duplicate.unique_id == conflict.unique_id
        assert first.fingerprint == duplicate.fingerprint != conflict.fingerprint

    def test_odd_rows_are_kept_with_flags(self, rows):
        assert rows[4].flags == (FLAG_AMBIGUOUS_LOCAL_TIME,)
        assert rows[4].started_at == datetime(2025, 10, 26, 0, 30, tzinfo=timezone.utc)
        assert (rows[5].src, rows[5].dst, rows[5].flags) == ("100", "9999", (FLAG_INTERNAL_EXTENSION,))
        assert rows[5].caller_name == ""  # FreeSWITCH fills the name with the number when there is none
        assert (rows[6].billsec, rows[6].flags) == (7, (FLAG_BILLSEC_OVER_DURATION,))
        assert (rows[7].disposition, rows[7].flags) == ("busy", (FLAG_ANSWER_ON_UNANSWERED,))


class FreeswitchCsvTests:
    @pytest.mark.parametrize(("cause", "billsec", "disposition"), [
        ("NORMAL_CLEARING", 61, "answered"),
        ("USER_BUSY", 0, "busy"),
        ("NO_ANSWER", 0, "no_answer"),
        ("NO_USER_RESPONSE", 0, "no_answer"),
        ("ORIGINATOR_CANCEL", 0, "no_answer"),
        ("NORMAL_CIRCUIT_CONGESTION", 0, "congestion"),
        ("SWITCH_CONGESTION", 0, "congestion"),
        ("CALL_REJECTED", 0, "failed"),
        ("UNALLOCATED_NUMBER", 0, "failed"),
    ])
    def test_it_maps_hangup_causes(self, cause: str, billsec: int, disposition: str):
        assert disposition_from_cause(cause, billsec) == disposition

    def test_a_name_with_a_line_break_keeps_its_row_and_the_line_count(self):
        rows = parse(row("a-1", name="Jan\nJansen") + "\n" + row("a-2") + "\n" + row("a-3", start="soon"))
        assert [(type(r).__name__, r.line) for r in rows] == [("CallRecord", 1), ("CallRecord", 3), ("RowError", 4)]
        assert rows[0].caller_name == "Jan\nJansen" and rows[2].reason == "start_stamp: not a timestamp"

    def test_an_empty_uuid_is_rejected(self):
        assert parse(row("")) == [RowError(1, "uuid: empty")]

    def test_a_wrong_column_count_is_rejected_by_line(self):
        assert parse(row("a-1") + ',"extra"\n') == [RowError(1, "expected 15 columns, found 16")]

    def test_it_refuses_a_cel_event_log(self):
        with pytest.raises(ImportFormatError, match="CEL event log"):
            parse('"CHAN_START","2012-04-25 01:29:55","","","","","","s","default","TinCan/string"\n')

    def test_a_caller_called_like_a_cel_event_is_still_a_cdr(self):
        (record,) = parse(row("a-1", name="HANGUP"))
        assert record.caller_name == "HANGUP"
