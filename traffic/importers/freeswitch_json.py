"""FreeSWITCH mod_json_cdr documents: one per file (pretty-printed, as mod_json_cdr writes them),
several one per line (NDJSON, as a collector appends them), several pretty-printed ones one
after the other (files concatenated), or a JSON array of them.

Values are URL-encoded when mod_json_cdr's `encode-values` is on (its default), so every value
used is percent-decoded. The called number may be only in `callflow[0].caller_profile` (the
latest profile comes first); `callflow` is an array, in old CDRs a single object or (seen in 2014-2015
CDRs) the key repeated once per profile, latest first, which is read as the array. Epoch fields
(`*_uepoch`, `*_epoch`) are UTC and preferred over the local `*_stamp` texts, which are read in
the source's time zone only when no epoch is there.

A B leg (mod_json_cdr's `log-b-leg`, off by default) names its A leg (`originating_leg_uuid`, `originator`,
and the `originator` profile in its callflow): it is a leg of the A leg's call, and not billed when it has
the A leg's caller (an outgoing call, click-to-call), which its A leg is billed for (FLAG_BILLED_ON_A_LEG).

`line` of a record or error is the physical line where its document starts. NDJSON is read line
by line (a large file is never held in memory); any other layout is read whole. A document that cannot
be read (malformed, truncated, or holding an integer past Python's 4,300-digit limit) is that
document's error only.
"""
from __future__ import annotations

import io
import json
import sys
from datetime import datetime, timedelta, timezone
from typing import Any, BinaryIO, Iterator
from urllib.parse import unquote
from zoneinfo import ZoneInfo

from .base import (
    FLAG_BILLED_ON_A_LEG,
    BadField,
    CallRecord,
    ImportFormatError,
    LocalTimes,
    RowError,
    fingerprint,
    name_unless_number,
    odd_flags,
    parse_int,
    refuse_non_text,
)
from .freeswitch_csv import disposition_from_cause

FORMAT = "freeswitch-json"
NOT_JSON = "This file is not FreeSWITCH JSON CDR: it does not parse as JSON documents."
BAD_DOCUMENT = "not a JSON document (malformed or truncated)"
NOT_A_CDR = "not a FreeSWITCH CDR document (no variables)"
# Python refuses to read an integer of more than 4,300 digits (sys.int_info.default_max_str_digits, the
# CVE-2020-10735 limit) and json raises a plain ValueError for it: that document is rejected, not the file.
NUMBER_TOO_LONG = f"a number longer than {sys.int_info.default_max_str_digits} digits"

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_decoder = json.JSONDecoder()
_WHITESPACE = " \t\r\n"
_CALLFLOW = "callflow"
_CALLFLOW_KEY = f'"{_CALLFLOW}"'


def _callflows_in_order(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """An object whose repeated "callflow" keys become one list in document order (json keeps the last
    repeat only: the oldest profile, so the number before a transfer); any other repeated key keeps its
    last value, as json does."""
    obj = dict(pairs)
    if len(obj) < len(pairs) and _CALLFLOW in obj:
        flows: list[Any] = []
        for key, value in pairs:
            if key != _CALLFLOW:
                continue
            if isinstance(value, list):
                flows.extend(value)
            else:
                flows.append(value)
        obj[_CALLFLOW] = flows
    return obj


_repeats_decoder = json.JSONDecoder(object_pairs_hook=_callflows_in_order)


def _callflow_may_repeat(document: Any, text: str, start: int, end: int) -> bool:
    """Whether `text[start:end]`, read as `document`, may hold "callflow" more than once, so must be read
    again keeping each. Only a callflow read as one object can be such a repeat (mod_json_cdr writes an
    array today), so a current document costs one dict look-up, not the hook's Python call per object."""
    return (isinstance(document, dict) and isinstance(document.get(_CALLFLOW), dict)
            and text.count(_CALLFLOW_KEY, start, end) > 1)


def _loads(text: str) -> Any:
    document = json.loads(text)
    if _callflow_may_repeat(document, text, 0, len(text)):
        document = _repeats_decoder.decode(text)
    return document


def _documents(stream: BinaryIO) -> Iterator[tuple[int, Any, str | None]]:
    """(line, document or None, error or None). Raises ImportFormatError when nothing in the file
    is a JSON document, before yielding anything of a file that is not JSON (or not text) at all."""
    refuse_non_text(stream)
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="replace")
    number, line = 0, ""
    for number, line in enumerate(text, start=1):
        if line.strip():
            break
    else:
        return  # empty file: nothing to import
    head = line.lstrip(_WHITESPACE)
    if head[:1] not in ("{", "["):
        raise ImportFormatError(NOT_JSON)
    try:
        first = _loads(line)
    except (ValueError, RecursionError):  # not one document on one line (or one too odd to read whole)
        first = None
    if isinstance(first, dict):
        # NDJSON (or a one-line document): every further line is a document of its own, so a broken
        # line is that line's error only.
        yield number, first, None
        for number, line in enumerate(text, start=number + 1):
            if not line.strip():
                continue
            try:
                yield number, _loads(line), None
            except (ValueError, RecursionError) as exc:  # RecursionError: absurdly deep nesting
                yield number, None, _unreadable(exc)
        return
    yield from _whole(line + text.read(), first_line=number)


