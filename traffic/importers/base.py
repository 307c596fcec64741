"""Shared pieces of the CDR parsers: the record type, strict CSV reading, time conversion.

Parsers never see Django. Each yields `CallRecord` for a usable row and `RowError` for a broken
one, so one bad line never costs the others. Neither a RowError's reason nor an exception ever
quotes the file's content: numbers and caller names are personal data.

Strict CSV: one `csv.reader(strict=True)` runs over the whole file, and its `line_num` gives the
physical line where each record starts, also after a quoted field that holds a line break (a
caller name or lastdata can carry one). A record that took several physical lines is kept only
when it has a column count of the layout; otherwise it was an unterminated quote that swallowed
the next rows, and each of its lines is parsed again on its own, so the broken line is reported
and the rows after it still land.
"""
from __future__ import annotations

import csv
import functools
import hashlib
import io
import itertools
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import BinaryIO, Callable, Collection, Iterator
from zoneinfo import ZoneInfo

from . import sniff
from .chunks import chunk_current
from .cel import CEL_EVENTS, CEL_REFUSAL, ImportFormatError, refuse_cel  # noqa: F401  (shared by the parsers)
from .clid import caller_name_from_clid, name_unless_number  # noqa: F401  (shared by the parsers)

FLAG_BILLSEC_OVER_DURATION = "billsec_over_duration"
FLAG_ANSWER_ON_UNANSWERED = "answer_time_on_unanswered"
FLAG_AMBIGUOUS_LOCAL_TIME = "ambiguous_local_time"  # occurs twice (DST end): the first occurrence is used
FLAG_NONEXISTENT_LOCAL_TIME = "nonexistent_local_time"  # in the DST gap: read with the offset before the gap
FLAG_INTERNAL_EXTENSION = "internal_extension"  # "100", "test", "s": an extension, not a phone number
FLAG_UNDECODABLE_TEXT = "undecodable_text"  # bytes that were not UTF-8 were replaced
# A leg from party A into a Local channel: a hop inside the switch. The Local channel's other half
# writes its own leg towards the real destination, which is the one billed (never both).
FLAG_LOCAL_HOP = "local_channel_hop"
# FreeSWITCH's B leg of a bridged call (the channel names its A leg: `originator`) with the A leg's caller:
# the A leg is billed, this one not a second time. A B leg with another caller (a forward that shows our
# number) is billed as itself; either way it is a leg of the A leg's call.
FLAG_BILLED_ON_A_LEG = "billed_on_a_leg"
# Answered, but the switch wrote no answer time (Kamailio acc at cdr_start_on_confirmed=0, with no
# answer attribute): the seconds talked are unknown, so the call is stored unbilled, never billed its ringing.
FLAG_ANSWER_TIME_UNKNOWN = "answer_time_unknown"

DISPOSITIONS = ("answered", "no_answer", "busy", "failed", "congestion")

EXTENSION_MAX_DIGITS = 6
UTC = timezone.utc


@dataclass(slots=True)
class CallRecord:
    line: int
    unique_id: str
    src: str
    dst: str
    caller_name: str
    account_code: str
    started_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    duration: int
    billsec: int
    disposition: str
    channel: str = ""
    dst_channel: str = ""
    sip_call_id: str = ""
    remote_ip: str = ""
    user_agent: str = ""
    flags: tuple[str, ...] = ()
    fingerprint: str = ""
    leg: str = ""  # "" when unique_id is the leg's own id (FreeSWITCH); see leg_key
    call_id: str = ""  # the call the leg belongs to (linkedid, A-leg uuid); "" = unique_id


@dataclass(slots=True)
class RowError:
    line: int
    reason: str


class BadField(ValueError):
    """A field that cannot be read; the message names the column, never the value."""


def refuse_non_text(stream: BinaryIO) -> None:
    """Refuse (ImportFormatError) a file that is no CDR text at all, from its first bytes, before any
    row is read (sniff.py says what is refused and why); the stream is left where it was. A stream
    that cannot seek back is not sniffed (every caller passes a file or a BytesIO)."""
    if not stream.seekable():
        return
    start = stream.tell()
    head = stream.read(sniff.SNIFF_BYTES)
    stream.seek(start)
    refusal = sniff.non_text_refusal(head)
    if refusal:
        raise ImportFormatError(refusal)


