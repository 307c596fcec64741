"""The run: a file of CDRs (`run_import`) or CDRs already decided (`cdr_rows_write`), stored batch by batch.

Both take the source's lock and one writer (writers.py) and end every row in RowBuilder.build
(rows.py), so an imported call, a demo call and a test's call are encrypted, indexed, deduplicated
and stored by the same code.

Batches (default 20,000 rows) are written in one transaction each, so a crash loses at most the batch
in flight and a re-run completes the file (the dedupe key makes re-runs idempotent). Each batch's
transaction also renews the import's lease (`import_heartbeat`), with the counts so far: an import
whose worker died is reaped by the lease (traffic.services), and a late worker of a reaped import
stops at its next batch (`ImportAbandoned`).

One row never costs the file: a row that cannot be stored is rejected alone, with its line and a
reason (rows.py checks what it can before the writer; the writer finds and rejects what the database
still refuses). A file none of whose first rows is a CDR of the source's format is refused whole
(ImportFormatError, like a file the parser refuses), not "done" with every row rejected.

Personal data never leaves the ingest package in clear: reports hold line numbers, reasons and
unique ids (switch-generated call ids), never numbers or caller names; exceptions carry no row content.
"""
from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from django.db import connection, transaction
from django.utils.timezone import now

from ..importers import get_parser
from ..importers.base import FLAG_BILLSEC_OVER_DURATION, ImportFormatError, RowError
from ..models import CdrImport, Source
from .parallel import ParallelPreparer, parallel_procs, run_chunks
from .prepare import RowPreparer
from .rows import CdrRecord, RowBuilder, RowRejected
from .writers import LAST_WRITER_STATS, BatchWriter, writer_make

BATCH_SIZE = 20_000
WARN_BILLSEC_OVER_DURATION = "billsec: longer than the duration of the call; billed for the duration"
REPORT_LIMIT = 10_000  # entries kept per list in CdrImport.report; counts are always complete
ADVISORY_LOCK_CLASS = 7_300_010  # pg_advisory_lock(class, source_id): one importer per source
LOCK_POLL_SECONDS = 2.0  # an import waiting for its source's lock renews its lease this often
# A file none of whose first NO_CDR_ROWS rows (or no row at all, if it is shorter) is a CDR of the
# source's format is refused whole: it is the wrong file or the wrong source, not 81,760 bad rows.
NO_CDR_ROWS = 1000
NO_CDR_FIRST = ("None of the first {rows} rows is a CDR of this source's format ({format}); line {line}: "
                "{reason}. Check that this is the switch's CDR file and the source's format.")
NO_CDR_ANY = ("None of the rows of this file is a CDR of this source's format ({format}); line {line}: "
              "{reason}. Check that this is the switch's CDR file and the source's format.")


class ImportAbandoned(RuntimeError):
    """The import is no longer "running" (the reaper marked it failed, its lease having run out):
    this late worker stops, and the batch in flight is rolled back with the heartbeat that noticed."""


@dataclass
class ImportTotals:
    imported: int = 0
    duplicates: int = 0
    conflicts: int = 0
    flagged: int = 0
    rejected_total: int = 0
    rejected: list[dict] = field(default_factory=list)
    conflict_rows: list[dict] = field(default_factory=list)
    warnings_total: int = 0
    warnings: list[dict] = field(default_factory=list)  # rows stored, but not billed as written

    def reject(self, line: int, reason: str) -> None:
        self.rejected_total += 1
        if len(self.rejected) < REPORT_LIMIT:
            self.rejected.append({"line": int(line), "reason": str(reason)})

    def conflict(self, line: int, unique_id: str) -> None:
        self.conflicts += 1
        if len(self.conflict_rows) < REPORT_LIMIT:
            self.conflict_rows.append({"line": int(line), "unique_id": unique_id})

    def warn_stored(self, rows: Iterable[tuple[int, str]]) -> None:
        """(line, flags text) of stored rows: those whose billsec was cut to the duration are warnings."""
        for line, flags in rows:
            if flags and FLAG_BILLSEC_OVER_DURATION in flags:
                self.warnings_total += 1
                if len(self.warnings) < REPORT_LIMIT:
                    self.warnings.append({"line": int(line), "reason": WARN_BILLSEC_OVER_DURATION})

    def report(self) -> dict:
        # Rows the writer refused (writers.py) join the parser's rejections at the end: sorted by line.
        return {
            "rejected": sorted(self.rejected, key=_by_line), "conflicts": self.conflict_rows,
            "rejected_total": self.rejected_total,
            "warnings": sorted(self.warnings, key=_by_line), "warnings_total": self.warnings_total,
            "truncated": self.rejected_total > len(self.rejected) or self.conflicts > len(self.conflict_rows)
            or self.warnings_total > len(self.warnings),
        }