def _whole(text: str, *, first_line: int) -> Iterator[tuple[int, Any, str | None]]:
    """Pretty-printed documents one after the other, or an array of them."""
    held: list[tuple[int, Any, str | None]] = []  # errors before the first document: maybe not JSON at all
    found = False
    pos, line, counted = 0, first_line, 0

    def line_at(index: int) -> int:
        nonlocal line, counted
        line += text.count("\n", counted, index)
        counted = index
        return line

    def skip(index: int) -> int:
        while index < len(text) and text[index] in _WHITESPACE:
            index += 1
        return index

    pos = skip(pos)
    in_array = text[pos:pos + 1] == "["
    if in_array:
        pos = skip(pos + 1)
    while pos < len(text):
        if in_array and text[pos] == "]":
            break
        start_line = line_at(pos)
        try:
            document, end = _decoder.raw_decode(text, pos)
            if _callflow_may_repeat(document, text, pos, end):
                document = _repeats_decoder.raw_decode(text, pos)[0]
            pos = end
        except (ValueError, RecursionError) as exc:  # RecursionError: absurdly deep nesting
            item = (start_line, None, _unreadable(exc))
            # Resynchronise on the next document that starts a line; an array cannot be resynchronised.
            resume = -1 if in_array else text.find("\n{", pos + 1)
            if found:
                yield item
            else:
                held.append(item)
            if resume < 0:
                break
            pos = resume + 1
            continue
        if not found:
            found = True
            yield from held
        yield start_line, document, None
        pos = skip(pos)
        if in_array and text[pos:pos + 1] == ",":
            pos = skip(pos + 1)
    if not found:
        raise ImportFormatError(NOT_JSON)


def _unreadable(exc: Exception) -> str:
    """The reason a document cannot be read. json raises JSONDecodeError for malformed text and a
    plain ValueError for an integer past Python's digit limit."""
    if isinstance(exc, ValueError) and not isinstance(exc, json.JSONDecodeError):
        return NUMBER_TOO_LONG
    return BAD_DOCUMENT


def _v(value: Any) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    return unquote(text) if "%" in text else text


def _epoch(variables: dict[str, Any], name: str) -> datetime | None:
    micro = _v(variables.get(f"{name}_uepoch"))
    if micro and micro != "0":
        return EPOCH + timedelta(microseconds=int(micro))  # exact; a float of µs since 1970 is not
    seconds = _v(variables.get(f"{name}_epoch"))
    if seconds and seconds != "0":
        return EPOCH + timedelta(seconds=int(seconds))
    return None


def _time(variables: dict[str, Any], name: str, times: LocalTimes,
          earliest: datetime | None = None) -> tuple[datetime | None, str]:
    try:
        moment = _epoch(variables, name)
    except (ValueError, OverflowError):
        raise BadField(f"{name}_epoch: not a number") from None
    if moment is not None:
        return moment, ""
    stamp = _v(variables.get(f"{name}_stamp"))
    if not stamp:
        return None, ""
    if earliest is None:
        return times.parse(stamp, f"{name}_stamp")
    return times.parse_not_before(stamp, f"{name}_stamp", earliest)


def _caller_profile(doc: dict[str, Any]) -> dict[str, Any]:
    flow = doc.get("callflow")
    if isinstance(flow, list):
        flow = flow[0] if flow else {}
    if not isinstance(flow, dict):
        return {}
    profile = flow.get("caller_profile")
    return profile if isinstance(profile, dict) else {}


