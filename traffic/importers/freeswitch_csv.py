"""FreeSWITCH mod_cdr_csv with the `example` template of cdr_csv.conf.xml:

"${caller_id_name}","${caller_id_number}","${destination_number}","${context}","${start_stamp}",
"${answer_stamp}","${end_stamp}","${duration}","${billsec}","${hangup_cause}","${uuid}",
"${bleg_uuid}","${accountcode}","${read_codec}","${write_codec}"

Stamps are the switch's local time; an unanswered call has an empty answer_stamp.
"""
from __future__ import annotations

from typing import BinaryIO, Iterator
from zoneinfo import ZoneInfo

from .base import (
    BadField,
    CallRecord,
    LocalTimes,
    RowError,
    csv_lines,
    fingerprint,
    name_unless_number,
    odd_flags,
    parse_int,
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
    width = len(COLUMNS)
    checked = False
    for line, fields, error in csv_lines(stream, widths=(width,)):
        if fields is None:
            yield RowError(line, error or "malformed CSV")
            continue
        if not checked:
            refuse_cel(fields)
            checked = True
        if len(fields) != width:
            yield RowError(line, f"expected {width} columns, found {len(fields)}")
            continue
        yield _record(line, fields, times)


def _record(line: int, f: list[str], times: LocalTimes) -> CallRecord | RowError:
    (name, src, dst, _context, start, answer, end, duration_text, billsec_text, cause, uuid, _bleg,
     account, _read_codec, _write_codec) = f
    try:
        started_at, flag_start = times.parse(start, "start_stamp")
        answered_at = times.parse_not_before(answer, "answer_stamp", started_at) if answer else None
        ended_at = times.parse_not_before(end, "end_stamp", started_at) if end else None
        duration = parse_int(duration_text, "duration")
        billsec = parse_int(billsec_text, "billsec")
    except BadField as exc:
        return RowError(line, str(exc))
    if not uuid:
        return RowError(line, "uuid: empty")
    disposition = disposition_from_cause(cause, billsec)
    extra = (flag_start, answered_at[1] if answered_at else "", ended_at[1] if ended_at else "")
    answered = answered_at[0] if answered_at else None
    return CallRecord(
        line=line, unique_id=uuid, src=src, dst=dst, caller_name=name_unless_number(name, src),
        account_code=account, started_at=started_at, answered_at=answered,
        ended_at=ended_at[0] if ended_at else None, duration=duration, billsec=billsec, disposition=disposition,
        flags=odd_flags(src=src, dst=dst, disposition=disposition, answered_at=answered,
                        duration=duration, billsec=billsec, extra=tuple(flag for flag in extra if flag)),
        fingerprint=fingerprint(src, dst, start, answer, end, duration, billsec, disposition, account),
    )
