"""FreeSWITCH mod_cdr_csv with the `example` template of cdr_csv.conf.xml:

"${caller_id_name}","${caller_id_number}","${destination_number}","${context}","${start_stamp}",
"${answer_stamp}","${end_stamp}","${duration}","${billsec}","${hangup_cause}","${uuid}",
"${bleg_uuid}","${accountcode}","${read_codec}","${write_codec}"

Stamps are the switch's local time; an unanswered call has an empty answer_stamp.
"""
from __future__ import annotations

import hashlib
from typing import BinaryIO, Iterator
from zoneinfo import ZoneInfo

from .base import (
    BadField,
    CallRecord,
    LocalTimes,
    RowError,
    csv_lines,
    is_internal,
    name_unless_number,
    odd_flags,
    parse_durations,
    record_rows,
    refuse_cel,
)

FORMAT = "freeswitch-csv"
COLUMNS = ("caller_id_name", "caller_id_number", "destination_number", "context", "start_stamp",
           "answer_stamp", "end_stamp", "duration", "billsec", "hangup_cause", "uuid", "bleg_uuid",
           "accountcode", "read_codec", "write_codec")

_NO_ANSWER = frozenset({"NO_ANSWER", "NO_USER_RESPONSE", "ORIGINATOR_CANCEL", "ALLOTTED_TIMEOUT"})
_CONGESTION = frozenset({"NORMAL_CIRCUIT_CONGESTION", "SWITCH_CONGESTION", "NETWORK_OUT_OF_ORDER",
                         "RECOVERY_ON_TIMER_EXPIRE"})


def disposition_from_cause(cause: str, billsec: int) -> str:
    """Q.850 hangup cause → our disposition. NORMAL_CLEARING counts as answered only with billsec."""
    cause = cause.strip().upper()
    if cause == "USER_BUSY":
        return "busy"
    if cause in _NO_ANSWER:
        return "no_answer"
    if cause in _CONGESTION:
        return "congestion"
    if billsec > 0 and cause in {"NORMAL_CLEARING", "SUCCESS", ""}:
        return "answered"
    if cause == "NORMAL_CLEARING":
        return "no_answer"
    return "failed"


def parse(stream: BinaryIO, *, tz: ZoneInfo) -> Iterator[CallRecord | RowError]:
    times = LocalTimes(tz)

    def build_row(line: int, fields: list[str]) -> CallRecord | RowError:
        return _record(line, fields, times)

    lines = csv_lines(stream, widths=(len(COLUMNS),))
    return record_rows(lines, builders={len(COLUMNS): build_row}, first_check=refuse_cel)


def _record(line: int, f: list[str], times: LocalTimes) -> CallRecord | RowError:
    # Written out like _asterisk.build (the hot loop of a bulk import): one try, no kwargs calls.
    (name, src, dst, _context, start, answer, end, duration_text, billsec_text, cause, uuid, _bleg,
     account, _read_codec, _write_codec) = f
    try:
        started_at, flag_start = times.parse(start, "start_stamp")
        answered_at = ended_at = None
        flag_answer = flag_end = ""
        if answer:
            answered_at, flag_answer = times.parse_not_before(answer, "answer_stamp", started_at)
        if end:
            ended_at, flag_end = times.parse_not_before(end, "end_stamp", started_at)
        duration, billsec = parse_durations(duration_text, billsec_text)
    except BadField as exc:
        return RowError(line, str(exc))
    if not uuid:
        return RowError(line, "uuid: empty")
    disposition = _CAUSES.get(cause) if billsec else None
    if disposition is None:
        disposition = disposition_from_cause(cause, billsec)
    over = billsec > duration
    odd_answer = answered_at is not None and disposition != "answered"
    internal = is_internal(src) or is_internal(dst)
    if flag_start or flag_answer or flag_end or over or odd_answer or internal:
        flags = odd_flags(src=src, dst=dst, disposition=disposition, answered_at=answered_at, duration=duration,
                          billsec=billsec, extra=tuple(flag for flag in (flag_start, flag_answer, flag_end) if flag))
    else:
        flags = ()
    content = "\x1f".join((src, dst, start, answer, end, str(duration), str(billsec), disposition, account))
    return CallRecord(
        line, uuid, src, dst, name_unless_number(name, src), account,
        started_at, answered_at, ended_at, duration, billsec, disposition,
        "", "", "", "", "", flags, _blake2b(content.encode("utf-8", "replace"), digest_size=8).hexdigest(),
    )


# The common answered case without the function call (billsec > 0 only).
_CAUSES = {"NORMAL_CLEARING": "answered"}
_blake2b = hashlib.blake2b
