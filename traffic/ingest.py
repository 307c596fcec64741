"""CDR ingest: parse → normalise → rate → encrypt → store, streaming, at COPY speed.

Why it is shaped like this (DESIGN.md "Costs to design for"):
- Each distinct number is normalised to E.164 and blind-indexed once per import (dict caches);
  each value is still encrypted per row, because AES-GCM needs a fresh nonce for every value.
- No model instances: rows are tuples, turned into COPY text (PostgreSQL) or executemany
  parameters (SQLite) by the writer. Everything above the writer is the same code on both.
- Batches (default 50,000 rows) are written in one transaction each, so a crash loses at most the
  batch in flight and a re-run completes the file (the dedupe key makes re-runs idempotent).
- On PostgreSQL, when the import does not run inside someone else's transaction, a writer thread
  with its own connection COPYs batch N while this thread prepares batch N+1 (psycopg2 releases
  the GIL while PostgreSQL ingests).

Nothing lost, nothing doubled: the dedupe key is (source, unique_id). Per batch the writer looks up
which unique ids the source already has (one indexed query), counts same-fingerprint rows as
duplicates, reports different-fingerprint rows as conflicts, and COPYs only new rows straight into
traffic_cdr (no staging table: a per-source advisory lock serialises imports of one source, so the
lookup cannot race another importer). When the source had no CDRs at all when the import started,
the lookup is skipped for every unique id this import has not yet seen (the common first import).

Personal data never leaves this module in clear: reports hold line numbers, reasons and unique ids
(switch-generated call ids), never numbers or caller names; exceptions carry no row content.
"""
from __future__ import annotations

import abc
import hashlib
import io
import json
import logging
import operator
import os
import queue
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import IO, Any, Callable
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.utils.timezone import now

from accounts.models import PhoneNumber
from voipxs.privacy.crypto import VERSION, blind_index
from voipxs.privacy.phone import InvalidNumber, normalize_e164

from .keys import month_cipher
from .models import Cdr, CdrImport, MonthKey, Source
from .partitions import cdr_partitions_ensure
from .rating import TariffBook

logger = logging.getLogger(__name__)

BATCH_SIZE = 20_000
REPORT_LIMIT = 10_000  # entries kept per list in CdrImport.report; counts are always complete
SEEN_LIMIT = 3_000_000  # unique ids remembered for the fast path; past this, look every batch up
ADVISORY_LOCK_CLASS = 7_300_010  # pg_advisory_lock(class, source_id): one importer per source
LOCK_POLL_SECONDS = 2.0  # an import waiting for its source's lock renews its lease this often

# Flags this layer adds (the parsers add theirs, importers.base FLAG_*).
FLAG_EXTENSION = "internal_extension"  # short or not numeric, kept as written (= importers.base FLAG_INTERNAL_EXTENSION)
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
MSG_UNIQUE_ID_TOO_LONG = f"unique id longer than {UNIQUE_ID_MAX} characters"

EXTENSION_MAX_DIGITS = 6
LAST_WRITER_STATS: dict[str, float] = {}  # this process's last PostgreSQL import: seconds per stage

MSG_NO_ROWS = "The file holds no call records."
MSG_INTERNAL = "The import stopped on an internal error; no rows of the unfinished batch were kept."

_DISPOSITIONS = {
    "answered": Cdr.Disposition.ANSWERED.value, "answer": Cdr.Disposition.ANSWERED.value,
    "no answer": Cdr.Disposition.NO_ANSWER.value, "no_answer": Cdr.Disposition.NO_ANSWER.value,
    "noanswer": Cdr.Disposition.NO_ANSWER.value,
    "busy": Cdr.Disposition.BUSY.value, "failed": Cdr.Disposition.FAILED.value,
    "congestion": Cdr.Disposition.CONGESTION.value,
}
_DISPOSITIONS.update({key.upper(): value for key, value in list(_DISPOSITIONS.items())})
_DISPOSITIONS.update({value: value for value in Cdr.Disposition.values})

CDR_COLUMNS = (
    "id", "started_at", "source_id", "unique_id", "fingerprint", "import_batch_id", "account_id",
    "contractor_id", "direction", "disposition", "answered_at", "duration", "billsec", "src_enc",
    "dst_enc", "src_index", "dst_index", "caller_name_enc", "account_code", "flags", "rating", "zone",
    "price",
)
TECH_COLUMNS = ("cdr_id", "started_at", "payload_enc")

