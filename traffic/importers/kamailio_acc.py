"""Kamailio acc module, dialog-based CDRs (`cdr_enable=1`, with the dialog module), as its
`cdr_log_enable` writes them to syslog: one line per dialog, `name=value` pairs separated by "; "
(acc_cdr.c log_write_cdr), after whatever prefix syslog puts before them:

  ... kamailio[812]: NOTICE: acc [acc_cdr.c:255]: start_time=1733300000.123456; end_time=1733300060.654321;
  duration=60.530865; callid=a84b4c76e66710@pc33; src_user=0205550101; dst_user=0699990001; sip_code=200

start_time, end_time and duration are the core attributes (`cdr_start_id`, `cdr_end_id`,
`cdr_duration_id`; the source may declare other names): epochs with microseconds. What start_time is
depends on `cdr_start_on_confirmed`, which the source declares with its acc modparam lines
(layouts.KamailioAcc): set to 1, it is the answer (the dialog's confirmation) and duration the billed
seconds; at Kamailio's default, 0, it is the INVITE and duration includes the ringing. Then the answer
comes from a cdr_extra attribute (`answer_time`, `answer`, `connect_time`: an epoch), billed from there
to end_time; a call answered without one is stored unbilled and flagged (`answer_time_unknown`), never
billed for its ringing. The rest are the operator's `cdr_extra`; read here: the Call-ID
(`callid`, `call_id` or `ci`: required), the caller (`src_user`, `caller`, `from_user`, `fU`, `src`),
the callee (`dst_user`, `callee`, `to_user`, `tU`, `rU`, `dst_ouser`, `dst`) and, for the failed
dialogs `cdr_on_failed=1` adds, the final reply (`sip_code`, `code`). Lines without start_time are
not CDRs (syslog holds other messages) and are skipped.

The unique id is a hash of the Call-ID (a Call-ID may hold a host address; the clear one is kept
with the technical identifiers, encrypted and on their shorter retention).
"""
from __future__ import annotations

import hashlib
import io
import re
from datetime import datetime, timedelta, timezone
from typing import BinaryIO, Iterator
from zoneinfo import ZoneInfo

from .base import (
    FLAG_ANSWER_TIME_UNKNOWN,
    BadField,
    CallRecord,
    ImportFormatError,
    RowError,
    fingerprint,
    odd_flags,
    parse_int,
    refuse_non_text,
)
from .layouts import KamailioAcc, kamailio_acc

FORMAT = "kamailio-acc"
NOT_KAMAILIO = "This file holds no Kamailio acc CDR line (no start_time=...; end_time=...)."
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_SRC = ("src_user", "caller", "from_user", "fU", "src")
_DST = ("dst_user", "callee", "to_user", "tU", "rU", "dst_ouser", "dst")
_CALL_ID = ("callid", "call_id", "ci")
_ANSWER = ("answer_time", "answer", "connect_time")
_BUSY = frozenset({486, 600})
_NO_ANSWER = frozenset({408, 480, 487, 603})


def _pairs(text: str) -> dict[str, str]:
    values = {}
    for part in text.split("; "):
        name, sep, value = part.partition("=")
        if sep:
            values[name.strip()] = value.strip()
    return values


def _epoch(values: dict[str, str], name: str) -> datetime | None:
    text = values.get(name, "")
    if not text:
        return None
    try:
        seconds, _, micro = text.partition(".")
        return _EPOCH + timedelta(seconds=int(seconds), microseconds=int((micro + "000000")[:6] or 0))
    except (ValueError, OverflowError):
        raise BadField(f"{name}: not an epoch") from None


def _first(values: dict[str, str], names: tuple[str, ...]) -> str:
    return next((values[name] for name in names if values.get(name)), "")


def _record(line: int, values: dict[str, str], acc: KamailioAcc) -> CallRecord | RowError:
    call_id = _first(values, _CALL_ID)
    if not call_id:
        return RowError(line, "callid: missing (add callid=$ci to cdr_extra)")
    try:
        started_at, ended_at = _epoch(values, acc.start), _epoch(values, acc.end)
        if started_at is None:
            raise BadField(f"{acc.start}: empty")
        duration = parse_int(values.get(acc.duration) or "0", acc.duration)
        code = int(_first(values, ("sip_code", "code")) or "200")
        answer_name = next((name for name in _ANSWER if values.get(name)), "")
        answer = _epoch(values, answer_name) if answer_name else None
    except (BadField, ValueError) as exc:
        return RowError(line, str(exc) if isinstance(exc, BadField) else "sip_code: not a number")
    extra: tuple[str, ...] = ()
    if code >= 300 or duration <= 0:
        disposition = "busy" if code in _BUSY else "no_answer" if code in _NO_ANSWER or code < 300 else "failed"
        answered_at, billsec = None, 0
    elif acc.start_on_confirmed:
        disposition, answered_at, billsec = "answered", started_at, duration
    elif answer is not None and started_at <= answer and (ended_at is None or answer <= ended_at):
        # billed from the answer to the end, whole seconds rounded half up, as parse_int rounds duration
        end = ended_at or started_at + timedelta(seconds=duration)
        talked = int(max(0.0, (end - answer).total_seconds()) + 0.5)
        disposition, answered_at, billsec = "answered", answer, talked
    else:  # the INVITE's time and the ringing in duration: what was talked is not known
        disposition, answered_at, billsec, extra = "answered", None, 0, (FLAG_ANSWER_TIME_UNKNOWN,)
    src, dst = _first(values, _SRC), _first(values, _DST)
    unique_id = "kc:" + hashlib.blake2b(call_id.encode("utf-8", "replace"), digest_size=12).hexdigest()
    return CallRecord(
        line=line, unique_id=unique_id, src=src, dst=dst, caller_name="", account_code="",
        started_at=started_at, answered_at=answered_at, ended_at=ended_at, duration=duration, billsec=billsec,
        disposition=disposition, sip_call_id=call_id, remote_ip=values.get("src_ip", ""),
        flags=odd_flags(src=src, dst=dst, disposition=disposition, answered_at=answered_at, duration=duration,
                        billsec=billsec, extra=extra),
        fingerprint=fingerprint(src, dst, started_at.isoformat(), ended_at, duration, billsec, disposition),
        call_id=unique_id,
    )


def parse(stream: BinaryIO, *, tz: ZoneInfo, columns: str = "") -> Iterator[CallRecord | RowError]:
    acc = kamailio_acc(columns)
    refuse_non_text(stream)
    found = False
    marker = re.compile(r"(?:^|(?<=[\s;]))" + re.escape(acc.start) + "=")  # the attribute, not the end of a name
    for number, raw in enumerate(io.TextIOWrapper(stream, encoding="utf-8-sig", errors="replace", newline=""), 1):
        at = marker.search(raw)
        if at is None:
            continue
        found = True
        yield _record(number, _pairs(raw[at.start():].rstrip("\r\n")), acc)
    if not found:
        raise ImportFormatError(NOT_KAMAILIO)
