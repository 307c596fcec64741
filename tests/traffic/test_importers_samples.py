"""The parsers against real files written by switches or kept as fixtures upstream
(/work/shared/cdr-samples, see its README for origin, licence and upstream expectations).
They are read from ../shared/cdr-samples next to the repository, never copied into it."""
from __future__ import annotations

import io
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from traffic.importers import get_parser
from traffic.importers.base import (
    FLAG_ANSWER_ON_UNANSWERED,
    FLAG_BILLSEC_OVER_DURATION,
    FLAG_INTERNAL_EXTENSION,
    CallRecord,
    ImportFormatError,
    RowError,
)

SAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "cdr-samples"
UTC = ZoneInfo("UTC")


def sample(name: str) -> bytes:
    path = SAMPLES / name
    if not path.is_file():
        pytest.skip(f"shared CDR samples are not at {SAMPLES} (they sit next to the repository in CI)")
    return path.read_bytes()


def parse(fmt: str, name: str, tz: ZoneInfo = UTC) -> list[CallRecord | RowError]:
    return list(get_parser(fmt)(io.BytesIO(sample(name)), tz=tz))


class AsteriskSampleTests:
    def test_good_csv_gives_five_records_with_the_upstream_expectations(self):
        rows = parse("asterisk-csv", "asterisk_cdr_csv_good.csv")
        assert len(rows) == 5 and all(isinstance(r, CallRecord) for r in rows)
        first = rows[0]
        assert (first.disposition, first.caller_name, first.src, first.dst) == ("answered", "Test User", "test", "100")
        assert first.started_at == datetime(2009, 1, 14, 23, 51, 15, tzinfo=timezone.utc)
        assert (first.duration, first.billsec, first.unique_id) == (5, 5, "1231977075.0")
        assert (rows[1].duration, rows[1].billsec) == (5, 7) and FLAG_BILLSEC_OVER_DURATION in rows[1].flags
        assert [r.disposition for r in rows[2:]] == ["failed", "no_answer", "busy"]
        assert all(r.answered_at is not None and FLAG_ANSWER_ON_UNANSWERED in r.flags for r in rows[2:])
        assert all(FLAG_INTERNAL_EXTENSION in r.flags for r in rows)  # "test" calling "100"

    def test_good_csv_repeats_one_unique_id_with_different_content(self):
        # Upstream's five records all carry uniqueid 1231977075.0: one duplicate id, five contents
        # (the dedupe later keeps the first and reports the rest as conflicts).
        rows = parse("asterisk-csv", "asterisk_cdr_csv_good.csv")
        assert {r.unique_id for r in rows} == {"1231977075.0"}
        assert len({r.fingerprint for r in rows}) == 5

    def test_the_buggy_file_reports_its_truncated_record(self):
        assert parse("asterisk-csv", "asterisk_cdr_csv_buggy_truncated.csv") == [
            RowError(1, "unterminated quoted field")]

    def test_a_master_csv_from_a_real_console_call(self):
        rows = parse("asterisk-csv", "asterisk_cdr_csv_console_Master.csv")
        assert [(r.duration, r.billsec, r.disposition, r.dst, r.channel) for r in rows] == [
            (7, 7, "answered", "1", "Console/dsp")] * 2
        assert rows[0].unique_id != rows[1].unique_id and rows[0].src == "" and rows[0].caller_name == ""

    @pytest.mark.parametrize("fmt", ["asterisk-csv", "asterisk-custom", "freeswitch-csv"])
    def test_a_cel_event_log_is_refused_by_every_csv_parser(self, fmt: str):
        with pytest.raises(ImportFormatError, match="is an Asterisk CEL event log, not CDRs"):
            parse(fmt, "asterisk_cel_custom_Master.csv")


class FreeswitchSampleTests:
    def test_the_cgrates_json_cdr_is_one_call_with_the_destination_from_the_callflow(self):
        (record,) = parse("freeswitch-json", "freeswitch_json_cdr_cgrates_fixture.json")
        assert (record.unique_id, record.src, record.dst) == ("3da8bf84-c133-4959-9e24-e72875cb33a1", "1001", "1002")
        assert record.caller_name == ""  # the switch put the number "1001" in the name
        assert record.started_at == datetime(2018, 1, 11, 10, 25, 44, 534355, tzinfo=timezone.utc)
        assert record.answered_at == datetime(2018, 1, 11, 10, 25, 47, 954373, tzinfo=timezone.utc)
        assert (record.duration, record.billsec, record.disposition) == (71, 68, "answered")
        assert (record.remote_ip, record.user_agent) == ("10.10.10.100", "Jitsi2.10.5550Linux")
        assert record.sip_call_id == "818e26f805701988c1a330175d7d2629@0:0:0:0:0:0:0:0"
        assert record.channel == "sofia/internal/1001@10.10.10.204"
        assert FLAG_INTERNAL_EXTENSION in record.flags

    def test_a_csv_file_is_not_json(self):
        with pytest.raises(ImportFormatError):
            parse("freeswitch-json", "asterisk_cdr_csv_good.csv")