# A prepared row (tuple, by position):
R_LINE, R_UID, R_FP, R_STARTED, R_MONTH, R_ACCOUNT, R_CONTRACTOR, R_DIRECTION, R_DISPOSITION, \
    R_ANSWERED, R_DURATION, R_BILLSEC, R_SRC, R_DST, R_SRC_IDX, R_DST_IDX, R_NAME, R_ACCOUNT_CODE, \
    R_FLAGS, R_RATING, R_ZONE, R_PRICE, R_TECH = range(23)


MSG_NO_START = "missing start time"


class RowRejected(ValueError):
    """A row this layer cannot store; the message is a fixed text (never the row's content)."""


class ImportAbandoned(RuntimeError):
    """The import is no longer "running" (the reaper marked it failed, its lease having run out):
    this late worker stops, and the batch in flight is rolled back with the heartbeat that noticed."""


def import_heartbeat(import_id: int, totals: ImportTotals | None = None) -> None:
    """Renew a running import's lease; with `totals`, also record what has landed so far. Called in
    the transaction of each batch, so the counts on the CdrImport are exactly the committed rows
    (what a reaped import reports), and a reaped import cannot land one more batch."""
    fields: dict[str, Any] = {"heartbeat_at": now()}
    if totals is not None:
        fields.update(imported=totals.imported, duplicates=totals.duplicates, conflicts=totals.conflicts,
                      flagged=totals.flagged)
    if not CdrImport.objects.filter(pk=import_id, status=CdrImport.Status.RUNNING).update(**fields):
        raise ImportAbandoned(f"cdr import {import_id} is no longer running")


@dataclass
class ImportTotals:
    imported: int = 0
    duplicates: int = 0
    conflicts: int = 0
    flagged: int = 0
    rejected_total: int = 0
    rejected: list[dict] = field(default_factory=list)
    conflict_rows: list[dict] = field(default_factory=list)

    def reject(self, line: int, reason: str) -> None:
        self.rejected_total += 1
        if len(self.rejected) < REPORT_LIMIT:
            self.rejected.append({"line": int(line), "reason": str(reason)})

    def conflict(self, line: int, unique_id: str) -> None:
        self.conflicts += 1
        if len(self.conflict_rows) < REPORT_LIMIT:
            self.conflict_rows.append({"line": int(line), "unique_id": unique_id})

    def report(self) -> dict:
        return {
            "rejected": self.rejected, "conflicts": self.conflict_rows,
            "rejected_total": self.rejected_total,
            "truncated": self.rejected_total > len(self.rejected) or self.conflicts > len(self.conflict_rows),
        }


# --- number holders -------------------------------------------------------------------------------

class HolderIndex:
    """Who held which of our numbers when: blind index → [(from, to, user_id, contractor_id)].

    Loaded once per import (one query), so attribution costs a dict lookup per row."""

    def __init__(self) -> None:
        self._periods: dict[str, list[tuple[datetime, datetime | None, int, int | None]]] = {}
        rows = PhoneNumber.objects.values_list("number_index", "valid_from", "valid_to", "user_id", "user__contractor_id")
        for index, valid_from, valid_to, user_id, contractor_id in rows.iterator(chunk_size=5000):
            self._periods.setdefault(index, []).append((valid_from, valid_to, user_id, contractor_id))

    def __contains__(self, index: str) -> bool:
        return index in self._periods

    def periods_of(self, index: str) -> list | None:
        return self._periods.get(index)

    def holder(self, index: str, moment: datetime) -> tuple[int, int | None] | None:
        periods = self._periods.get(index)
        if periods:
            for valid_from, valid_to, user_id, contractor_id in periods:
                if valid_from <= moment and (valid_to is None or moment < valid_to):
                    return user_id, contractor_id
        return None


def _held(periods: list, moment: datetime) -> tuple[int, int | None] | None:
    for valid_from, valid_to, user_id, contractor_id in periods:
        if valid_from <= moment and (valid_to is None or moment < valid_to):
            return user_id, contractor_id
    return None


# --- the row pipeline -------------------------------------------------------------------------------

