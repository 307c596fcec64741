"""The one place a CDR becomes a stored row: encrypted, blind-indexed, laid out for the writers.

Every CDR written anywhere passes through `RowBuilder.build`: the importer's rows (RowPreparer, a
RowBuilder that first decides account, direction and price from a parser's record) and the records
that arrive already decided (`CdrRecord`: demo data, test factories, through `record_row`). So there
is one encryption of numbers, names and technical payloads (under the month key), one blind index,
one fallback fingerprint and unique id, one truncation of over-long fields, and one row layout.

It is also where a row the database could not store is stopped, alone (`RowRejected`, a reason that
names the field and never quotes it): a call id or account code holding a NUL byte or a lone
surrogate, seconds beyond the integer column. A batch the writer sends is then storable row by row;
the writer's own fallback (writers.py) is for what these checks did not foresee. The checks are
cheap on the common row: `"\x00" in s` and `s.isascii()` are C scans; only non-ASCII text is encoded.

A prepared row is a plain tuple (no model instances: DESIGN.md "Costs to design for"); its positions
are the R_* constants below, which the writers read.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal

from voipxs.privacy.crypto import blind_index

from ..importers.base import FLAG_INTERNAL_EXTENSION
from ..models import Cdr
from ..partitions import cdr_partitions_ensure
from .month_crypto import MonthCrypto

# Flags this layer adds (the parsers add theirs, importers.base FLAG_*).
FLAG_EXTENSION = FLAG_INTERNAL_EXTENSION  # short or not numeric, kept as written (the parsers flag it too)
FLAG_BAD_NUMBER = "bad_number"  # not a possible E.164 number, kept as written
FLAG_NO_ACCOUNT = "no_account"  # none of our numbers took part at that time
FLAG_UNRATED = "unrated"  # no tariff for the destination on that date
FLAG_DISPOSITION = "odd_disposition"  # a disposition we do not know, stored as failed
FLAG_ANONYMOUS = "anonymous"  # no number at all (withheld or empty)
FLAG_NO_UNIQUE_ID = "no_unique_id"  # the switch wrote none; the row's fingerprint stands in for it
FLAG_TRUNCATED = "truncated_field"  # an account code longer than the column, cut

UNIQUE_ID_MAX = Cdr._meta.get_field("unique_id").max_length
ACCOUNT_CODE_MAX = Cdr._meta.get_field("account_code").max_length
FLAGS_MAX = Cdr._meta.get_field("flags").max_length
SECONDS_MAX = 2**31 - 1  # duration and billsec are PositiveIntegerFields: a 4-byte integer on PostgreSQL
MSG_UNIQUE_ID_TOO_LONG = f"unique id longer than {UNIQUE_ID_MAX} characters"

# A prepared row (tuple, by position):
R_LINE, R_UID, R_FP, R_STARTED, R_ACCOUNT, R_CONTRACTOR, R_DIRECTION, R_DISPOSITION, \
    R_ANSWERED, R_DURATION, R_BILLSEC, R_SRC, R_DST, R_SRC_IDX, R_DST_IDX, R_NAME, R_ACCOUNT_CODE, \
    R_FLAGS, R_RATING, R_ZONE, R_PRICE, R_TECH, R_LEG, R_CALL = range(24)
LEG_MAX = Cdr._meta.get_field("leg").max_length


class RowRejected(ValueError):
    """A row this layer cannot store; the message is a fixed text (never the row's content)."""


@dataclass(frozen=True, slots=True)
class Number:
    stored: bytes  # what gets encrypted: E.164, or the extension/raw text as written
    index: str
    e164: str  # "" when not a number
    flag: str  # "" or FLAG_EXTENSION / FLAG_BAD_NUMBER / FLAG_ANONYMOUS
    # who held it when, if it is one of ours (prepare.HolderIndex, looked up once per distinct number)
    held: list | None = field(default=None, compare=False)


def number_make(stored: str, *, e164: str = "", flag: str = "") -> Number:
    """A number as it is stored: the text that gets encrypted and its blind index."""
    return Number(stored.encode("utf-8"), blind_index(stored, domain="phone"), e164, flag)


@dataclass(frozen=True, slots=True, kw_only=True)
class CdrRecord:
    """A CDR already decided (whose, which way, what it cost), for writers that are not parsing a
    switch's file: demo data and test factories. Numbers are stored as given (E.164, or as written),
    never normalised or attributed; stored through traffic.ingest.run.cdr_rows_write."""

    unique_id: str
    started_at: datetime  # aware
    src: str
    dst: str
    direction: str
    disposition: str
    rating: str
    account_id: int | None = None
    contractor_id: int | None = None
    answered_at: datetime | None = None
    duration: int = 0
    billsec: int = 0
    caller_name: str = ""
    account_code: str = ""
    fingerprint: str = ""  # "" = the fingerprint of the row's billing content
    flags: tuple[str, ...] = ()
    zone: str = ""
    price: Decimal | None = None
    technical: dict[str, str] | None = None
    leg: str = ""  # see Cdr.leg
    call_id: str = ""


class RowBuilder:
    """Decided CDR values → one prepared row. One per write (it caches each month's cipher)."""

    def __init__(self) -> None:
        self._months: dict[tuple[int, int], MonthCrypto] = {}

    def month_crypto(self, moment: datetime) -> MonthCrypto:
        """The cipher of the month of `moment` (UTC); the month's partition is made the first time."""
        key = (moment.year, moment.month)
        hit = self._months.get(key)
        if hit is None:
            month = date(moment.year, moment.month, 1)
            cdr_partitions_ensure(months=[month])
            hit = self._months[key] = MonthCrypto(month)
        return hit

    def record_row(self, record: CdrRecord, *, line: int) -> tuple:
        """A decided record → its prepared row (times in UTC, numbers stored as given)."""
        started = record.started_at.astimezone(_UTC)
        answered = record.answered_at
        if answered is not None:
            answered = answered.astimezone(_UTC)
        crypto = self.month_crypto(started)
        price = record.price
        return self.build(
            line, record.unique_id, record.fingerprint, started, answered, crypto,
            number_make(record.src), number_make(record.dst), record.account_id, record.contractor_id,
            record.direction, record.disposition, record.duration, record.billsec, record.caller_name,
            record.account_code, set(record.flags), record.rating, record.zone,
            None if price is None else str(price), record.technical or {}, record.leg, record.call_id,
        )

    def build(self, line: int, uid: str, fp: str, started: datetime, answered: datetime | None,
              crypto: MonthCrypto, src: Number, dst: Number, account_id: int | None, contractor_id: int | None,
              direction: str, disposition: str, duration: int, billsec: int, caller_name: str,
              account_code: str, flags: set[str], rating: str, zone: str, price: str | None,
              technical: dict, leg: str = "", call_id: str = "") -> tuple:
        """Times in UTC; `flags` is this row's set (the fallbacks below add to it). Positional
        arguments only: this runs once per imported row."""
        started_iso = _iso(started)
        answered_iso = _iso(answered) if answered is not None else None
        if not fp:  # the parser's fingerprint of the row's billing content, else ours of the normalised one
            fp = _blake2b(
                f"{started_iso}\x1f{answered_iso}\x1f{src.index}\x1f{dst.index}\x1f{duration}\x1f{billsec}\x1f{disposition}".encode(),
                digest_size=16,
            ).hexdigest()
        uid = str(uid or "")
        if not uid:
            # A 16-column Master.csv has no uniqueid: the content is the identity, so a re-import of
            # the same row is still a duplicate (and never a conflict).
            uid = "fp:" + fp
            flags.add(FLAG_NO_UNIQUE_ID)
        elif len(uid) > UNIQUE_ID_MAX:
            raise RowRejected(MSG_UNIQUE_ID_TOO_LONG)
        elif "\x00" in uid or not (uid.isascii() or _storable(uid)):
            raise RowRejected(_text_problem("unique id", uid))
        else:
            uid = stored_id(uid)
        if call_id:
            call_id = str(call_id)
            if len(call_id) > UNIQUE_ID_MAX or "\x00" in call_id or not (call_id.isascii() or _storable(call_id)):
                raise RowRejected(_text_problem("call id", call_id) if len(call_id) <= UNIQUE_ID_MAX
                                  else "call id: longer than the column")
            call_id = stored_id(call_id)
            if call_id == uid:
                call_id = ""  # the call is the record's own id: stored once
        if leg and len(leg) > LEG_MAX:
            raise RowRejected("leg: longer than the column")
        account_code = str(account_code or "")
        if account_code and ("\x00" in account_code or not (account_code.isascii() or _storable(account_code))):
            raise RowRejected(_text_problem("account code", account_code))
        if len(account_code) > ACCOUNT_CODE_MAX:
            account_code = account_code[:ACCOUNT_CODE_MAX]
            flags.add(FLAG_TRUNCATED)
        if not (0 <= duration <= SECONDS_MAX and 0 <= billsec <= SECONDS_MAX):
            raise RowRejected(_seconds_problem(duration, billsec))
        flag_text = ",".join(sorted(flags))[:FLAGS_MAX] if flags else ""
        src_enc, dst_enc, name_enc, tech_enc = crypto.encrypt_row(
            src.stored, dst.stored, caller_name.encode("utf-8") if caller_name else None,
            _json_compact(technical),
        )
        return (
            int(line or 0), uid, fp, started_iso, account_id, contractor_id, direction, disposition,
            answered_iso, duration, billsec, src_enc, dst_enc,
            src.index, dst.index, name_enc,
            account_code, flag_text, rating, zone, price,
            tech_enc, leg or "", call_id or "",
        )


def _storable(text: str) -> bool:
    """Text that is not ASCII can still be stored unless it holds a lone surrogate (JSON's "\\ud800"
    escape decodes to one; UTF-8 cannot encode it, so neither COPY nor SQLite can take it)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


# A SIP Call-ID used as the record's id ("a84b4c76e66710@192.0.2.4": Kamailio's push sends it as the uuid,
# deploy/kamailio/kamailio.cfg) names the host that placed the call: an IP address, which is technical data kept
# 30 days with the other technical identifiers (CdrTechnical), not for the months a billing row is kept
# (Tw art. 11.5(1), LEGAL.md section 5 row 1). Such an id (an "@", an IPv6 address's colons or an IPv4
# address in it) is stored as its hash, as the Kamailio acc importer stores its Call-IDs: the same Call-ID gives
# the same id, so the dedupe key and the grouping of a call's legs are unchanged. Switch-made ids (Asterisk
# "1733300000.12", FreeSWITCH UUIDs, our "fp:"/"h:"/"kc:" ids) hold none of these and are stored as written.
# The plain string tests come first: they decide an ordinary id in well under a microsecond.
_IPV4 = re.compile(r"(?<![\d.])\d{1,3}(?:\.\d{1,3}){3}(?![\d.])")


def stored_id(value: str) -> str:
    """A unique id or call id as it is stored: its hash if it names a host (see above), else as written."""
    if "@" in value or value.count(":") >= 2 or (value.count(".") >= 3 and _IPV4.search(value) is not None):
        return "ci:" + _blake2b(value.encode("utf-8"), digest_size=12).hexdigest()
    return value


def _text_problem(field: str, text: str) -> str:
    """Why a text cannot be stored, naming the field and never quoting the text. A database text
    column takes any Unicode but NUL (PostgreSQL refuses it; COPY would cut it out and change the
    call id) and lone surrogates (not encodable as UTF-8)."""
    if "\x00" in text:
        return f"{field}: contains a NUL byte"
    return f"{field}: not valid Unicode (a lone surrogate)"


def _seconds_problem(duration: int, billsec: int) -> str:
    name, value = ("duration", duration) if not 0 <= duration <= SECONDS_MAX else ("billsec", billsec)
    return f"{name}: negative" if value < 0 else f"{name}: too large"


_UTC = timezone.utc
_blake2b = hashlib.blake2b
_json_str = json.encoder.encode_basestring  # C: quotes and escapes one string


def _json_compact(values: dict[str, str]) -> bytes | None:
    """json.dumps(values without the empty ones, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    in UTF-8 for a flat dict of strings, or None when every value is empty; without building an encoder
    per call (a fifth of the per-row cost otherwise), a filtered copy of the dict, or a sort: the sorted
    keys with their '"key":' text are kept per set of keys (a parser's rows all have the same ones)."""
    keys = tuple(values)
    order = _JSON_KEYS.get(keys)
    if order is None:
        if len(_JSON_KEYS) > 1000:
            _JSON_KEYS.clear()
        order = _JSON_KEYS[keys] = tuple((key, f'"{key}":') for key in sorted(keys))
    parts = []
    for key, text in order:
        value = values[key]
        if value:
            parts.append(text + _json_str(str(value)))
    return ("{" + ",".join(parts) + "}").encode("utf-8") if parts else None


_JSON_KEYS: dict[tuple[str, ...], tuple[tuple[str, str], ...]] = {}


def _iso(moment: datetime) -> str:
    """moment.isoformat(), in 0.3 of its 0.7 µs for an aware UTC datetime of whole seconds (every row
    has two): the text up to the hour is made once per hour, minutes and seconds come from a table."""
    if moment.microsecond or moment.tzinfo is not _UTC:
        return moment.isoformat()
    hour = moment.toordinal() * 24 + moment.hour
    prefix = _ISO_HOURS.get(hour)
    if prefix is None:
        if len(_ISO_HOURS) > 100_000:  # a few years of hours; a long-lived process keeps no more
            _ISO_HOURS.clear()
        prefix = _ISO_HOURS[hour] = moment.isoformat()[:14]  # "2026-03-01T12:"
    return prefix + _ISO_MINUTES_SECONDS[moment.minute * 60 + moment.second]


_ISO_HOURS: dict[int, str] = {}
_ISO_MINUTES_SECONDS = [f"{m:02d}:{s:02d}+00:00" for m in range(60) for s in range(60)]
