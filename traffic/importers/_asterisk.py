"""The Asterisk CDR row, shared by cdr_csv and cdr_custom (the same fields in another order).

This is the hot loop of a bulk import (the whole ingest aims at ~50,000 rows/s on one core), so
`build` is written out by hand: positional indexes instead of a dict per row, one try block,
flags and tuples built only for the rare odd row.
"""
from __future__ import annotations

import hashlib
from typing import Callable, Iterator

from .base import (
    ASTERISK_DISPOSITIONS,
    FLAG_ANSWER_ON_UNANSWERED,
    FLAG_BILLSEC_OVER_DURATION,
    FLAG_INTERNAL_EXTENSION,
    BadField,
    CallRecord,
    LocalTimes,
    RowError,
    asterisk_disposition,
    caller_name_from_clid,
    is_internal,
    parse_durations,
    record_rows,
)

FIELDS = ("accountcode", "src", "dst", "dcontext", "clid", "channel", "dstchannel", "lastapp",
          "lastdata", "start", "answer", "end", "duration", "billsec", "disposition", "amaflags",
          "uniqueid", "userfield")

_blake2b = hashlib.blake2b


class Layout:
    """Column positions of one layout; attribute access instead of a dict per row (hot loop)."""

    __slots__ = ("width", "accountcode", "src", "dst", "clid", "channel", "dstchannel", "start",
                 "answer", "end", "duration", "billsec", "disposition", "uniqueid")

    def __init__(self, columns: tuple[str, ...]) -> None:
        self.width = len(columns)
        for name in self.__slots__[1:]:
            setattr(self, name, columns.index(name) if name in columns else -1)


def synthetic_unique_id(*, channel: str, start: str, src: str, dst: str) -> str:
    """A 16-column cdr_csv row carries no uniqueid. The channel name (with its per-call sequence
    suffix, "SIP/100-0000002a"), the start second and both numbers identify one call leg; the
    same row read again gives the same id, so re-importing a file still adds nothing. "h:" keeps
    these apart from real Asterisk ids ("1231977075.0")."""
    joined = "\x1f".join((channel, start, src, dst))
    return "h:" + _blake2b(joined.encode("utf-8", "replace"), digest_size=12).hexdigest()


def build(line: int, f: list[str], c: Layout, times: LocalTimes) -> CallRecord | RowError:
    start, answer, end = f[c.start], f[c.answer], f[c.end]
    duration_text, billsec_text = f[c.duration], f[c.billsec]
    try:
        started_at, flag_start = times.parse(start, "start")
        answered_at = ended_at = None
        flag_answer = flag_end = ""
        if answer:
            answered_at, flag_answer = times.parse(answer, "answer")
            if flag_answer:
                answered_at, flag_answer = times.parse_not_before(answer, "answer", started_at)
        if end:
            ended_at, flag_end = times.parse(end, "end")
            if flag_end:
                ended_at, flag_end = times.parse_not_before(end, "end", started_at)
        duration, billsec = parse_durations(duration_text, billsec_text)
        disposition_text = f[c.disposition]
        disposition = ASTERISK_DISPOSITIONS.get(disposition_text) or asterisk_disposition(disposition_text)
    except BadField as exc:
        return RowError(line, str(exc))
    src, dst, account, channel = f[c.src], f[c.dst], f[c.accountcode], f[c.channel]
    unique_id = f[c.uniqueid] if c.uniqueid >= 0 else ""
    if not unique_id:
        unique_id = synthetic_unique_id(channel=channel, start=start, src=src, dst=dst)
    over = billsec > duration
    odd_answer = answered_at is not None and disposition != "answered"
    internal = is_internal(src) or is_internal(dst)
    if flag_start or flag_answer or flag_end or over or odd_answer or internal:
        flags = _flags(flag_start, flag_answer, flag_end, over, odd_answer, internal)
    else:
        flags = ()
    content = "\x1f".join((src, dst, start, answer, end, str(duration), str(billsec), disposition, account))
    return CallRecord(
        line, unique_id, src, dst, caller_name_from_clid(f[c.clid], src), account,
        started_at, answered_at, ended_at, duration, billsec, disposition,
        channel, f[c.dstchannel], "", "", "", flags,
        _blake2b(content.encode("utf-8", "replace"), digest_size=8).hexdigest(),
    )


def _flags(flag_start: str, flag_answer: str, flag_end: str, over: bool, odd_answer: bool,
           internal: bool) -> tuple[str, ...]:
    found = [flag for flag in (flag_start, flag_answer, flag_end) if flag]
    if over:
        found.append(FLAG_BILLSEC_OVER_DURATION)
    if odd_answer:
        found.append(FLAG_ANSWER_ON_UNANSWERED)
    if internal:
        found.append(FLAG_INTERNAL_EXTENSION)
    return tuple(dict.fromkeys(found))


def rows(lines: Iterator[tuple[int, list[str] | None, str | None]], *, layouts: dict[int, tuple[str, ...]],
         times: LocalTimes, first_check: Callable[[list[str]], None]) -> Iterator[CallRecord | RowError]:
    builders = {width: _builder(Layout(columns), times) for width, columns in layouts.items()}
    return record_rows(lines, builders=builders, first_check=first_check)


def _builder(layout: Layout, times: LocalTimes) -> Callable[[int, list[str]], CallRecord | RowError]:
    def build_row(line: int, fields: list[str]) -> CallRecord | RowError:
        return build(line, fields, layout, times)
    return build_row