def _by_line(entry: dict) -> int:
    return entry["line"]


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


def run_import(*, cdr_import: CdrImport, path: Path, batch_size: int | None = None,
               progress: Callable[[int], None] | None = None) -> ImportTotals:
    """Parse `path` with the source's parser and store its rows (`batch_size` rows per transaction,
    default BATCH_SIZE). Updates nothing on `cdr_import` except through the rows' import_batch_id
    and the heartbeat's counts; the service records the outcome. A large CSV file on PostgreSQL is
    prepared by a pool of processes (parallel.py), with the same rows, rejects and counts."""
    batch_size = batch_size or BATCH_SIZE
    source = cdr_import.source
    totals = ImportTotals()
    preparer = RowPreparer(source=source)
    procs = parallel_procs(fmt=source.format, columns=source.columns, path=path)
    # Forked before the writer exists: no writer thread (nor its connection) in the children.
    pool = ParallelPreparer(preparer=preparer, path=path, fmt=source.format, columns=source.columns,
                            source_id=source.pk, import_id=cdr_import.pk, procs=procs) if procs else None
    check = _FileCheck(totals=totals, fmt=source.format)
    cpu_started = time.thread_time()
    try:
        with _writing(source_id=source.pk, import_id=cdr_import.pk, totals=totals) as writer:
            def serial(items: Iterable[Any]) -> None:
                _rows_prepare(items, preparer=preparer, writer=writer, check=check, batch_size=batch_size,
                              progress=progress)

            if pool is None:
                with open(path, "rb") as stream:
                    serial(get_parser(source.format)(stream, tz=preparer.tz, columns=source.columns))
            else:
                run_chunks(parallel=pool, writer=writer, totals=totals, batch_size=batch_size,
                           on_chunk=lambda *counts: check.chunk(*counts, progress=progress), serial=serial)
            check.finish()
    finally:
        if pool is not None:
            pool.close()
    LAST_WRITER_STATS["main_cpu"] = time.thread_time() - cpu_started
    return totals


class _FileCheck:
    """The records seen so far, for the refusal of a file none of whose first rows is a CDR."""

    def __init__(self, *, totals: ImportTotals, fmt: str) -> None:
        self.totals, self.fmt, self.seen = totals, fmt, 0

    def chunk(self, seen: int, leading: int, rejected_before: int, *, progress: Callable[[int], None] | None) -> None:
        """After a chunk's rejects were added: were the file's first NO_CDR_ROWS records all rejected
        (every record before the chunk, and enough of the chunk's leading ones)?"""
        before = self.seen
        if before < NO_CDR_ROWS and rejected_before == before and before + leading >= NO_CDR_ROWS:
            _refuse_no_cdr(totals=self.totals, fmt=self.fmt, message=NO_CDR_FIRST)
        self.seen += seen
        if progress:
            progress(self.seen)

    def finish(self) -> None:
        if self.seen and self.totals.rejected_total == self.seen:
            _refuse_no_cdr(totals=self.totals, fmt=self.fmt, message=NO_CDR_ANY)


def _rows_prepare(items: Iterable[Any], *, preparer: RowPreparer, writer: BatchWriter, check: _FileCheck,
                  batch_size: int, progress: Callable[[int], None] | None) -> None:
    """The serial row loop: a whole file, or the tail of one that could not be cut (parallel.py)."""
    totals = check.totals
    batch: list[tuple] = []
    seen_rows = check.seen
    for item in items:
        seen_rows += 1
        if isinstance(item, RowError):
            totals.reject(item.line, item.reason)
            if seen_rows == totals.rejected_total == NO_CDR_ROWS:
                _refuse_no_cdr(totals=totals, fmt=check.fmt, message=NO_CDR_FIRST)
            continue
        try:
            batch.append(preparer.prepare(item))
        except (ValueError, TypeError, OverflowError) as exc:
            # The message names the field, never its value.
            totals.reject(_line_of(item), _safe_reason(exc))
            if seen_rows == totals.rejected_total == NO_CDR_ROWS:
                _refuse_no_cdr(totals=totals, fmt=check.fmt, message=NO_CDR_FIRST)
            continue
        if len(batch) >= batch_size:
            writer.submit(writer.encode(batch))
            batch = []
            if progress:
                progress(seen_rows)
    check.seen = seen_rows
    if batch:
        writer.submit(writer.encode(batch))
    if progress:
        progress(seen_rows)