def csv_lines(stream: BinaryIO, *, widths: Collection[int] = (),
              unreadable: dict[int, str] | None = None) -> Iterator[tuple[int, list[str] | None, str | None]]:
    """(first physical line, fields or None, error or None) for every non-blank record.

    Handles a UTF-8 byte-order mark, CRLF or LF line ends and a last line without a line end.
    Bytes that are not UTF-8 are replaced, never a crash. `widths` are the column counts of the
    layout: a record spanning several lines with one of them is a real multi-line field. A file that
    is not text at all is refused first (`refuse_non_text`). `unreadable` collects the text of each
    line that is no CSV (by line number), for a parser that can read it otherwise.
    """
    chunk = chunk_current()
    if chunk is None or chunk.first:
        refuse_non_text(stream)
    offset = chunk.line_offset if chunk is not None else 0
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="replace", newline="")
    # tee keeps the physical lines the reader took, in C, so the fast path costs one next() per
    # line; the slow path (an error or a multi-line record) reads them back to re-parse them.
    physical, shadow = itertools.tee(text)
    reader = csv.reader(physical, strict=True)
    read, taken = reader.__next__, shadow.__next__
    done = offset  # physical lines handed to the reader so far (line_num keeps counting across errors)
    while True:
        try:
            fields: list[str] | None = read()
        except StopIteration:
            return
        except csv.Error as exc:
            fields = None
            if chunk is not None and "unexpected end of data" in str(exc):
                chunk.dirty_end = True  # the input ended inside a quoted field (strict mode says so only at its end)
        first, done = done + 1, reader.line_num + offset
        span = done - first + 1
        if span == 1 and fields is not None:
            taken()
            if len(fields) > 1 or (fields and fields[0].strip()):  # [] or ["  "] is a blank line
                yield first, fields, None
            continue
        lines = [(number, taken()) for number in range(first, done + 1)]
        if fields is not None and len(fields) in widths:
            yield first, fields, None
            continue
        if not lines:  # an error without a line taken: cannot happen, but must never loop forever
            yield max(first - 1, 1), None, "malformed CSV"
            return
        yield from _one_by_one(lines, unreadable)


def record_rows(lines: Iterator[tuple[int, list[str] | None, str | None]], *,
                builders: dict[int, Callable[[int, list[str]], CallRecord | RowError]],
                first_check: Callable[[list[str]], None]) -> Iterator[CallRecord | RowError]:
    """The row loop every CSV parser shares: a CSV error or a column count no layout has becomes a
    RowError, the first record goes through `first_check` (refuse a CEL event log; later rows are
    not looked at), every other row through the builder for its column count."""
    widths = sorted(builders)
    contiguous = len(widths) > 2 and widths[-1] - widths[0] == len(widths) - 1
    expected = f"{widths[0]} to {widths[-1]}" if contiguous else " or ".join(map(str, widths))
    chunk = chunk_current()
    checked = chunk is not None and not chunk.first  # only a file's first record is first-checked
    for line, fields, error in lines:
        if fields is None:
            yield RowError(line, error or "malformed CSV")
            continue
        if not checked:
            first_check(fields)
            checked = True
        build = builders.get(len(fields))
        if build is None:
            yield RowError(line, f"expected {expected} columns, found {len(fields)}")
            continue
        yield build(line, fields)


def _one_by_one(lines: list[tuple[int, str]], unreadable: dict[int, str] | None = None,
                ) -> Iterator[tuple[int, list[str] | None, str | None]]:
    for number, raw in lines:
        line = raw.rstrip("\r\n")
        if not line.strip():
            continue
        try:
            rows = list(csv.reader((line,), strict=True))
        except csv.Error as exc:
            if unreadable is not None and len(unreadable) < 1000:
                unreadable[number] = line
            yield number, None, _csv_reason(str(exc))
            continue
        if len(rows) != 1:
            yield number, None, "unterminated quoted field"
            continue
        yield number, rows[0], None


def _csv_reason(message: str) -> str:
    if "unexpected end of data" in message or "newline inside string" in message:
        return "unterminated quoted field"
    if "expected after" in message:
        return "stray quote inside a field"
    if "field larger than field limit" in message:
        return "field too long"
    return "malformed CSV"


