"""Writers: prepared rows into traffic_cdr (and traffic_cdrtechnical), deduplicated, batch by batch.

Everything above the writer is the same code on both databases; the writer turns prepared rows
(rows.R_*) into what its backend takes: COPY text on PostgreSQL (encoded in the preparing thread, stored
by a writer thread when the caller holds no transaction), executemany parameters on SQLite.

Nothing lost, nothing doubled: the dedupe key is (source, unique_id, leg) (Cdr.leg). Per batch the
writer looks up which unique ids the source already has (one indexed query): a leg already there with
the same fingerprint is a duplicate (so is one stored before legs existed, under leg ""), with another a
conflict; only new rows go straight into traffic_cdr (a per-source advisory lock, run.py, serialises
writes to one source, so the lookup cannot race another writer). When the source had no CDRs when the
write started, only unique ids this write has seen are looked up (the common first import). Each batch
is one transaction, with the import's heartbeat, so the import's counts are exactly the committed rows.

One row never costs the batch: rows.py rejects what it knows the database cannot store, and when the
database refuses a batch anyway (a value out of a column's range, a byte COPY cannot take), the batch
is halved, each half in a savepoint, down to the rows it refuses: those are rejected alone with their
lines and a reason naming only the error's class. A failing connection (or more than
REFUSED_PER_BATCH_MAX refused rows in one batch) is no row's fault: it stops the import.
"""
from __future__ import annotations

import abc
import io
import logging
import queue
import threading
import time
from typing import TYPE_CHECKING, Any, Callable

from django.db import DataError, IntegrityError, connection, transaction

from .copy_text import E_CDR, E_FLAGGED, E_LEG, E_TECH, cdr_ids_reserve, copy_encode
from .rows import (
    R_ACCOUNT, R_ACCOUNT_CODE, R_ANSWERED, R_BILLSEC, R_CALL, R_CONTRACTOR, R_DIRECTION, R_DISPOSITION, R_DST,
    R_DST_IDX, R_DURATION, R_FLAGS, R_FP, R_LEG, R_LINE, R_NAME, R_PRICE, R_RATING, R_SRC, R_SRC_IDX, R_STARTED,
    R_TECH, R_UID, R_ZONE,
)

if TYPE_CHECKING:  # run.py makes the totals and the writer; only the type is needed here
    from .run import ImportTotals

logger = logging.getLogger(__name__)

SEEN_LIMIT = 3_000_000  # unique ids remembered for the fast path; past this, look every batch up
REFUSED_PER_BATCH_MAX = 100  # more refused rows than this in one batch is no row's fault: the import stops
# What a refused row raises: the database's data and constraint errors, and psycopg2's and sqlite3's
# own refusals before anything is sent (a NUL in a parameter, text UTF-8 cannot encode, an integer
# past 64 bits). Not OperationalError: a lost connection is no row's fault.
ROW_ERRORS = (DataError, IntegrityError, ValueError, OverflowError)
REFUSED_REASON = "the database refused this row ({error})"
LAST_WRITER_STATS: dict[str, float] = {}  # this process's last PostgreSQL import: seconds per stage

CDR_COLUMNS = (
    "id", "started_at", "source_id", "unique_id", "fingerprint", "import_batch_id", "account_id",
    "contractor_id", "direction", "disposition", "answered_at", "duration", "billsec", "src_enc",
    "dst_enc", "src_index", "dst_index", "caller_name_enc", "account_code", "flags", "rating", "zone",
    "price", "leg", "call_id",
)
TECH_COLUMNS = ("cdr_id", "started_at", "payload_enc")


def writer_make(*, source_id: int, import_id: int | None, totals: ImportTotals,
                heartbeat: Callable[[ImportTotals], None] | None) -> BatchWriter:
    """The writer for this database; `heartbeat` runs in each batch's transaction."""
    fast = not _source_has_rows(source_id)
    if connection.vendor == "postgresql":
        # Another connection cannot see the caller's uncommitted rows (a test, a request), so the
        # writer thread is used only when no transaction is open here.
        return PostgresWriter(threaded=not connection.in_atomic_block, source_id=source_id,
                              import_id=import_id, totals=totals, fast=fast, heartbeat=heartbeat)
    return SqliteWriter(source_id=source_id, import_id=import_id, totals=totals, fast=fast, heartbeat=heartbeat)


