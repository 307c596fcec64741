"""FreeSWITCH mod_cdr_csv, with the source's template (Source.columns: a template string of
cdr_csv.conf.xml or a stock template's name, layouts.freeswitch_template); without one, the stock
`example` template:

"${caller_id_name}","${caller_id_number}","${destination_number}","${context}","${start_stamp}",
"${answer_stamp}","${end_stamp}","${duration}","${billsec}","${hangup_cause}","${uuid}",
"${bleg_uuid}","${accountcode}","${read_codec}","${write_codec}"

A template that is CSV (one variable per column, quoted or not: the stock ones but `sql`) is read with
the csv module; a line that is no CSV is then matched against the template's literal text, because
mod_cdr_csv expands the variables into the template as they are: a value with a quote in it
(`${caller_id}` is `"Name" <number>`) breaks CSV quoting, not the template's `","` separators. Any
other template (`sql`: an INSERT statement around the values) is matched line by line. Stamps are the switch's local time, `*_epoch`/`*_uepoch` UTC; an unanswered
call has an empty answer_stamp. Each leg has its own uuid (`legs` = a, b or ab); the call is
`call_uuid` when the template writes it (FreeSWITCH sets it to the A leg's uuid), else the uuid. A B leg
(`legs="b"` or `"ab"`) is told apart only when the template writes `${originator}` or
`${originating_leg_uuid}` (FreeSWITCH sets them on the B leg to its A leg's uuid; the stock templates write
neither): it is then a leg of its A leg's call, not billed (FLAG_BILLED_ON_A_LEG: its A leg is, in the same
file), since a CSV line does not say whose caller it carries.

A call is answered when it has an answer time and billsec > 0, whatever its hangup cause: a call
answered and then ended by SYSTEM_SHUTDOWN, MEDIA_TIMEOUT, ALLOTTED_TIMEOUT or
RECOVERY_ON_TIMER_EXPIRE was talked and is billed. The cause only says why an unanswered call failed.
"""
from __future__ import annotations

import hashlib
import io
from datetime import datetime, timedelta, timezone
from typing import BinaryIO, Iterator
from zoneinfo import ZoneInfo

from .base import (
    FLAG_BILLED_ON_A_LEG,
    BadField,
    CallRecord,
    LocalTimes,
    RowError,
    caller_name_from_clid,
    csv_lines,
    name_unless_number,
    odd_flags,
    parse_durations,
    record_rows,
    refuse_cel,
    refuse_non_text,
)
from .layouts import Template, freeswitch_template

FORMAT = "freeswitch-csv"

_NO_ANSWER = frozenset({"NO_ANSWER", "NO_USER_RESPONSE", "ORIGINATOR_CANCEL", "ALLOTTED_TIMEOUT",
                        "LOSE_RACE", "PICKED_OFF"})
_CONGESTION = frozenset({"NORMAL_CIRCUIT_CONGESTION", "SWITCH_CONGESTION", "NETWORK_OUT_OF_ORDER",
                         "RECOVERY_ON_TIMER_EXPIRE"})
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def disposition_from_cause(cause: str, billsec: int, answered: bool = True) -> str:
    """Our disposition: answered when the call has an answer time (`answered`) and billed seconds,
    whatever the Q.850 hangup cause; otherwise the cause says how it failed."""
    if billsec > 0 and answered:
        return "answered"
    cause = cause.strip().upper()
    if cause == "USER_BUSY":
        return "busy"
    if cause in _NO_ANSWER or cause == "NORMAL_CLEARING":
        return "no_answer"
    if cause in _CONGESTION:
        return "congestion"
    return "failed"


class _Columns:
    """Positions of the variables this importer reads (-1: the template does not write it)."""

    WANTED = ("caller_id_name", "caller_id_number", "ani", "caller_id", "destination_number", "start_stamp",
              "answer_stamp", "end_stamp", "start_epoch", "answer_epoch", "end_epoch", "start_uepoch",
              "answer_uepoch", "end_uepoch", "duration", "billsec", "hangup_cause", "uuid", "call_uuid",
              "accountcode", "channel_name", "bridge_channel", "sip_user_agent", "network_addr", "sip_call_id",
              "originator", "originating_leg_uuid")

    def __init__(self, template: Template) -> None:
        names = template.names
        self.width = len(names)
        self.at = {name: (names.index(name) if name in names else -1) for name in self.WANTED}
        self.no_start = all(self.at[f"start_{kind}"] < 0 for kind in ("stamp", "epoch", "uepoch"))


def parse(stream: BinaryIO, *, tz: ZoneInfo, columns: str = "") -> Iterator[CallRecord | RowError]:
    template = freeswitch_template(columns)
    times = LocalTimes(tz)
    layout = _Columns(template)

    def build_row(line: int, fields: list[str]) -> CallRecord | RowError:
        return _record(line, fields, layout, times)

    if template.csv:
        unreadable: dict[int, str] = {}
        lines = csv_lines(stream, widths=(layout.width,), unreadable=unreadable)
        rows = record_rows(lines, builders={layout.width: build_row}, first_check=refuse_cel)
        return _matched_when_no_csv(rows, unreadable, template, build_row)
    return _template_rows(stream, template, build_row)