class LocalTimes:
    """Local wall-clock text → aware UTC datetime, with DST markers.

    The UTC offset is computed once per (date, hour) and cached: a file of a million rows spans a
    few thousand hours, so zoneinfo is consulted a few thousand times, not a million. The text is
    read with a "+00:00" suffix, which gives an aware UTC datetime straight from fromisoformat;
    subtracting the cached offset is then the whole conversion (datetime.replace(tzinfo=...) alone
    costs more than the parse).
    """

    __slots__ = ("tz", "_offsets")

    def __init__(self, tz: ZoneInfo) -> None:
        self.tz = tz
        # "YYYY-MM-DD HH" → (offset of the first occurrence, flag, offset of the second occurrence)
        self._offsets: dict[str, tuple[timedelta, str, timedelta]] = {}

    def parse(self, text: str, column: str = "time") -> tuple[datetime, str]:
        """Returns (UTC datetime, flag or ''). An ambiguous local time is read as its first occurrence."""
        hit = self._offsets.get(text[:13])
        if hit is not None and len(text) == 19:  # the fast path: "YYYY-MM-DD HH:MM:SS", hour seen before
            try:
                return _fromiso(text + "+00:00") - hit[0], hit[1]
            except ValueError:
                pass  # fall through to the careful path, which names the column
        return self._parse_slowly(text, column)

    def parse_plain(self, start: str, answer: str, end: str) -> tuple | None:
        """(start, answer, end, no flags) of one CDR row, None for an empty answer or end, when each time
        takes `parse`'s fast path without a flag (nearly every row); else None, and the caller parses
        each with `parse`. One call a row instead of three (the hot loop of an import)."""
        get = self._offsets.get
        first, second, third = get(start[:13]), get(answer[:13]) if answer else _PLAIN, get(end[:13]) if end else _PLAIN
        if (first is None or second is None or third is None or first[1] or second[1] or third[1]
                or len(start) != 19 or (answer and len(answer) != 19) or (end and len(end) != 19)):
            return None
        try:
            return (_fromiso(start + "+00:00") - first[0], _fromiso(answer + "+00:00") - second[0] if answer else None,
                    _fromiso(end + "+00:00") - third[0] if end else None, _NO_FLAGS)
        except ValueError:
            return None  # `parse` names the column

    def parse_not_before(self, text: str, column: str, earliest: datetime) -> tuple[datetime, str]:
        """An answer or end time: in the hour that occurs twice, a call that started in the first
        occurrence may end in the second; reading both with the first offset would put the end
        before the start, so the second occurrence is taken when the first one is too early."""
        moment, flag = self.parse(text, column)
        if flag == FLAG_AMBIGUOUS_LOCAL_TIME and moment < earliest:
            naive = _fromiso(text)
            offsets = self._offset(naive.replace(tzinfo=None))
            moment += offsets[0] - offsets[2]
        return moment, flag

    def _parse_slowly(self, text: str, column: str) -> tuple[datetime, str]:
        try:
            naive = _fromiso(text)
        except ValueError:
            raise BadField(f"{column}: not a timestamp") from None
        if naive.tzinfo is not None:  # the switch wrote an offset: trust it
            return naive.astimezone(UTC), ""
        key = naive.strftime("%Y-%m-%d %H") if text[10:11] not in (" ", "T") else text[:13]
        hit = self._offsets.get(key)
        if hit is None:
            hour = naive.replace(minute=0, second=0, microsecond=0)
            hit = self._offset(hour)
            if self._offset(hour + _LAST_SECOND) == hit:
                self._offsets[key] = hit
            else:
                # The offset changes inside this hour (a half-hour DST zone such as Lord Howe, or
                # a historic change): no cache for it, every time of the hour is worked out exactly.
                hit = self._offset(naive)
        return naive.replace(tzinfo=UTC) - hit[0], hit[1]

    def _offset(self, local: datetime) -> tuple[timedelta, str, timedelta]:
        first = local.replace(tzinfo=self.tz, fold=0)
        second = local.replace(tzinfo=self.tz, fold=1)
        off0, off1 = first.utcoffset() or timedelta(0), second.utcoffset() or timedelta(0)
        if off0 == off1:
            return off0, "", off0
        # Different offsets for fold 0 and 1: either the time occurs twice (ambiguous) or not at all.
        round_trip = first.astimezone(UTC).astimezone(self.tz).replace(tzinfo=None)
        if round_trip == local:
            return off0, FLAG_AMBIGUOUS_LOCAL_TIME, off1
        return off0, FLAG_NONEXISTENT_LOCAL_TIME, off0


