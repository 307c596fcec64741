"""The Asterisk CDR row, shared by cdr_csv and cdr_custom (the same fields in another order).

This is the hot loop of a bulk import (the whole ingest aims at ~50,000 rows/s on one core), so
`build` is written out by hand: positional indexes instead of a dict per row, one try block,
flags and tuples built only for the rare odd row.

Legs (Asterisk 12+ CDR specification, main/cdr.c): a CDR is written per pair of parties; its
`uniqueid` is party A's channel, so a ring group, a Local-channel fork or a transfer gives several
CDRs with one uniqueid. `sequence` is a global counter, one per CDR; `linkedid` is the call. So a
record's leg is its sequence where the layout has it, else its destination channel (base.leg_key),
and its call is linkedid, else uniqueid.
"""
from __future__ import annotations

import functools
import hashlib
import re
from zlib import crc32 as _crc32
from datetime import datetime, timedelta
from typing import Callable, Iterator

from .base import (
    ASTERISK_DISPOSITIONS,
    EXTENSION_MAX_DIGITS,
    FLAG_ANSWER_ON_UNANSWERED,
    FLAG_BILLSEC_OVER_DURATION,
    FLAG_INTERNAL_EXTENSION,
    FLAG_LOCAL_HOP,
    UTC,
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


def leg_key(*, sequence: str = "", dst_channel: str = "") -> str:
    """The leg of a record within its unique id: "seq:N" when the switch wrote the CDR's sequence,
    else a hash of the destination channel (its name may hold a dialled number, so never stored in
    clear), else "" (a record with no second party)."""
    if sequence:
        return "seq:" + sequence.strip()
    if dst_channel:
        return "ch:" + _leg_hash(dst_channel)
    return ""


def _leg_hash(channel: str) -> str:
    """CRC-32: a leg only has to differ from the other legs of its uniqueid (a handful), and this runs
    for every row of a file without `sequence`."""
    return "%08x" % _crc32(channel.encode("utf-8", "replace"))


class Layout:
    """Column positions of one layout; attribute access instead of a dict per row (hot loop). A
    column the layout lacks points at `width`, an empty field appended to the row (`padded`);
    `uniqueid`, `sequence` and `linkedid` are -1 when absent."""

    __slots__ = ("width", "padded", "epochs", "accountcode", "src", "dst", "clid", "channel", "dstchannel",
                 "start", "answer", "end", "duration", "billsec", "disposition", "uniqueid", "sequence",
                 "linkedid")
    _OPTIONAL = ("uniqueid", "sequence", "linkedid")

    def __init__(self, columns: tuple[str | None, ...], epochs: frozenset[str] = frozenset()) -> None:
        self.width = len(columns)
        self.epochs = epochs & {"start", "answer", "end"}
        self.padded = False
        for name in self.__slots__[3:]:
            if name in columns:
                setattr(self, name, columns.index(name))
            elif name in self._OPTIONAL:
                setattr(self, name, -1)
            else:
                setattr(self, name, self.width)
                self.padded = True


def synthetic_unique_id(*, channel: str, start: str, src: str, dst: str) -> str:
    """A 16-column cdr_csv row carries no uniqueid. The channel name (with its per-call sequence
    suffix, "SIP/100-0000002a"), the start second and both numbers identify one call leg; the
    same row read again gives the same id, so re-importing a file still adds nothing. "h:" keeps
    these apart from real Asterisk ids ("1231977075.0")."""
    joined = "\x1f".join((channel, start, src, dst))
    return "h:" + _blake2b(joined.encode("utf-8", "replace"), digest_size=12).hexdigest()


def build(c: Layout, times: LocalTimes, line: int, f: list[str]) -> CallRecord | RowError:
    if c.padded:
        f.append("")
    start, answer, end = f[c.start], f[c.answer], f[c.end]
    duration_text, billsec_text = f[c.duration], f[c.billsec]
    if c.epochs:
        return _build_epochs(line, f, c, times)
    try:
        started_at, answered_at, ended_at, time_flags = (times.parse_plain(start, answer, end)
                                                         or _times(start, answer, end, times))
        try:  # parse_durations' own fast path, without its call
            duration, billsec = int(duration_text), int(billsec_text)
        except ValueError:
            duration = -1
        if duration < 0 or billsec < 0:  # a decimal, or a value it refuses with the column's name
            duration, billsec = parse_durations(duration_text, billsec_text)
        disposition_text = f[c.disposition]
        disposition = ASTERISK_DISPOSITIONS.get(disposition_text) or _disposition(disposition_text, billsec)
    except BadField as exc:
        return RowError(line, str(exc))
    return _record(line, f, c, start, answer, end, started_at, answered_at, ended_at, duration, billsec,
                   disposition, time_flags)


def _times(start: str, answer: str, end: str, times: LocalTimes) -> tuple:
    """(start, answer, end, their flags) of a row that LocalTimes.parse_plain leaves to the careful path:
    an answer or end in an hour that occurs twice is read as not before the start."""
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
    return started_at, answered_at, ended_at, (flag_start, flag_answer, flag_end)


def _record(line: int, f: list[str], c: Layout, start: str, answer: str, end: str, started_at, answered_at,
            ended_at, duration: int, billsec: int, disposition: str, time_flags: tuple[str, str, str]) -> CallRecord:
    src, dst, account, channel, dst_channel = f[c.src], f[c.dst], f[c.accountcode], f[c.channel], f[c.dstchannel]
    unique_id = f[c.uniqueid] if c.uniqueid >= 0 else ""
    if not unique_id:
        unique_id = synthetic_unique_id(channel=channel, start=start, src=src, dst=dst)
    if c.sequence >= 0 or not dst_channel:
        leg = leg_key(sequence=f[c.sequence] if c.sequence >= 0 else "", dst_channel=dst_channel)
    else:  # leg_key's common case, without its call
        leg = "ch:" + _leg_hash(dst_channel)
    call_id = (f[c.linkedid] if c.linkedid >= 0 else "") or unique_id
    over = billsec > duration
    odd_answer = answered_at is not None and disposition != "answered"
    # is_internal, whose first test settles most numbers (a long string of digits) here without its call
    internal = (not (len(src) > EXTENSION_MAX_DIGITS and src.isdigit()) and is_internal(src)) \
        or (not (len(dst) > EXTENSION_MAX_DIGITS and dst.isdigit()) and is_internal(dst))
    local_hop = dst_channel[:6] == "Local/"
    if time_flags[0] or time_flags[1] or time_flags[2] or over or odd_answer or internal or local_hop:
        flags = _flags(*time_flags, over, odd_answer, internal, local_hop)
    else:
        flags = ()
    content = "\x1f".join((src, dst, start, answer, end, str(duration), str(billsec), disposition, account))
    return CallRecord(
        line, unique_id, src, dst, caller_name_from_clid(f[c.clid], src), account,
        started_at, answered_at, ended_at, duration, billsec, disposition,
        channel, dst_channel, "", "", "", flags,
        _blake2b(content.encode("utf-8", "replace"), digest_size=8).hexdigest(), leg, call_id,
    )


def _disposition(text: str, billsec: int) -> str:
    """A layout without a disposition column (cdr_custom): answered when it has billed seconds."""
    if text == "":
        return "answered" if billsec > 0 else "no_answer"
    return asterisk_disposition(text)


def _build_epochs(line: int, f: list[str], c: Layout, times: LocalTimes) -> CallRecord | RowError:
    """A cdr_custom mapping that writes times as epochs (`${CDR(start,u)}`): UTC, no DST flags."""
    start, answer, end = f[c.start], f[c.answer], f[c.end]
    try:
        moments = [_epoch_or_local(text, name, c, times) for text, name in ((start, "start"), (answer, "answer"),
                                                                              (end, "end"))]
        if moments[0] is None:
            raise BadField("start: not a timestamp")
        duration, billsec = parse_durations(f[c.duration] or "0", f[c.billsec] or "0")
        disposition = ASTERISK_DISPOSITIONS.get(f[c.disposition]) or _disposition(f[c.disposition], billsec)
    except BadField as exc:
        return RowError(line, str(exc))
    return _record(line, f, c, start, answer, end, moments[0], moments[1], moments[2], duration, billsec,
                   disposition, ("", "", ""))


def _epoch_or_local(text: str, name: str, c: Layout, times: LocalTimes):
    if not text:
        return None
    if name not in c.epochs:
        return times.parse(text, name)[0]
    try:
        seconds = float(text)
    except ValueError:
        raise BadField(f"{name}: not an epoch") from None
    if seconds == 0:  # main/cdr.c cdr_get_tv writes a time never set (no answer) raw as "0.000000"
        return None
    if not 0 < seconds < 1e11:
        raise BadField(f"{name}: not an epoch")
    return _EPOCH + timedelta(microseconds=round(seconds * 1_000_000))


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _flags(flag_start: str, flag_answer: str, flag_end: str, over: bool, odd_answer: bool,
           internal: bool, local_hop: bool = False) -> tuple[str, ...]:
    found = [flag for flag in (flag_start, flag_answer, flag_end) if flag]
    if over:
        found.append(FLAG_BILLSEC_OVER_DURATION)
    if odd_answer:
        found.append(FLAG_ANSWER_ON_UNANSWERED)
    if internal:
        found.append(FLAG_INTERNAL_EXTENSION)
    if local_hop:
        found.append(FLAG_LOCAL_HOP)
    return tuple(dict.fromkeys(found))


def rows(lines: Iterator[tuple[int, list[str] | None, str | None]], *, layouts: dict[int, tuple],
         times: LocalTimes, first_check: Callable[[list[str]], None],
         epochs: frozenset[str] = frozenset()) -> Iterator[CallRecord | RowError]:
    """`layouts`: column count → the columns, or a pair of column tuples (with uniqueid, with
    userfield) where cdr_csv's count alone cannot tell which of the two optional columns it wrote."""
    builders = {width: _builder(columns, times, epochs) for width, columns in layouts.items()}
    return record_rows(lines, builders=builders, first_check=first_check)


def _builder(columns: tuple, times: LocalTimes, epochs: frozenset[str]) -> Callable[[int, list[str]], CallRecord | RowError]:
    if columns and isinstance(columns[0], tuple):
        with_uid, with_userfield = Layout(columns[0], epochs), Layout(columns[1], epochs)
        at = columns[0].index("uniqueid")

        def build_either(line: int, fields: list[str]) -> CallRecord | RowError:
            layout = with_uid if _UNIQUEID.fullmatch(fields[at]) else with_userfield
            return build(layout, times, line, fields)
        return build_either
    return functools.partial(build, Layout(columns, epochs), times)  # no Python frame of its own per row


# An Asterisk uniqueid: "<epoch>.<n>", with "<systemname>-" before it when asterisk.conf sets systemname.
_UNIQUEID = re.compile(r"(?:[^,]*-)?\d{9,}\.\d+")
