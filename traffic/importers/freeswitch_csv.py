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
    checked = False
    for line, fields, error in csv_lines(stream):
        if error is not None:
            yield RowError(line, error)
            continue
        assert fields is not None
        if not checked:
            refuse_cel(fields)
            checked = True
        if len(fields) != len(COLUMNS):
            yield RowError(line, f"expected {len(COLUMNS)} columns, found {len(fields)}")
            continue
        f = dict(zip(COLUMNS, fields))
        try:
            started_at, flag = times.parse(f["start_stamp"], column="start_stamp")
            answered_at = times.parse(f["answer_stamp"], column="answer_stamp")[0] if f["answer_stamp"] else None
            ended_at = times.parse(f["end_stamp"], column="end_stamp")[0] if f["end_stamp"] else None
            duration = parse_int(f["duration"], column="duration")
            billsec = parse_int(f["billsec"], column="billsec")
        except BadField as exc:
            yield RowError(line, str(exc))
            continue
        if not f["uuid"]:
            yield RowError(line, "uuid: empty")
            continue
        disposition = disposition_from_cause(f["hangup_cause"], billsec)
        src, dst = f["caller_id_number"], f["destination_number"]
        yield CallRecord(
            line=line, unique_id=f["uuid"], src=src, dst=dst, caller_name=f["caller_id_name"],
            account_code=f["accountcode"], started_at=started_at, answered_at=answered_at,
            ended_at=ended_at, duration=duration, billsec=billsec, disposition=disposition,
            flags=odd_flags(src=src, dst=dst, disposition=disposition, answered_at=answered_at,
                            duration=duration, billsec=billsec, extra=(flag,)),
            fingerprint=fingerprint(src, dst, f["start_stamp"], f["answer_stamp"], f["end_stamp"],
                                    duration, billsec, disposition, f["accountcode"]),
        )