_LAST_SECOND = timedelta(minutes=59, seconds=59)
_NO_FLAGS = ("", "", "")
_PLAIN = (None, "")  # parse_plain's stand-in for the offsets of an empty time
_fromiso = datetime.fromisoformat


def parse_int(text: str, column: str = "number") -> int:
    """Whole seconds. A decimal ("12.345", cdr_custom's high-resolution mapping) is rounded half
    up, as Asterisk itself rounds milliseconds into its integer billsec."""
    try:
        value = int(text)
    except ValueError:
        value = _parse_decimal(text, column)
    if value < 0:
        raise BadField(f"{column}: negative")
    return value


def parse_durations(duration_text: str, billsec_text: str) -> tuple[int, int]:
    """(duration, billsec) of one CDR row, the int() fast path first (the hot loop of a bulk import);
    raises BadField naming the column."""
    try:
        duration = int(duration_text)
    except ValueError:
        duration = parse_int(duration_text, "duration")
    try:
        billsec = int(billsec_text)
    except ValueError:
        billsec = parse_int(billsec_text, "billsec")
    if duration < 0 or billsec < 0:
        raise BadField("duration: negative" if duration < 0 else "billsec: negative")
    return duration, billsec


def _parse_decimal(text: str, column: str) -> int:
    try:
        number = float(text)
    except ValueError:
        raise BadField(f"{column}: not a whole number") from None
    if number != number or number in (float("inf"), float("-inf")):  # nan, inf
        raise BadField(f"{column}: not a whole number")
    return int(number + 0.5) if number >= 0 else -1


# Caller ids switches write when the number is withheld (Asterisk, FreeSWITCH, SIP RFC 3323 "anonymous"):
# no number and no extension.
ANONYMOUS_NAMES = frozenset({"anonymous", "restricted", "private", "unknown", "unavailable", "withheld",
                             "blocked", "anonymous@anonymous.invalid"})


@functools.lru_cache(maxsize=65536)
def is_extension(number: str) -> bool:
    """A short internal extension ("100") or a SIP user name ("s", "test", "alice"), not a phone number;
    a withheld caller ("anonymous") is neither, nor is a dialled string of digits and symbols ("*21#")."""
    text = number.strip()
    if text.startswith("+") or text.lower() in ANONYMOUS_NAMES:
        return False
    if any(c.isalpha() for c in text):
        return True
    digits = text.replace(" ", "").replace("-", "")
    return digits.isdigit() and len(digits) <= EXTENSION_MAX_DIGITS


def is_internal(number: str) -> bool:
    """is_extension for the hot loops: most numbers are long digit strings, settled without the
    cached call; an empty number (withheld) is not an extension."""
    if len(number) > EXTENSION_MAX_DIGITS and number.isdigit():
        return False
    return bool(number) and is_extension(number)


def fingerprint(*parts: object) -> str:
    """A short stable hash of the billing-relevant content, to tell a conflict from a duplicate."""
    return hashlib.blake2b("\x1f".join(map(str, parts)).encode("utf-8", "replace"), digest_size=8).hexdigest()


def odd_flags(*, src: str, dst: str, disposition: str, answered_at: datetime | None,
              duration: int, billsec: int, extra: tuple[str, ...] = ()) -> tuple[str, ...]:
    """Markers of rows that are odd but real: they are kept, never dropped."""
    over = billsec > duration
    answer_odd = answered_at is not None and disposition != "answered"
    extension = bool(src and is_extension(src)) or bool(dst and is_extension(dst))
    if not (over or answer_odd or extension):
        # the common case, without building a list; start and end in one DST hour flag it once
        return extra if len(extra) < 2 else tuple(dict.fromkeys(extra))
    flags = list(extra)
    if over:
        flags.append(FLAG_BILLSEC_OVER_DURATION)
    if answer_odd:
        flags.append(FLAG_ANSWER_ON_UNANSWERED)
    if extension:
        flags.append(FLAG_INTERNAL_EXTENSION)
    return tuple(dict.fromkeys(flags))


ASTERISK_DISPOSITIONS = {
    "ANSWERED": "answered", "NO ANSWER": "no_answer", "NOANSWER": "no_answer", "BUSY": "busy",
    "FAILED": "failed", "CONGESTION": "congestion",
}


def asterisk_disposition(text: str) -> str:
    try:
        return ASTERISK_DISPOSITIONS[text.strip().upper()]
    except KeyError:
        raise BadField("disposition: unknown value") from None