class _MonthCrypto:
    """AES-GCM of one month's data key, with nonces drawn from os.urandom in blocks (one syscall per
    4096 values instead of one per value). Same byte layout as voipxs.privacy.crypto.DataKeyCipher."""

    __slots__ = ("_encrypt", "_prefix", "_pool", "_pos")

    def __init__(self, month: date) -> None:
        cipher = month_cipher(month, create=True)
        if not MonthKey.objects.filter(month=month, wrapped_key__isnull=False).exists():
            # keys.month_cipher caches per process; a key made inside a transaction that was rolled
            # back would still be cached, and rows encrypted under it could never be read again.
            from . import keys

            keys._cache.pop(month, None)  # noqa: SLF001
            cipher = month_cipher(month, create=True)
        # DataKeyCipher keeps its AESGCM and key id private; the layout is VERSION | kid | nonce | ct.
        self._encrypt = cipher._cipher.encrypt  # noqa: SLF001
        self._prefix = bytes([VERSION]) + cipher._kid  # noqa: SLF001
        self._pool = b""
        self._pos = 0

    def encrypt(self, plaintext: bytes) -> bytes:
        pos = self._pos
        if pos + 12 > len(self._pool):
            self._pool, pos = os.urandom(12 * 4096), 0
        nonce = self._pool[pos:pos + 12]
        self._pos = pos + 12
        return self._prefix + nonce + self._encrypt(nonce, plaintext, None)

    def encrypt_row(self, src: bytes, dst: bytes, name: bytes | None, tech: bytes | None) -> tuple:
        """The four values of one CDR, each under its own fresh nonce (one pool check per row)."""
        pos, pool = self._pos, self._pool
        if pos + 48 > len(pool):
            pool = self._pool = os.urandom(12 * 4096)
            pos = 0
        self._pos = pos + 48
        enc, prefix = self._encrypt, self._prefix
        n1, n2 = pool[pos:pos + 12], pool[pos + 12:pos + 24]
        n3, n4 = pool[pos + 24:pos + 36], pool[pos + 36:pos + 48]
        return (
            prefix + n1 + enc(n1, src, None),
            prefix + n2 + enc(n2, dst, None),
            None if name is None else prefix + n3 + enc(n3, name, None),
            None if tech is None else prefix + n4 + enc(n4, tech, None),
        )


@dataclass(frozen=True, slots=True)
class _Number:
    stored: bytes  # what gets encrypted: E.164, or the extension/raw text as written
    index: str
    e164: str  # "" when not a number
    flag: str  # "" or FLAG_EXTENSION / FLAG_BAD_NUMBER


def _attr(record: Any, *names: str, default: Any = None) -> Any:
    for name in names:
        value = getattr(record, name, None)
        if value is not None:
            return value
    return default


