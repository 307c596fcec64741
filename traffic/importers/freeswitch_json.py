"""FreeSWITCH mod_json_cdr documents: one per file, several concatenated one per line (NDJSON),
or a JSON array of them.

Values are URL-encoded when mod_json_cdr's `encode-values` is on (its default), so every value
used is percent-decoded. The called number may be only in `callflow[0].caller_profile`;
`callflow` is an array, in old CDRs a single object. Epoch fields are UTC and preferred over the
local `*_stamp` texts when present.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, BinaryIO, Iterator
from urllib.parse import unquote
from zoneinfo import ZoneInfo

from .base import BadField, CallRecord, ImportFormatError, LocalTimes, RowError, fingerprint, odd_flags, parse_int
from .freeswitch_csv import disposition_from_cause

FORMAT = "freeswitch-json"
NOT_JSON = "This file is not FreeSWITCH JSON CDR: it does not parse as JSON documents."


def _documents(stream: BinaryIO) -> Iterator[tuple[int, Any, str | None]]:
    raw = stream.read()
    text = raw.decode("utf-8-sig", errors="replace")
    if not text.strip():
        return
    try:
        whole = json.loads(text)
    except json.JSONDecodeError:
        whole = None
    if isinstance(whole, dict):
        yield 1, whole, None
        return
    if isinstance(whole, list):
        for index, doc in enumerate(whole, start=1):
            yield index, doc, None
        return
    # NDJSON: one document per line; a broken line is that line's error only.
    parsed_any = False
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line), None
            parsed_any = True
        except json.JSONDecodeError:
            yield number, None, "not a JSON document"
    if not parsed_any:
        raise ImportFormatError(NOT_JSON)


def _v(value: Any) -> str:
    return unquote(str(value)) if value not in (None, "") else ""


def _epoch(variables: dict, name: str) -> datetime | None:
    micro = _v(variables.get(f"{name}_uepoch"))
    if micro and micro != "0":
        return datetime.fromtimestamp(int(micro) / 1_000_000, tz=timezone.utc)
    seconds = _v(variables.get(f"{name}_epoch"))
    if seconds and seconds != "0":
        return datetime.fromtimestamp(int(seconds), tz=timezone.utc)
    return None


def _time(variables: dict, name: str, times: LocalTimes) -> tuple[datetime | None, str]:
    try:
        moment = _epoch(variables, name)
    except ValueError:
        raise BadField(f"{name}_epoch: not a number") from None
    if moment is not None:
        return moment, ""
    stamp = _v(variables.get(f"{name}_stamp"))
    if not stamp:
        return None, ""
    return times.parse(stamp, column=f"{name}_stamp")


def _caller_profile(doc: dict) -> dict:
    flow = doc.get("callflow")
    if isinstance(flow, list):
        flow = flow[0] if flow else {}
    if not isinstance(flow, dict):
        return {}
    profile = flow.get("caller_profile")
    return profile if isinstance(profile, dict) else {}


def _record(line: int, doc: Any, times: LocalTimes) -> CallRecord | RowError:
    if not isinstance(doc, dict) or not isinstance(doc.get("variables"), dict):
        return RowError(line, "not a FreeSWITCH CDR document (no variables)")
    variables, profile = doc["variables"], _caller_profile(doc)
    unique_id = _v(variables.get("uuid")) or _v(profile.get("uuid"))
    if not unique_id:
        return RowError(line, "uuid: missing")
    try:
        started_at, flag = _time(variables, "start", times)
        answered_at, _ = _time(variables, "answer", times)
        ended_at, _ = _time(variables, "end", times)
        duration = parse_int(_v(variables.get("duration")) or "0", column="duration")
        billsec = parse_int(_v(variables.get("billsec")) or "0", column="billsec")
    except BadField as exc:
        return RowError(line, str(exc))
    if started_at is None:
        return RowError(line, "start: missing")
    src = _v(variables.get("caller_id_number")) or _v(profile.get("caller_id_number")) or _v(profile.get("ani"))
    dst = _v(variables.get("destination_number")) or _v(profile.get("destination_number"))
    name = _v(variables.get("caller_id_name")) or _v(profile.get("caller_id_name"))
    disposition = disposition_from_cause(_v(variables.get("hangup_cause")), billsec)
    account = _v(variables.get("accountcode"))
    return CallRecord(
        line=line, unique_id=unique_id, src=src, dst=dst, caller_name=name, account_code=account,
        started_at=started_at, answered_at=answered_at, ended_at=ended_at, duration=duration,
        billsec=billsec, disposition=disposition,
        channel=_v(variables.get("channel_name")) or _v(profile.get("chan_name")),
        sip_call_id=_v(variables.get("sip_call_id")),
        remote_ip=_v(variables.get("sip_network_ip")) or _v(variables.get("sip_received_ip")) or _v(profile.get("network_addr")),
        user_agent=_v(variables.get("sip_user_agent")),
        flags=odd_flags(src=src, dst=dst, disposition=disposition, answered_at=answered_at,
                        duration=duration, billsec=billsec, extra=(flag,)),
        fingerprint=fingerprint(src, dst, started_at.isoformat(), answered_at, ended_at, duration,
                                billsec, disposition, account),
    )


def parse(stream: BinaryIO, *, tz: ZoneInfo) -> Iterator[CallRecord | RowError]:
    times = LocalTimes(tz)
    for line, doc, error in _documents(stream):
        yield RowError(line, error) if error is not None else _record(line, doc, times)