def _a_leg(variables: dict[str, Any], profile: dict[str, Any]) -> tuple[str, str]:
    """A B leg's A leg: its uuid (`originating_leg_uuid`, `originator`, or the originator profile FreeSWITCH
    writes into the B leg's caller profile) and that profile's caller number; ("", "") on an A leg."""
    origin = profile.get("originator")
    profiles = origin.get("originator_caller_profiles") if isinstance(origin, dict) else None
    first = profiles[0] if isinstance(profiles, list) and profiles and isinstance(profiles[0], dict) else {}
    uuid = _v(variables.get("originating_leg_uuid")) or _v(variables.get("originator")) or _v(first.get("uuid"))
    if not uuid:
        return "", ""
    return uuid, _v(first.get("caller_id_number")) or _v(first.get("ani"))


def _seconds(variables: dict[str, Any], name: str, fallback: int) -> int:
    text = _v(variables.get(name))
    return parse_int(text, name) if text else fallback


def _record(line: int, doc: Any, times: LocalTimes) -> CallRecord | RowError:
    if not isinstance(doc, dict) or not isinstance(doc.get("variables"), dict):
        return RowError(line, NOT_A_CDR)
    variables, profile = doc["variables"], _caller_profile(doc)
    unique_id = _v(variables.get("uuid")) or _v(profile.get("uuid")) or _v(variables.get("call_uuid"))
    if not unique_id:
        return RowError(line, "uuid: missing")
    try:
        started_at, flag_start = _time(variables, "start", times)
        if started_at is None:
            return RowError(line, "start: missing")
        answered_at, flag_answer = _time(variables, "answer", times, started_at)
        ended_at, flag_end = _time(variables, "end", times, started_at)
        # Without a duration, the epochs give it (the switch computes it the same way).
        whole = max(0, int((ended_at - started_at).total_seconds())) if ended_at else 0
        duration = _seconds(variables, "duration", whole)
        talked = max(0, int((ended_at - answered_at).total_seconds())) if ended_at and answered_at else 0
        billsec = _seconds(variables, "billsec", talked)
    except BadField as exc:
        return RowError(line, str(exc))
    src = _v(variables.get("caller_id_number")) or _v(profile.get("caller_id_number")) or _v(profile.get("ani"))
    dst = _v(variables.get("destination_number")) or _v(profile.get("destination_number"))
    name = _v(variables.get("caller_id_name")) or _v(profile.get("caller_id_name"))
    # Answered: an answer time and billed seconds, whatever the hangup cause (freeswitch_csv).
    answered = answered_at is not None or not any(f"answer_{kind}" in variables for kind in ("epoch", "uepoch", "stamp"))
    disposition = disposition_from_cause(_v(variables.get("hangup_cause")), billsec, answered)
    account = _v(variables.get("accountcode"))
    remote_ip = (_v(variables.get("sip_network_ip")) or _v(variables.get("sip_received_ip"))
                 or _v(profile.get("network_addr")))
    # A B leg with its A leg's caller is billed there; with another (a forward showing our number), here.
    a_leg, a_caller = _a_leg(variables, profile)
    a_leg = "" if a_leg == unique_id else a_leg
    on_a_leg = FLAG_BILLED_ON_A_LEG if a_leg and (not a_caller or a_caller.strip() == src.strip()) else ""
    extra = tuple(flag for flag in (flag_start, flag_answer, flag_end, on_a_leg) if flag)
    return CallRecord(
        line=line, unique_id=unique_id, src=src, dst=dst, caller_name=name_unless_number(name, src),
        account_code=account, started_at=started_at, answered_at=answered_at, ended_at=ended_at,
        duration=duration, billsec=billsec, disposition=disposition,
        channel=_v(variables.get("channel_name")) or _v(profile.get("chan_name")),
        dst_channel="",
        sip_call_id=_v(variables.get("sip_call_id")),
        remote_ip=remote_ip,
        user_agent=_v(variables.get("sip_user_agent")),
        flags=odd_flags(src=src, dst=dst, disposition=disposition, answered_at=answered_at,
                        duration=duration, billsec=billsec, extra=extra),
        fingerprint=fingerprint(src, dst, started_at.isoformat(), answered_at, ended_at, duration,
                                billsec, disposition, account),
        call_id=a_leg or _v(variables.get("call_uuid")) or unique_id,
    )


def parse(stream: BinaryIO, *, tz: ZoneInfo, columns: str = "") -> Iterator[CallRecord | RowError]:
    times = LocalTimes(tz)
    for line, doc, error in _documents(stream):
        yield RowError(line, error) if error is not None else _record(line, doc, times)