def _source_has_rows(source_id: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM traffic_cdr WHERE source_id = %s LIMIT 1", [source_id])
        return cursor.fetchone() is not None


class BatchWriter(abc.ABC):
    """Writes prepared batches. `submit()` may return before the batch is stored (threaded writer);
    `finish()` waits for everything and re-raises the first error."""

    def __init__(self, *, source_id: int, import_id: int | None, totals: ImportTotals, fast: bool,
                 heartbeat: Callable[[ImportTotals], None] | None = None) -> None:
        self.source_id = source_id
        self.import_id = import_id
        self.totals = totals
        self.heartbeat = heartbeat
        # fast: the source had no CDRs when the import started; only ids seen in this import are looked up.
        self.seen: set[int] | None = set() if fast else None
        # (line, reason) of rows the database refused; added to the totals by finish(), in the caller's thread.
        self.refused: list[tuple[int, str]] = []
        self._refused_before = 0  # len(self.refused) when the batch being stored began

    leg_at = R_LEG  # where a row holds its leg (PostgreSQL's encoded rows differ)

    def _split(self, batch: list[tuple], existing: Callable[[list[str]], dict[tuple[str, str], str]]) -> list[tuple]:
        """Drop duplicates and conflicts (in the batch and against the database); count them."""
        fresh: list[tuple] = []
        in_batch: dict[tuple[str, str], str] = {}
        leg_at = self.leg_at
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
            key = (uid, row[leg_at])
            other = known.get(key) or in_batch.get(key)
            if other is None and key[1] and known and known.get((uid, "")) == fp:
                other = fp  # the same figures stored before legs existed (leg ""): a duplicate
            if other is None:
                in_batch[key] = fp
                fresh.append(row)
            elif other == fp:
                totals.duplicates += 1
            else:
                totals.conflict(row[R_LINE], uid)
        if seen is not None:
            seen.update(hash(key[0]) for key in in_batch)
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
            self._refused_before = len(self.refused)
            self._store_or_halve(batch)
            if self.heartbeat is not None:
                self.heartbeat(self.totals)

    def _store_or_halve(self, batch: list[tuple]) -> None:
        """Store the rows in a savepoint; if the database refuses them, store each half the same way,
        down to single rows, which are refused alone. The dedupe counts of a rolled-back attempt are
        taken back (the ids it remembered in `seen` only cost a needless lookup)."""
        totals = self.totals
        counts = (totals.duplicates, totals.conflicts, len(totals.conflict_rows))
        try:
            with transaction.atomic():
                self._store(batch)
        except ROW_ERRORS as exc:
            totals.duplicates, totals.conflicts = counts[0], counts[1]
            del totals.conflict_rows[counts[2]:]
            if len(batch) > 1:
                half = len(batch) // 2
                self._store_or_halve(batch[:half])
                self._store_or_halve(batch[half:])
                return
            error = _error_name(exc)
            self.refused.append((batch[0][R_LINE], REFUSED_REASON.format(error=error)))
            if len(self.refused) - self._refused_before > REFUSED_PER_BATCH_MAX:
                # Not the rows' fault; stop before trying the rest of the batch one by one.
                raise BatchRefused(f"the database refused more than {REFUSED_PER_BATCH_MAX} rows of one batch "
                                   f"({error})") from None
            logger.warning("cdr import %s: the database refused the row of line %s (%s)", self.import_id,
                           batch[0][R_LINE], error)  # the class only: a database message may quote the row

    def _refused_add(self) -> None:
        for line, reason in self.refused:
            self.totals.reject(line, reason)
        self.refused = []

    def finish(self) -> None:
        self._refused_add()

    def abort(self) -> None:
        pass


def _error_name(exc: BaseException) -> str:
    """The class of the database's error (psycopg2's NumericValueOutOfRange under Django's DataError)."""
    cause = exc.__cause__ if isinstance(exc, (DataError, IntegrityError)) else None
    return type(cause or exc).__name__


class BatchRefused(RuntimeError):
    """The database refused so many rows of one batch that the cause cannot be the rows: the import
    stops (an internal error), and a re-run can complete it once the cause is fixed."""


def _sqlite_dt(iso: str | None) -> str | None:
    """Django's SQLite form of a UTC time ('2026-05-04 08:00:00'): ordered and filtered like the ORM's."""
    if iso is None:
        return None
    return iso.removesuffix("+00:00").replace("T", " ")


class SqliteWriter(BatchWriter):
    """Batched executemany in one transaction (savepoint) per batch, same dedupe as PostgreSQL."""

    def encode(self, batch: list[tuple]) -> list[tuple]:
        return batch

    def _existing(self, uids: list[str]) -> dict[tuple[str, str], str]:
        return {(uid, leg): fp for uid, leg, fp in self._select("unique_id, leg, fingerprint", uids)}

    def _select(self, what: str, uids: list[str]) -> list[tuple]:
        found: list[tuple] = []
        with connection.cursor() as cursor:
            for i in range(0, len(uids), 500):
                chunk = uids[i:i + 500]
                # Reviewed: `what` is a fixed column list of this module; the ids are bound parameters.
                cursor.execute(
                    f"SELECT {what} FROM traffic_cdr WHERE source_id = %s AND unique_id IN "  # nosec B608
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
             r[R_PRICE], r[R_LEG], r[R_CALL])
            for r in fresh
        ]
        columns = CDR_COLUMNS[1:]
        with connection.cursor() as cursor:
            # Reviewed: the columns are this module's constant CDR_COLUMNS; values are bound parameters.
            cursor.executemany(
                f"INSERT INTO traffic_cdr ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))})",  # nosec B608
                params,
            )
            tech = [r for r in fresh if r[R_TECH] is not None]
            if tech:
                ids = {(uid, leg): cdr_id for uid, leg, cdr_id in self._select("unique_id, leg, id", [r[R_UID] for r in tech])}
                cursor.executemany(
                    "INSERT INTO traffic_cdrtechnical (cdr_id, started_at, payload_enc) VALUES (%s, %s, %s)",
                    [(ids[(r[R_UID], r[R_LEG])], _sqlite_dt(r[R_STARTED]), r[R_TECH]) for r in tech],
                )
        self.totals.imported += len(fresh)
        self.totals.flagged += sum(1 for r in fresh if r[R_FLAGS])
        self.totals.warn_stored((r[R_LINE], r[R_FLAGS]) for r in fresh)


