"""The Asterisk CDR row, shared by cdr_csv and cdr_custom (the same fields in another order)."""
from __future__ import annotations

import hashlib
from typing import Callable, Iterator

from .base import (
    BadField,
    CallRecord,
    LocalTimes,
    RowError,
    asterisk_disposition,
    caller_name_from_clid,
    fingerprint,
    odd_flags,
    parse_int,
)

FIELDS = ("accountcode", "src", "dst", "dcontext", "clid", "channel", "dstchannel", "lastapp",
          "lastdata", "start", "answer", "end", "duration", "billsec", "disposition", "amaflags",
          "uniqueid", "userfield")


class Layout:
    """Column positions of one layout; attribute access instead of a dict per row (hot loop)."""

    __slots__ = ("width", "accountcode", "src", "dst", "clid", "channel", "dstchannel", "start",
                 "answer", "end", "duration", "billsec", "disposition", "uniqueid")

    def __init__(self, columns: tuple[str, ...]) -> None:
        self.width = len(columns)
        for name in self.__slots__[1:]:
            setattr(self, name, columns.index(name) if name in columns else -1)


def build(line: int, f: list[str], c: Layout, times: LocalTimes) -> CallRecord | RowError:
    start, answer, end = f[c.start], f[c.answer], f[c.end]
    try:
        started_at, flag_start = times.parse(start, column="start")
        answered_at = times.parse(answer, column="answer")[0] if answer else None
        ended_at = times.parse(end, column="end")[0] if end else None
        duration = parse_int(f[c.duration], column="duration")
        billsec = parse_int(f[c.billsec], column="billsec")
        disposition = asterisk_disposition(f[c.disposition])
    except BadField as exc:
        return RowError(line, str(exc))
    src, dst, account, channel = f[c.src], f[c.dst], f[c.accountcode], f[c.channel]
    unique_id = f[c.uniqueid] if c.uniqueid >= 0 else ""
    if not unique_id:
        # 16-column files carry no uniqueid: a stable id from what identifies the call leg.
        unique_id = "h:" + hashlib.blake2b("\x1f".join((channel, start, src, dst)).encode(), digest_size=12).hexdigest()
    return CallRecord(
        line, unique_id, src, dst, caller_name_from_clid(f[c.clid]), account,
        started_at, answered_at, ended_at, duration, billsec, disposition,
        channel, f[c.dstchannel], "", "", "",
        odd_flags(src=src, dst=dst, disposition=disposition, answered_at=answered_at,
                  duration=duration, billsec=billsec, extra=(flag_start,) if flag_start else ()),
        fingerprint(src, dst, start, answer, end, duration, billsec, disposition, account),
    )


def rows(lines: Iterator[tuple[int, list[str] | None, str | None]], *, layouts: dict[int, tuple[str, ...]],
         times: LocalTimes, first_check: Callable[[list[str]], None]) -> Iterator[CallRecord | RowError]:
    compiled = {width: Layout(columns) for width, columns in layouts.items()}
    expected = " or ".join(str(n) for n in sorted(layouts))
    checked = False
    for line, fields, error in lines:
        if fields is None:
            yield RowError(line, error or "malformed CSV")
            continue
        if not checked:
            first_check(fields)
            checked = True
        layout = compiled.get(len(fields))
        if layout is None:
            yield RowError(line, f"expected {expected} columns, found {len(fields)}")
            continue
        yield build(line, fields, layout, times)