def _matched_when_no_csv(rows: Iterator[CallRecord | RowError], unreadable: dict[int, str], template: Template,
                         build_row) -> Iterator[CallRecord | RowError]:
    for item in rows:
        raw = unreadable.pop(item.line, None) if isinstance(item, RowError) else None
        found = template.pattern.fullmatch(raw.strip()) if raw is not None else None
        yield item if found is None else build_row(item.line, list(found.groups()))


def _template_rows(stream: BinaryIO, template: Template, build_row) -> Iterator[CallRecord | RowError]:
    """Lines matched against a template that is not plain CSV (text around the values)."""
    refuse_non_text(stream)
    pattern = template.pattern
    for number, raw in enumerate(io.TextIOWrapper(stream, encoding="utf-8-sig", errors="replace", newline=""), 1):
        text = raw.rstrip("\r\n")
        if not text.strip():
            continue
        found = pattern.fullmatch(text.strip())
        if found is None:
            yield RowError(number, "the line does not match the source's template")
            continue
        yield build_row(number, [value.replace('""', '"') if '""' in value else value for value in found.groups()])


def _get(f: list[str], at: dict[str, int], name: str) -> str:
    index = at[name]
    return f[index] if index >= 0 else ""


def _time(f: list[str], at: dict[str, int], name: str, times: LocalTimes, earliest: datetime | None):
    micro, seconds = _get(f, at, f"{name}_uepoch"), _get(f, at, f"{name}_epoch")
    try:
        if micro and micro != "0":
            return _EPOCH + timedelta(microseconds=int(micro)), ""
        if seconds and seconds != "0":
            return _EPOCH + timedelta(seconds=int(seconds)), ""
    except (ValueError, OverflowError):
        raise BadField(f"{name}_epoch: not a number") from None
    stamp = _get(f, at, f"{name}_stamp")
    if not stamp:
        return None, ""
    if earliest is None:
        return times.parse(stamp, f"{name}_stamp")
    return times.parse_not_before(stamp, f"{name}_stamp", earliest)


def _record(line: int, f: list[str], c: _Columns, times: LocalTimes) -> CallRecord | RowError:
    at = c.at
    uuid = _get(f, at, "uuid")
    if not uuid:
        return RowError(line, "uuid: empty")
    try:
        started_at, flag_start = _time(f, at, "start", times, None)
        if started_at is None and c.no_start:  # a template without start (opencdrrate): its answer time
            started_at, flag_start = _time(f, at, "answer", times, None)
        if started_at is None:
            raise BadField("start_stamp: empty")
        answered_at, flag_answer = _time(f, at, "answer", times, started_at)
        ended_at, flag_end = _time(f, at, "end", times, started_at)
        whole = max(0, int((ended_at - started_at).total_seconds())) if ended_at else 0
        talked = max(0, int((ended_at - answered_at).total_seconds())) if ended_at and answered_at else 0
        duration, billsec = parse_durations(_get(f, at, "duration") or str(whole), _get(f, at, "billsec") or str(talked))
    except BadField as exc:
        return RowError(line, str(exc))
    src = _get(f, at, "caller_id_number") or _get(f, at, "ani")
    dst, account = _get(f, at, "destination_number"), _get(f, at, "accountcode")
    cause = _get(f, at, "hangup_cause")
    answered = answered_at is not None or (at["answer_stamp"] < 0 and at["answer_epoch"] < 0 and at["answer_uepoch"] < 0)
    disposition = disposition_from_cause(cause, billsec, answered)
    name = _get(f, at, "caller_id_name")
    name = name_unless_number(name, src) if name else caller_name_from_clid(_get(f, at, "caller_id"), src)
    a_leg = _get(f, at, "originating_leg_uuid") or _get(f, at, "originator")
    a_leg = "" if a_leg == uuid else a_leg
    extra = tuple(flag for flag in (flag_start, flag_answer, flag_end, a_leg and FLAG_BILLED_ON_A_LEG) if flag)
    flags = odd_flags(src=src, dst=dst, disposition=disposition, answered_at=answered_at, duration=duration,
                      billsec=billsec, extra=extra)
    content = "\x1f".join((src, dst, started_at.isoformat(), str(answered_at), str(ended_at), str(duration),
                           str(billsec), disposition, account))
    return CallRecord(
        line, uuid, src, dst, name, account, started_at, answered_at, ended_at, duration, billsec, disposition,
        _get(f, at, "channel_name"), _get(f, at, "bridge_channel"), _get(f, at, "sip_call_id"),
        _get(f, at, "network_addr"), _get(f, at, "sip_user_agent"), flags,
        _blake2b(content.encode("utf-8", "replace"), digest_size=8).hexdigest(), "",
        a_leg or _get(f, at, "call_uuid") or uuid,
    )


_blake2b = hashlib.blake2b