class RowPreparer:
    """Turns parser CallRecords into prepared row tuples. One per import; holds the caches."""

    def __init__(self, *, source: Source, import_id: int | None) -> None:
        self.source_id = source.pk
        self.import_id = import_id
        self.tz = ZoneInfo(source.timezone)
        self.country = (source.default_country or "NL").upper()
        self.holders = HolderIndex()
        self.tariffs = TariffBook.load()
        self._numbers: dict[str, _Number] = {}
        self._months: dict[tuple[int, int], tuple[date, _MonthCrypto]] = {}
        self._get: Callable[[Any], tuple] | None = None

    def number(self, raw: str) -> _Number:
        hit = self._numbers.get(raw)
        if hit is not None:
            return hit
        text = (raw or "").strip()
        digits = text[1:] if text.startswith("+") else text
        flag, e164 = "", ""
        if not any(c.isdigit() for c in text):
            stored, flag = text, FLAG_ANONYMOUS  # "", "anonymous", "Restricted": no number to attribute
        elif not digits.isdigit() or (len(digits) <= EXTENSION_MAX_DIGITS and not text.startswith("+")):
            stored, flag = text, FLAG_EXTENSION
        else:
            try:
                stored = e164 = normalize_e164(text, self.country)
            except InvalidNumber:
                stored, flag = text, FLAG_BAD_NUMBER
        hit = _Number(stored.encode("utf-8"), blind_index(stored, domain="phone"), e164, flag)
        if len(self._numbers) < 500_000:  # bound the cache, not the import
            self._numbers[raw] = hit
        return hit

    def month(self, moment: datetime) -> tuple[date, _MonthCrypto]:
        key = (moment.year, moment.month)
        hit = self._months.get(key)
        if hit is None:
            month = date(moment.year, moment.month, 1)
            cdr_partitions_ensure(months=[month])
            hit = self._months[key] = (month, _MonthCrypto(month))
        return hit

    def utc(self, value: Any) -> datetime | None:
        if value is None or value == "":
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        if value.tzinfo is None:
            value = value.replace(tzinfo=self.tz)
        return value.astimezone(timezone.utc)

    # CallRecord fields this layer reads, each with the names a parser may use for it, and a default.
    _FIELDS = (
        (("line", "line_no"), 0), (("unique_id", "uniqueid"), ""), (("started_at", "start"), None),
        (("answered_at", "answer"), None), (("src", "source"), ""), (("dst", "destination"), ""),
        (("duration",), 0), (("billsec",), 0), (("disposition",), ""), (("flags",), ()),
        (("caller_name", "clid"), ""), (("account_code", "accountcode"), ""), (("fingerprint",), ""),
    )
    _TECHNICAL = ("channel", "dst_channel", "sip_call_id", "remote_ip", "user_agent")

    def _getter(self, record: Any) -> Callable[[Any], tuple]:
        """One attrgetter for the parser's record type, resolved once: a C call per row."""
        names, defaults = [], []
        for candidates, default in self._FIELDS:
            found = next((n for n in candidates if hasattr(record, n)), None)
            names.append(found)
            defaults.append(default)
        tech = [n for n in self._TECHNICAL if hasattr(record, n)]
        present = [n for n in names if n] + tech
        get = operator.attrgetter(*present) if len(present) > 1 else (lambda r: (getattr(r, present[0]),))
        positions = []
        i = 0
        for name in names:
            positions.append(i if name else None)
            i += 1 if name else 0
        if all(p is not None for p in positions):
            width = len(names)
            if tech:
                return lambda r: (lambda v: (*v[:width], dict(zip(tech, v[width:]))))(get(r))
            return lambda r: (*get(r), {})

        def slow(r: Any) -> tuple:
            values = get(r)
            out = tuple(values[p] if p is not None else d for p, d in zip(positions, defaults))
            return (*out, dict(zip(tech, values[i:])))
        return slow

    def prepare(self, record: Any) -> tuple:
        getter = self._get
        if getter is None:
            getter = self._get = self._getter(record)
        (line, uid, started, answered, raw_src, raw_dst, duration, billsec, raw_disposition, parser_flags,
         caller_name, account_code, fp, technical) = getter(record)
        if started is None:
            raise RowRejected(MSG_NO_START)
        if started.__class__ is not datetime or started.tzinfo is None:
            started = self.utc(started)
        else:
            started = started.astimezone(_UTC)
        if answered is not None:
            answered = answered.astimezone(_UTC) if answered.__class__ is datetime and answered.tzinfo else self.utc(answered)
        numbers = self._numbers
        src = numbers.get(raw_src) or self.number(raw_src or "")
        dst = numbers.get(raw_dst) or self.number(raw_dst or "")
        month_key = (started.year, started.month)
        hit = self._months.get(month_key)
        month, crypto = hit if hit is not None else self.month(started)
        duration = int(duration or 0)
        billsec = int(billsec or 0)
        flags = set(parser_flags) if parser_flags else set()
        disposition = _DISPOSITIONS.get(raw_disposition) or _DISPOSITIONS.get(str(raw_disposition).strip().lower())
        if disposition is None:
            disposition = "failed"
            flags.add(FLAG_DISPOSITION)
        if src.flag:
            flags.add(src.flag)
        if dst.flag:
            flags.add(dst.flag)

        # Direction from OUR numbers held at that moment.
        periods_of = self.holders.periods_of
        periods = periods_of(src.index) if src.e164 else None
        src_holder = _held(periods, started) if periods else None
        periods = periods_of(dst.index) if dst.e164 else None
        dst_holder = _held(periods, started) if periods else None
        src_internal = src_holder is not None or src.flag == FLAG_EXTENSION
        dst_internal = dst_holder is not None or dst.flag == FLAG_EXTENSION
        if src_internal and dst_internal:
            direction, holder = "internal", src_holder or dst_holder
        elif dst_holder is not None or (dst_internal and not src_internal):
            direction, holder = "in", dst_holder
        else:
            direction, holder = "out", src_holder
        if holder is None:
            flags.add(FLAG_NO_ACCOUNT)
            account_id = contractor_id = None
        else:
            account_id, contractor_id = holder

        # Rating: outgoing answered calls with billable seconds are priced; the rest is free
        # (incoming calls cost the callee nothing; internal calls stay on our network).
        zone, price = "", "0"
        if direction != "out" or disposition != "answered" or billsec <= 0:
            rating = "free"
        else:
            rule = self.tariffs.tariff_for(dst.e164, started.date()) if dst.e164 else None
            if rule is None:
                rating, price = "unrated", None
                flags.add(FLAG_UNRATED)
            else:
                rating, zone, price = "rated", rule.zone, self.tariffs.price(rule, billsec)[1]

        technical = {k: v for k, v in technical.items() if v}
        started_iso = started.isoformat()
        answered_iso = answered.isoformat() if answered is not None else None
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
        account_code = str(account_code or "")
        if len(account_code) > ACCOUNT_CODE_MAX:
            account_code = account_code[:ACCOUNT_CODE_MAX]
            flags.add(FLAG_TRUNCATED)
        flag_text = ",".join(sorted(flags))[:FLAGS_MAX] if flags else ""
        src_enc, dst_enc, name_enc, tech_enc = crypto.encrypt_row(
            src.stored, dst.stored, caller_name.encode("utf-8") if caller_name else None,
            _json_compact(technical).encode("utf-8") if technical else None,
        )
        return (
            int(line or 0), uid, fp, started_iso, month, account_id, contractor_id, direction, disposition,
            answered_iso, duration, billsec, src_enc, dst_enc,
            src.index, dst.index, name_enc,
            account_code, flag_text, rating, zone, price,
            tech_enc,
        )


