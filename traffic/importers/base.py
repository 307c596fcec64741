"""Shared pieces of the CDR parsers: the record type, strict CSV reading, time conversion.

Parsers never see Django. Each yields `CallRecord` for a usable row and `RowError` for a broken
one, so one bad line never costs the others. Neither a RowError's reason nor an exception ever
quotes the file's content: numbers and caller names are personal data.

Strict CSV, line by line: every physical line is parsed on its own with `csv.reader(strict=True)`.
An unterminated quote is then an error of that line only, never a row silently merged with the
next ones (switches do not write line breaks inside CDR fields).
"""
from __future__ import annotations

import csv
import functools
import hashlib
import io
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import BinaryIO, Iterator
from zoneinfo import ZoneInfo

FLAG_BILLSEC_OVER_DURATION = "billsec_over_duration"
FLAG_ANSWER_ON_UNANSWERED = "answer_time_on_unanswered"
FLAG_AMBIGUOUS_LOCAL_TIME = "ambiguous_local_time"  # occurs twice (DST end): the first occurrence is used
FLAG_NONEXISTENT_LOCAL_TIME = "nonexistent_local_time"  # in the DST gap: read with the offset before the gap
FLAG_INTERNAL_EXTENSION = "internal_extension"  # "100", "test", "s": an extension, not a phone number
FLAG_UNDECODABLE_TEXT = "undecodable_text"  # bytes that were not UTF-8 were replaced

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


@dataclass(slots=True)
class RowError:
    line: int
    reason: str


class ImportFormatError(Exception):
    """The whole file is refused (wrong kind of file). The message never quotes the file."""


class BadField(ValueError):
    """A field that cannot be read; the message names the column, never the value."""


CEL_EVENTS = frozenset({
    "CHAN_START", "CHAN_END", "ANSWER", "HANGUP", "BRIDGE_START", "BRIDGE_END", "BRIDGE_ENTER",
    "BRIDGE_EXIT", "LINKEDID_END", "APP_START", "APP_END", "PARK_START", "PARK_END", "BLINDTRANSFER",
    "ATTENDEDTRANSFER", "PICKUP", "FORWARD", "USER_DEFINED", "HOOKFLASH", "LOCAL_OPTIMIZE",
})
CEL_REFUSAL = "This is an Asterisk CEL event log, not CDRs: import the cdr_csv or cdr_custom file instead."


def csv_lines(stream: BinaryIO) -> Iterator[tuple[int, list[str] | None, str | None]]:
    """(line number, fields or None, error or None) for every non-blank physical line.

    Handles a UTF-8 byte-order mark, CRLF or LF line ends and a last line without a line end.
    Bytes that are not UTF-8 are replaced. One csv.reader runs over the whole file (fast); when a
    record spans more than one physical line (an unterminated quote) or fails, each of the lines
    it took is parsed again on its own, so the broken line is reported and the others still land.
    """
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="replace", newline="")
    taken: list[tuple[int, str]] = []

    def feed() -> Iterator[str]:
        for item in enumerate(text, start=1):
            taken.append(item)
            yield item[1]

    reader = csv.reader(feed(), strict=True)
    while True:
        taken.clear()
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error:
            fields = None
        if fields is not None and len(taken) == 1:
            if fields:
                yield taken[0][0], fields, None
            continue
        yield from _one_by_one(list(taken))


def _one_by_one(lines: list[tuple[int, str]]) -> Iterator[tuple[int, list[str] | None, str | None]]:
    for number, raw in lines:
        line = raw.rstrip("\r\n")
        if not line.strip():
            continue
        try:
            rows = list(csv.reader((line,), strict=True))
        except csv.Error as exc:
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
    return "malformed CSV"


def refuse_cel(fields: list[str]) -> None:
    """CEL lines start with an event name and an epoch with microseconds."""
    if fields and fields[0] in CEL_EVENTS and len(fields) >= 2 and "." in fields[1]:
        raise ImportFormatError(CEL_REFUSAL)


class LocalTimes:
    """Local wall-clock text → aware UTC datetime, with DST markers.

    The UTC offset is computed once per (date, hour) and cached: a file of a million rows spans a
    few thousand hours, so zoneinfo is consulted a few thousand times, not a million.
    """

    __slots__ = ("tz", "_offsets")

    def __init__(self, tz: ZoneInfo) -> None:
        self.tz = tz
        self._offsets: dict[str, tuple[timedelta, str]] = {}

    def parse(self, text: str, *, column: str) -> tuple[datetime, str]:
        """Returns (UTC datetime, flag or '')."""
        try:
            naive = datetime.fromisoformat(text)
        except ValueError:
            raise BadField(f"{column}: not a timestamp") from None
        if naive.tzinfo is not None:
            return naive.astimezone(UTC), ""
        key = text[:13]
        hit = self._offsets.get(key)
        if hit is None:
            hit = self._offsets[key] = self._offset(naive.replace(minute=0, second=0, microsecond=0))
        offset, flag = hit
        return (naive - offset).replace(tzinfo=UTC), flag

    def _offset(self, hour: datetime) -> tuple[timedelta, str]:
        first = hour.replace(tzinfo=self.tz, fold=0)
        second = hour.replace(tzinfo=self.tz, fold=1)
        off0, off1 = first.utcoffset() or timedelta(0), second.utcoffset() or timedelta(0)
        if off0 == off1:
            return off0, ""
        # Different offsets for fold 0 and 1: either the hour occurs twice (ambiguous) or not at all.
        round_trip = first.astimezone(UTC).astimezone(self.tz).replace(tzinfo=None)
        if round_trip == hour:
            return off0, FLAG_AMBIGUOUS_LOCAL_TIME
        return off0, FLAG_NONEXISTENT_LOCAL_TIME


def parse_int(text: str, *, column: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise BadField(f"{column}: not a whole number") from None
    if value < 0:
        raise BadField(f"{column}: negative")
    return value


@functools.lru_cache(maxsize=65536)
def is_extension(number: str) -> bool:
    """A short internal extension or a name ("s", "test"), not a phone number."""
    text = number.strip()
    if text.startswith("+"):
        return False
    digits = text.replace(" ", "").replace("-", "")
    return not digits.isdigit() or len(digits) <= EXTENSION_MAX_DIGITS


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
        return extra  # the common case, without building a list
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


def caller_name_from_clid(clid: str) -> str:
    """'"Test User" <test>' → 'Test User'; a clid without a number part is all name."""
    text = clid.strip()
    if text.endswith(">") and "<" in text:
        text = text[: text.rindex("<")].strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1]
    return text