class PostgresWriter(BatchWriter):
    """COPY (text format) straight into the partitioned tables, ids reserved from the table's sequence
    so technical rows can point at their CDR. Threaded when the caller holds no transaction: this
    thread encodes batch N+1 while the writer thread looks up and COPYs batch N."""

    _CDR_COPY = f"COPY traffic_cdr ({', '.join(CDR_COLUMNS)}) FROM STDIN"
    leg_at = E_LEG
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
        """COPY lines, in the preparing thread."""
        return copy_encode(batch, cdr_ids_reserve(len(batch)), self.source_id, self.import_id)

    # Runs in the writer thread (threaded) or inline.
    def _existing(self, uids: list[str]) -> dict[tuple[str, str], str]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT unique_id, leg, fingerprint FROM traffic_cdr WHERE source_id = %s AND unique_id = ANY(%s)",
                [self.source_id, uids],
            )
            return {(uid, leg): fp for uid, leg, fp in cursor.fetchall()}

    def _store(self, batch: list[tuple]) -> None:
        started = time.perf_counter()
        fresh = self._split(batch, self._existing)
        self.lookup_seconds += time.perf_counter() - started
        if not fresh:
            return
        started = time.perf_counter()
        cdr_text = "".join([r[E_CDR] for r in fresh]).encode("utf-8")
        tech_text = "".join([r[E_TECH] for r in fresh if r[E_TECH] is not None]).encode("utf-8")
        with connection.cursor() as cursor, connection.wrap_database_errors:  # psycopg2's errors as Django's
            raw = cursor.cursor  # the psycopg2 cursor under Django's wrapper
            raw.copy_expert(self._CDR_COPY, io.BytesIO(cdr_text), size=1 << 22)
            if tech_text:
                raw.copy_expert(self._TECH_COPY, io.BytesIO(tech_text), size=1 << 22)
        self.copy_seconds += time.perf_counter() - started
        self.totals.imported += len(fresh)
        self.totals.flagged += sum(1 for r in fresh if r[E_FLAGGED])
        self.totals.warn_stored((r[0], r[E_FLAGGED]) for r in fresh)

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
        self._refused_add()  # the writer thread is done with the list
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def abort(self) -> None:
        try:
            self.finish()
        except BaseException:  # the caller is already handling the first failure
            pass