_UTC = timezone.utc
_blake2b = hashlib.blake2b
_json_str = json.encoder.encode_basestring  # C: quotes and escapes one string


def _json_compact(values: dict[str, str]) -> str:
    """json.dumps(values, separators=(",", ":"), sort_keys=True, ensure_ascii=False) for a flat
    dict of strings, without building an encoder per call (a fifth of the per-row cost otherwise)."""
    return "{" + ",".join([f'"{key}":{_json_str(str(values[key]))}' for key in sorted(values)]) + "}"


# --- writers ------------------------------------------------------------------------------------------

_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\x00": ""})


def _copy_text(value: str) -> str:
    if "\\" in value or not value.isprintable():
        return value.translate(_COPY_ESCAPES)
    return value


class _BatchWriter(abc.ABC):
    """Writes prepared batches. `submit()` may return before the batch is stored (threaded writer);
    `finish()` waits for everything and re-raises the first error."""

    def __init__(self, *, source_id: int, import_id: int | None, totals: ImportTotals, fast: bool,
                 heartbeat: Callable[[ImportTotals], None] | None = None) -> None:
        self.source_id = source_id
        self.import_id = import_id
        self.totals = totals
        self.heartbeat = heartbeat
        # fast: the source had no CDRs when the import started; only ids seen earlier in this import
        # can already exist, so only those are looked up.
        self.seen: set[int] | None = set() if fast else None

    def _split(self, batch: list[tuple], existing: Callable[[list[str]], dict[str, str]]) -> list[tuple]:
        """Drop duplicates and conflicts (in the batch and against the database); count them."""
        fresh: list[tuple] = []
        in_batch: dict[str, str] = {}
        seen = self.seen
        if seen is None:
            lookup = [row[R_UID] for row in batch]
        else:
            # `seen` holds hash(unique_id): a collision only costs a needless lookup, never a row.
            lookup = [row[R_UID] for row in batch if hash(row[R_UID]) in seen]
        known = existing(list(set(lookup))) if lookup else {}
        totals = self.totals
        for row in batch:
            uid, fp = row[R_UID], row[R_FP]
            other = known.get(uid) or in_batch.get(uid)
            if other is None:
                in_batch[uid] = fp
                fresh.append(row)
            elif other == fp:
                totals.duplicates += 1
            else:
                totals.conflict(row[R_LINE], uid)
        if seen is not None:
            seen.update(map(hash, in_batch))
            if len(seen) > SEEN_LIMIT:
                self.seen = None  # bounded memory: from now on every batch is looked up
        return fresh

    @abc.abstractmethod
    def encode(self, batch: list[tuple]) -> list[tuple]:
        """Turn prepared rows into what this backend writes (COPY text, executemany parameters)."""

    @abc.abstractmethod
    def submit(self, batch: list[tuple]) -> None:
        """Write one encoded batch in its own transaction."""

    @abc.abstractmethod
    def _store(self, batch: list[tuple]) -> None:
        """Dedupe and store one encoded batch (inside the transaction `_commit` opens)."""

    def _commit(self, batch: list[tuple]) -> None:
        """One batch, one transaction: its rows and the import's heartbeat (with the counts so far)
        commit together or not at all."""
        with transaction.atomic():
            self._store(batch)
            if self.heartbeat is not None:
                self.heartbeat(self.totals)

    def finish(self) -> None:
        pass

    def abort(self) -> None:
        pass


def _sqlite_dt(iso: str | None) -> str | None:
    """Django's SQLite form of a UTC time ('2026-05-04 08:00:00'), so that its string comparisons
    order and filter these rows like the ORM's own."""
    if iso is None:
        return None
    return iso.removesuffix("+00:00").replace("T", " ")