def cdr_rows_write(*, source: Source, records: Iterable[CdrRecord], batch_size: int | None = None) -> ImportTotals:
    """Store CDRs that are already decided (demo data, test factories) the way an import stores them:
    the same row build (encryption under the month key, blind indexes, fingerprint), the same writer
    (dedupe on (source, unique_id, leg): a record already there counts as a duplicate or a conflict and is
    not stored again), one transaction per batch, under the source's lock. Returns the counts."""
    batch_size = batch_size or BATCH_SIZE
    builder = RowBuilder()
    totals = ImportTotals()
    with _writing(source_id=source.pk, import_id=None, totals=totals) as writer:
        batch: list[tuple] = []
        for line, record in enumerate(records, 1):
            batch.append(builder.record_row(record, line=line))
            if len(batch) >= batch_size:
                writer.submit(writer.encode(batch))
                batch = []
        if batch:
            writer.submit(writer.encode(batch))
    return totals


def records_write(*, source: Source, items: Iterable[Any], preparer: RowPreparer) -> ImportTotals:
    """Store parsed records (CallRecord or RowError, as a parser yields them) that come from no file: a
    push (traffic/push). The same preparer (times, numbers, attribution, rating), row build, writer and
    dedupe as `run_import`, in one batch; `line` of each record is the caller's, so it can tell which of
    its records were rejected or conflicts. Called inside the caller's transaction, which keeps the
    source's lock until it commits (no other writer can miss these rows in its dedupe lookup)."""
    totals = ImportTotals()
    # Prepared under the source's lock, as run_import does: preparing may create a month's key (and
    # lock tables) in the caller's transaction, which must not happen before waiting for the lock.
    with _writing(source_id=source.pk, import_id=None, totals=totals) as writer:
        batch: list[tuple] = []
        for item in items:
            if isinstance(item, RowError):
                totals.reject(item.line, item.reason)
                continue
            try:
                batch.append(preparer.prepare(item))
            except (ValueError, TypeError, OverflowError) as exc:
                totals.reject(_line_of(item), _safe_reason(exc))
        if batch:
            writer.submit(writer.encode(batch))
    return totals


@contextmanager
def _writing(*, source_id: int, import_id: int | None, totals: ImportTotals) -> Iterator[BatchWriter]:
    """The source's lock and a writer for it, for the body's batches; on leaving, everything
    submitted is stored (or the first error is raised, the writer thread stopped)."""
    heartbeat = None if import_id is None else (lambda so_far: import_heartbeat(import_id, so_far))
    with _source_lock(source_id, import_id):
        writer = writer_make(source_id=source_id, import_id=import_id, totals=totals, heartbeat=heartbeat)
        try:
            yield writer
            writer.finish()
        except BaseException:
            writer.abort()
            raise


class _source_lock:
    """A session-level advisory lock on PostgreSQL: one importer per source at a time. While it waits
    for another import of the source, the import renews its lease: waiting is not dying."""

    def __init__(self, source_id: int, import_id: int | None = None) -> None:
        self.source_id = source_id
        self.import_id = import_id
        self.xact = False

    def __enter__(self) -> None:
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                if self.import_id is None and connection.in_atomic_block:
                    # No lease to renew: wait for the lock, and hold it until the caller's transaction
                    # ends, so the rows are committed before another writer looks for them.
                    cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [ADVISORY_LOCK_CLASS, self.source_id])
                    self.xact = True
                    return
                while True:
                    cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [ADVISORY_LOCK_CLASS, self.source_id])
                    if cursor.fetchone()[0]:
                        return
                    if self.import_id is not None:
                        import_heartbeat(self.import_id)
                    time.sleep(LOCK_POLL_SECONDS)

    def __exit__(self, *exc: object) -> None:
        if connection.vendor == "postgresql" and not self.xact:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [ADVISORY_LOCK_CLASS, self.source_id])


def cdr_import_rows_delete(*, import_id: int) -> None:
    """Undo what an import that was refused half way wrote (a format error found late)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM traffic_cdrtechnical WHERE cdr_id IN (SELECT id FROM traffic_cdr WHERE import_batch_id = %s)",
            [import_id],
        )
        cursor.execute("DELETE FROM traffic_cdr WHERE import_batch_id = %s", [import_id])


def _refuse_no_cdr(*, totals: ImportTotals, fmt: str, message: str) -> None:
    """Refuse the file whole, with the first row's reason (a fixed text, never the row's content)."""
    first = totals.rejected[0]
    raise ImportFormatError(message.format(rows=NO_CDR_ROWS, format=fmt, line=first["line"], reason=first["reason"]))


def _line_of(item: Any) -> int:
    line = getattr(item, "line", None)
    return int(0 if line is None else line)


def _safe_reason(exc: Exception) -> str:
    if isinstance(exc, RowRejected):
        return str(exc)
    if isinstance(exc, UnicodeEncodeError):  # a lone surrogate in a number, a name or a technical field
        return "a value is not valid Unicode (a lone surrogate)"
    return f"invalid value ({type(exc).__name__})"  # never str(exc): it may quote the value