class SqliteWriter(_BatchWriter):
    """Batched executemany in one transaction (savepoint) per batch, same dedupe as PostgreSQL."""

    def encode(self, batch: list[tuple]) -> list[tuple]:
        return batch

    def _existing(self, uids: list[str]) -> dict[str, str]:
        return dict(self._select("unique_id, fingerprint", uids))

    def _select(self, what: str, uids: list[str]) -> list[tuple]:
        found: list[tuple] = []
        with connection.cursor() as cursor:
            for i in range(0, len(uids), 500):
                chunk = uids[i:i + 500]
                cursor.execute(
                    f"SELECT {what} FROM traffic_cdr WHERE source_id = %s AND unique_id IN "
                    f"({','.join(['%s'] * len(chunk))})", [self.source_id, *chunk],
                )
                found.extend(cursor.fetchall())
        return found

    def submit(self, batch: list[tuple]) -> None:
        self._commit(batch)

    def _store(self, batch: list[tuple]) -> None:
        fresh = self._split(batch, self._existing)
        if not fresh:
            return
        params = [
            (_sqlite_dt(r[R_STARTED]), self.source_id, r[R_UID], r[R_FP], self.import_id, r[R_ACCOUNT], r[R_CONTRACTOR],
             r[R_DIRECTION], r[R_DISPOSITION], _sqlite_dt(r[R_ANSWERED]), r[R_DURATION], r[R_BILLSEC], r[R_SRC], r[R_DST],
             r[R_SRC_IDX], r[R_DST_IDX], r[R_NAME], r[R_ACCOUNT_CODE], r[R_FLAGS], r[R_RATING], r[R_ZONE],
             r[R_PRICE])
            for r in fresh
        ]
        columns = CDR_COLUMNS[1:]
        with connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO traffic_cdr ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))})", params,
            )
            tech = [r for r in fresh if r[R_TECH] is not None]
            if tech:
                ids = dict(self._select("unique_id, id", [r[R_UID] for r in tech]))
                cursor.executemany(
                    "INSERT INTO traffic_cdrtechnical (cdr_id, started_at, payload_enc) VALUES (%s, %s, %s)",
                    [(ids[r[R_UID]], _sqlite_dt(r[R_STARTED]), r[R_TECH]) for r in tech],
                )
        self.totals.imported += len(fresh)
        self.totals.flagged += sum(1 for r in fresh if r[R_FLAGS])


# Encoded PostgreSQL rows: (line, unique_id, fingerprint, cdr COPY line, tech COPY line or None, flagged)
E_CDR, E_TECH, E_FLAGGED = 3, 4, 5


class PostgresWriter(_BatchWriter):
    """COPY (text format) straight into the partitioned tables, ids reserved from the table's sequence
    so technical rows can point at their CDR. Threaded when the caller holds no transaction: this
    thread encodes batch N+1 while the writer thread looks up and COPYs batch N."""

    _CDR_COPY = f"COPY traffic_cdr ({', '.join(CDR_COLUMNS)}) FROM STDIN"
    _TECH_COPY = f"COPY traffic_cdrtechnical ({', '.join(TECH_COLUMNS)}) FROM STDIN"

    def __init__(self, *, threaded: bool, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.threaded = threaded
        self._error: BaseException | None = None
        # Where the time goes (logged at DEBUG, printed by bench.ingest): COPY in the writer, and the
        # preparing thread's waits for a free slot in the queue.
        self.copy_seconds = self.lookup_seconds = self.wait_seconds = self.writer_cpu = 0.0
        if threaded:
            self._queue: queue.Queue = queue.Queue(maxsize=1)
            self._thread = threading.Thread(target=self._run, name="cdr-copy-writer", daemon=True)
            self._thread.start()

    def encode(self, batch: list[tuple]) -> list[tuple]:
        """COPY lines, in the preparing thread. Ids come from the sequence (unused ones of
        duplicates are gaps, as with any sequence)."""
        with connection.cursor() as cursor:
            cursor.execute("SELECT nextval('traffic_cdr_id_seq') FROM generate_series(1, %s)", [len(batch)])
            ids = [row[0] for row in cursor.fetchall()]
        return _encode_copy(batch, ids, self.source_id, self.import_id)

    # Runs in the writer thread (threaded) or inline.
    def _existing(self, uids: list[str]) -> dict[str, str]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT unique_id, fingerprint FROM traffic_cdr WHERE source_id = %s AND unique_id = ANY(%s)",
                [self.source_id, uids],
            )
            return dict(cursor.fetchall())

    def _store(self, batch: list[tuple]) -> None:
        started = time.perf_counter()
        fresh = self._split(batch, self._existing)
        self.lookup_seconds += time.perf_counter() - started
        if not fresh:
            return
        started = time.perf_counter()
        cdr_text = "".join([r[E_CDR] for r in fresh]).encode("utf-8")
        tech_text = "".join([r[E_TECH] for r in fresh if r[E_TECH] is not None]).encode("utf-8")
        with connection.cursor() as cursor:
            raw = cursor.cursor  # the psycopg2 cursor under Django's wrapper
            raw.copy_expert(self._CDR_COPY, io.BytesIO(cdr_text), size=1 << 22)
            if tech_text:
                raw.copy_expert(self._TECH_COPY, io.BytesIO(tech_text), size=1 << 22)
        self.copy_seconds += time.perf_counter() - started
        self.totals.imported += len(fresh)
        self.totals.flagged += sum(1 for r in fresh if r[E_FLAGGED])

    def _run(self) -> None:
        try:
            while True:
                batch = self._queue.get()
                if batch is None:
                    self.writer_cpu = time.thread_time()
                    return
                if self._error is None:
                    try:
                        self._commit(batch)
                    except BaseException as exc:  # handed to the main thread in finish()
                        self._error = exc
        finally:
            connection.close()

    def submit(self, batch: list[tuple]) -> None:
        if not self.threaded:
            self._commit(batch)
            return
        if self._error is not None:
            self.finish()
        started = time.perf_counter()
        self._queue.put(batch)
        self.wait_seconds += time.perf_counter() - started

    def finish(self) -> None:
        if self.threaded and self._thread.is_alive():
            started = time.perf_counter()
            self._queue.put(None)
            self._thread.join()
            self.wait_seconds += time.perf_counter() - started
        logger.debug("cdr copy writer: copy %.2fs lookup %.2fs waited %.2fs", self.copy_seconds,
                     self.lookup_seconds, self.wait_seconds)
        LAST_WRITER_STATS.clear()
        LAST_WRITER_STATS.update(copy=self.copy_seconds, lookup=self.lookup_seconds, wait=self.wait_seconds,
                                 writer_cpu=self.writer_cpu)
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def abort(self) -> None:
        try:
            self.finish()
        except BaseException:  # the caller is already handling the first failure
            pass


def _encode_copy(rows: list[tuple], ids: list[int], source_id: int, import_id: int | None) -> list[tuple]:
    """COPY text format: bytea as \\x hex (the backslash escaped), NULL as \\N, one line per row."""
    src_id = str(source_id)
    imp = str(import_id) if import_id is not None else "\\N"
    out: list[tuple] = []
    append, esc = out.append, _copy_text
    for cdr_id, r in zip(ids, rows):
        sid = str(cdr_id)
        name, tech, flags = r[R_NAME], r[R_TECH], r[R_FLAGS]
        line = "\t".join((
            sid, r[R_STARTED], src_id, esc(r[R_UID]), r[R_FP], imp,
            "\\N" if r[R_ACCOUNT] is None else str(r[R_ACCOUNT]),
            "\\N" if r[R_CONTRACTOR] is None else str(r[R_CONTRACTOR]),
            r[R_DIRECTION], r[R_DISPOSITION], r[R_ANSWERED] or "\\N", str(r[R_DURATION]), str(r[R_BILLSEC]),
            "\\\\x" + r[R_SRC].hex(), "\\\\x" + r[R_DST].hex(), r[R_SRC_IDX], r[R_DST_IDX],
            "\\N" if name is None else "\\\\x" + name.hex(), esc(r[R_ACCOUNT_CODE]), esc(flags),
            r[R_RATING], esc(r[R_ZONE]), r[R_PRICE] or "\\N",
        )) + "\n"
        tech_line = None if tech is None else f"{sid}\t{r[R_STARTED]}\t\\\\x{tech.hex()}\n"
        append((r[R_LINE], r[R_UID], r[R_FP], line, tech_line, bool(flags)))
    return out


# --- the import ---------------------------------------------------------------------------------------

def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _source_has_rows(source_id: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM traffic_cdr WHERE source_id = %s LIMIT 1", [source_id])
        return cursor.fetchone() is not None


def _make_writer(*, source_id: int, import_id: int | None, totals: ImportTotals) -> _BatchWriter:
    fast = not _source_has_rows(source_id)
    heartbeat = None if import_id is None else (lambda so_far: import_heartbeat(import_id, so_far))
    if connection.vendor == "postgresql":
        # Another connection cannot see the caller's uncommitted rows (a test, a request), so the
        # writer thread is used only when no transaction is open here.
        return PostgresWriter(threaded=not connection.in_atomic_block, source_id=source_id,
                              import_id=import_id, totals=totals, fast=fast, heartbeat=heartbeat)
    return SqliteWriter(source_id=source_id, import_id=import_id, totals=totals, fast=fast, heartbeat=heartbeat)


def _delete_import_rows(import_id: int) -> None:
    """Undo what an import that was refused half way wrote (a format error found late)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM traffic_cdrtechnical WHERE cdr_id IN (SELECT id FROM traffic_cdr WHERE import_batch_id = %s)",
            [import_id],
        )
        cursor.execute("DELETE FROM traffic_cdr WHERE import_batch_id = %s", [import_id])


class _source_lock:
    """A session-level advisory lock on PostgreSQL: one importer per source at a time. While it waits
    for another import of the source, the import renews its lease: waiting is not dying."""

    def __init__(self, source_id: int, import_id: int | None = None) -> None:
        self.source_id = source_id
        self.import_id = import_id

    def __enter__(self) -> None:
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                while True:
                    cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [ADVISORY_LOCK_CLASS, self.source_id])
                    if cursor.fetchone()[0]:
                        return
                    if self.import_id is not None:
                        import_heartbeat(self.import_id)
                    time.sleep(LOCK_POLL_SECONDS)

    def __exit__(self, *exc: object) -> None:
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [ADVISORY_LOCK_CLASS, self.source_id])


def run_import(*, cdr_import: CdrImport, path: Path, batch_size: int = BATCH_SIZE,
               progress: Callable[[int], None] | None = None) -> ImportTotals:
    """Parse `path` with the source's parser and store its rows. Updates nothing on `cdr_import`
    except through the rows' import_batch_id; the service records the outcome."""
    from .importers import get_parser
    from .importers.base import RowError

    source = cdr_import.source
    totals = ImportTotals()
    preparer = RowPreparer(source=source, import_id=cdr_import.pk)
    cpu_started = time.thread_time()
    with _source_lock(source.pk, cdr_import.pk):
        writer = _make_writer(source_id=source.pk, import_id=cdr_import.pk, totals=totals)
        try:
            with open(path, "rb") as stream:
                batch: list[tuple] = []
                seen_rows = 0
                for item in get_parser(source.format)(stream, tz=preparer.tz):
                    seen_rows += 1
                    if isinstance(item, RowError):
                        totals.reject(item.line, item.reason)
                        continue
                    try:
                        batch.append(preparer.prepare(item))
                    except (ValueError, TypeError, OverflowError) as exc:
                        # The message names the field, never its value.
                        totals.reject(int(_attr(item, "line", default=0)), _safe_reason(exc))
                        continue
                    if len(batch) >= batch_size:
                        writer.submit(writer.encode(batch))
                        batch = []
                        if progress:
                            progress(seen_rows)
                if batch:
                    writer.submit(writer.encode(batch))
                if progress:
                    progress(seen_rows)
            writer.finish()
            LAST_WRITER_STATS["main_cpu"] = time.thread_time() - cpu_started
        except BaseException:
            writer.abort()
            raise
    return totals


def _safe_reason(exc: Exception) -> str:
    if isinstance(exc, RowRejected):
        return str(exc)
    return f"invalid value ({type(exc).__name__})"  # never str(exc): it may quote the value


def spool_stream(stream: IO[bytes], directory: Path | None = None) -> tuple[Path, str]:
    """Copy a stream to a private temporary file (imports read files twice: hash, then parse)."""
    directory = directory or Path(tempfile.gettempdir())
    directory.mkdir(parents=True, exist_ok=True)
    handle = tempfile.NamedTemporaryFile(prefix="cdr-", dir=directory, delete=False)
    digest = hashlib.sha256()
    with handle:
        while chunk := stream.read(1 << 20):
            if isinstance(chunk, str):
                chunk = chunk.encode("utf-8")
            digest.update(chunk)
            handle.write(chunk)
    os.chmod(handle.name, 0o600)
    return Path(handle.name), digest.hexdigest()


__all__ = [
    "ImportTotals", "RowPreparer", "HolderIndex", "run_import", "file_sha256", "spool_stream",
    "ImportAbandoned", "import_heartbeat",
    "_delete_import_rows", "FLAG_EXTENSION", "FLAG_BAD_NUMBER", "FLAG_NO_ACCOUNT", "FLAG_UNRATED",
]

