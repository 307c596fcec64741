"""Row preparation on every core: a CSV file cut into chunks at record boundaries, each chunk parsed,
prepared, encrypted and laid out as COPY text by a pool of forked processes, one writer storing them.

`run_import` (run.py) takes this road for a large file of a CSV format on PostgreSQL (`parallel_procs`);
the rest of the pipeline is unchanged: the results of the chunks are taken in file order and fed to the
same writer in the same batches, so order, dedupe, conflicts, rejects with their lines, the lease and
the summary are exactly those of the serial run (tests/traffic/test_ingest_parallel.py compares both on
the real sample files).

How a chunk stays exact:
- Cut points. A chunk ends after a line end where the number of quote characters since the start of
  the file is even: outside a quoted field for any well-formed CSV. A cut that still fell inside a
  quoted field (a stray quote) shows itself: the chunk before it ends inside a quoted field
  (`FileChunk.dirty_end`), and from that chunk on the file is prepared in this process, in one piece,
  as the serial run would.
- Line numbers. The parent counts each chunk's physical lines (line ends in C) and tells each chunk
  where it starts; only the first chunk is sniffed and first-checked (importers.base.file_chunk).
- Months. A child never touches the database: the parent's preparer (numbers, holders, tariffs) is
  inherited by the fork, and the month keys it needs are handed to it wrapped. A chunk that meets a
  month the parent has no key for yet comes back unprepared; the parent makes the month (partition and
  key, under the source's lock, as the serial run would) and sends the chunk again.
- Nonces. A forked child forgets the AES-GCM nonces its parent drew before it draws its own.
- Ids. Each chunk is handed one id from traffic_cdr's sequence per physical line, so its rows are
  laid out as COPY text complete; ids of lines that are no row are gaps, as those of duplicates are.

A child that dies (killed, out of memory) breaks the pool: the import stops with `PreparerStopped`, an
internal error that keeps the upload for a re-run; batches committed before it stay (a re-run skips them
as duplicates), the batch in flight is not written.
"""
from __future__ import annotations

import ctypes
import gc
import io
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Callable, Iterator

from django.conf import settings
from django.db import connection, connections

from .. import keys
from ..importers import chunkable, get_parser
from ..importers.base import RowError
from ..importers.chunks import file_chunk
from .month_crypto import MonthCrypto
from .prepare import RowPreparer
from .copy_text import cdr_ids_reserve, copy_encode

CHUNK_BYTES = 2 << 20  # about 8,000 Asterisk rows: a few in flight keep the importing process under 500 MB
PARALLEL_MIN_BYTES = 8 << 20  # below this a file is prepared in one process: forking costs more than it saves
_READ = 1 << 20


class PreparerStopped(RuntimeError):
    """A preparing process died; the import stops and can be re-run."""


def parallel_procs(*, fmt: str, columns: str, path: Path) -> int:
    """How many preparing processes to use for this file: 0 = prepare it in this process."""
    procs = getattr(settings, "CDR_IMPORT_PROCS", None)
    procs = _cores() if procs is None else int(procs)
    if procs < 1 or connection.vendor != "postgresql" or not chunkable(fmt, columns):
        return 0
    minimum = int(getattr(settings, "CDR_IMPORT_PARALLEL_MIN_BYTES", PARALLEL_MIN_BYTES))
    if path.stat().st_size < minimum:
        return 0
    return procs


def _cores() -> int:
    """One preparer per core this process may run on (a container's CPU set), but one: the writer
    and, where it shares the machine, PostgreSQL's COPY need a core too (bench-ingest on 2 cores:
    2 preparers store no faster than 1). A worker machine of its own can set CDR_IMPORT_PROCS."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS
        cores = os.cpu_count() or 1
    return max(cores - 1, 1)


@dataclass(frozen=True, slots=True)
class Chunk:
    index: int
    start: int  # byte offsets in the file
    end: int
    first_line: int  # physical lines before it
    lines: int


def chunks_plan(path: Path, *, chunk_bytes: int) -> Iterator[Chunk]:
    """Cut points of the file, read once in blocks (C scans only): the first line end at least
    `chunk_bytes` after the last cut where the quotes since the start of the file are even; failing
    one within CUT_WINDOW, the first line end (the chunk before a cut that fell inside a quoted field
    says so, `FileChunk.dirty_end`)."""
    index = start = lines_before = quotes_odd = 0
    buf = b""
    eof = False
    with open(path, "rb") as stream:
        while True:
            if not eof and len(buf) < chunk_bytes + CUT_WINDOW:
                block = stream.read(max(_READ, chunk_bytes + CUT_WINDOW))
                eof = not block
                buf += block
                continue
            if not buf:
                return
            cut = _cut(buf, quotes_odd, chunk_bytes)
            if cut < 0:
                if not eof:
                    block = stream.read(_READ)  # a line longer than the window: read on
                    eof = not block
                    buf += block
                    continue
                cut = len(buf)  # the end of the file
            part = buf[:cut]
            lines = _physical_lines(part)
            yield Chunk(index, start, start + cut, lines_before, lines)
            index += 1
            start += cut
            lines_before += lines
            quotes_odd ^= part.count(b'"') & 1
            buf = buf[cut:]


CUT_WINDOW = 1 << 16  # how far past a chunk's size a cut with even quotes is looked for


def _cut(buf: bytes, quotes_odd: int, chunk_bytes: int) -> int:
    """The length of the chunk at the start of `buf`, or -1 when `buf` holds no line end after `chunk_bytes`."""
    first = pos = buf.find(b"\n", max(chunk_bytes - 1, 0))
    if pos < 0:
        return -1
    odd = (quotes_odd + buf.count(b'"', 0, pos + 1)) & 1
    limit = first + CUT_WINDOW
    while odd:
        after = buf.find(b"\n", pos + 1, limit)
        if after < 0:
            return first + 1
        odd ^= buf.count(b'"', pos + 1, after + 1) & 1
        pos = after
    return pos + 1


def _physical_lines(part: bytes) -> int:
    """Lines as the parsers count them (io.TextIOWrapper(newline=""): \\n, \\r\\n and a lone \\r)."""
    lines = part.count(b"\n") + part.count(b"\r") - part.count(b"\r\n")
    if part[-1:] not in (b"\n", b"\r"):
        lines += 1
    return lines


@dataclass
class ChunkResult:
    index: int
    rows: list[tuple] = field(default_factory=list)  # encoded for the PostgreSQL writer (writers.E_*)
    rejects: list[tuple[int, str]] = field(default_factory=list)
    seen: int = 0  # records of the parser, rows and rejects
    leading_rejects: int = 0  # rejects before the chunk's first row
    dirty_end: bool = False
    cpu: float = 0.0
    need_month: date | None = None


# --- in the preparing processes ---------------------------------------------------------------------------

class _Context:
    """What the children inherit from the parent at the fork (set just before it, cleared after)."""

    preparer: RowPreparer | None = None
    path: str = ""
    fmt: str = ""
    columns: str = ""
    source_id: int = 0
    import_id: int | None = None


_FORKING = threading.Lock()
_inherited_connections: list[Any] = []  # kept, never closed: closing would end the parent's session


def _child_init() -> None:
    if sys.platform == "linux":  # die with the parent: an orphan must not outlive a killed import worker
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    for conn in connections.all(initialized_only=True):
        _inherited_connections.append(conn.connection)  # the parent's socket: never used, never closed
        conn.connection = None
    preparer = _Context.preparer
    for crypto in preparer._months.values():
        crypto.nonces_forget()
    preparer.month_crypto = _month_from_parent  # a month the parent has not handed over: sent back
    gc.freeze()  # the inherited caches stay shared with the parent (no copy on write by the collector)


class _NeedMonth(Exception):
    def __init__(self, month: date) -> None:
        self.month = month


def _month_from_parent(moment: datetime) -> MonthCrypto:
    raise _NeedMonth(date(moment.year, moment.month, 1))


def _ready() -> int:
    return os.getpid()


def _prepare_chunk(chunk: Chunk, ids: list[int], wrapped: dict[date, bytes]) -> ChunkResult:
    """Parse, prepare and encode one chunk (in a child). `wrapped`: the month keys known so far."""
    cpu = time.process_time()
    preparer = _Context.preparer
    months = preparer._months
    for month, key in wrapped.items():
        if (month.year, month.month) not in months:
            months[(month.year, month.month)] = MonthCrypto.of_cipher(keys.month_cipher_unwrapped(month, key))
    with open(_Context.path, "rb") as stream:
        stream.seek(chunk.start)
        data = stream.read(chunk.end - chunk.start)
    result = ChunkResult(chunk.index)
    try:
        rows = prepare_items(io.BytesIO(data), preparer=preparer, chunk=chunk, result=result)
    except _NeedMonth as need:
        return ChunkResult(chunk.index, need_month=need.month)
    result.rows = copy_encode(rows, ids, _Context.source_id, _Context.import_id)
    result.cpu = time.process_time() - cpu
    return result


def prepare_items(stream: io.BufferedIOBase | io.BytesIO, *, preparer: RowPreparer, chunk: Chunk,
                  result: ChunkResult) -> list[tuple]:
    """One chunk's records through the preparer (run.py's row loop, for a part of a file)."""
    from .run import _line_of, _safe_reason

    rows: list[tuple] = []
    rejects = result.rejects
    prepare = preparer.prepare
    with file_chunk(line_offset=chunk.first_line, first=chunk.index == 0) as part:
        for item in get_parser(_Context.fmt)(stream, tz=preparer.tz, columns=_Context.columns):
            result.seen += 1
            if isinstance(item, RowError):
                rejects.append((item.line, item.reason))
            else:
                try:
                    rows.append(prepare(item))
                    continue
                except (ValueError, TypeError, OverflowError) as exc:
                    rejects.append((_line_of(item), _safe_reason(exc)))
            if not rows:
                result.leading_rejects += 1
        result.dirty_end = part.dirty_end
    return rows


# --- in the importing process ---------------------------------------------------------------------------

@dataclass
class ParallelStats:
    procs: int = 0
    chunks: int = 0
    prepare_cpu: float = 0.0  # the children's, summed
    resent: int = 0  # chunks sent again for a month key
    serial_tail: bool = False  # a cut fell inside a quoted field: the rest was prepared here


LAST_PARALLEL_STATS = ParallelStats()


class ParallelPreparer:
    """The pool and the chunks in flight. Made before the writer (no writer thread at the fork)."""

    def __init__(self, *, preparer: RowPreparer, path: Path, fmt: str, columns: str, source_id: int,
                 import_id: int | None, procs: int, chunk_bytes: int | None = None) -> None:
        self.preparer = preparer
        self.path = path
        self.procs = procs
        self.chunk_bytes = chunk_bytes or int(getattr(settings, "CDR_IMPORT_CHUNK_BYTES", CHUNK_BYTES))
        self.stats = ParallelStats(procs=procs)
        self.fmt, self.columns = fmt, columns
        self._wrapped: dict[date, bytes] = {}
        with _FORKING:  # two imports in threads of one process: each pool inherits its own context
            _Context.preparer, _Context.path, _Context.fmt, _Context.columns = preparer, str(path), fmt, columns
            _Context.source_id, _Context.import_id = source_id, import_id
            try:
                self.pool = ProcessPoolExecutor(max_workers=procs, mp_context=multiprocessing.get_context("fork"),
                                                initializer=_child_init)
                self.pool.submit(_ready).result()  # fork them all now, before the writer starts its thread
            finally:
                _Context.preparer = None  # the children hold their copy; this process keeps no extra reference

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)
        global LAST_PARALLEL_STATS
        LAST_PARALLEL_STATS = self.stats

    def results(self) -> Iterator[ChunkResult | Iterator[Any]]:
        """Each chunk's result in file order. After a chunk that ended inside a quoted field, yields
        instead the parser's records from that chunk's start to the end of the file, to be prepared
        here (the caller's serial loop), and stops."""
        in_flight: deque[tuple[Chunk, list[int], Any]] = deque()
        plan = chunks_plan(self.path, chunk_bytes=self.chunk_bytes)
        depth = self.procs + 1  # one chunk waiting per process, and the one being stored: bounded memory
        planned = True
        while True:
            while planned and len(in_flight) < depth:
                chunk = next(plan, None)
                if chunk is None:
                    planned = False
                    break
                ids = cdr_ids_reserve(chunk.lines)
                in_flight.append((chunk, ids, self._submit(chunk, ids)))
            if not in_flight:
                return
            chunk, ids, future = in_flight.popleft()
            result = self._result(future)
            while result.need_month is not None:
                self._month_make(result.need_month)
                self.stats.resent += 1
                result = self._result(self._submit(chunk, ids))
            self.stats.chunks += 1
            self.stats.prepare_cpu += result.cpu
            last = not planned and not in_flight
            if result.dirty_end and not last:
                for _, _, pending in in_flight:
                    pending.cancel()
                self.stats.serial_tail = True
                yield self._tail(chunk)
                return
            yield result

    def _submit(self, chunk: Chunk, ids: list[int]) -> Any:
        try:
            return self.pool.submit(_prepare_chunk, chunk, ids, dict(self._wrapped))
        except BrokenProcessPool:
            raise PreparerStopped("a row-preparing process stopped unexpectedly") from None

    @staticmethod
    def _result(future: Any) -> ChunkResult:
        try:
            return future.result()
        except BrokenProcessPool:
            raise PreparerStopped("a row-preparing process stopped unexpectedly") from None

    def _month_make(self, month: date) -> None:
        """The month's partition and key, made here (under the source's lock), then handed over wrapped."""
        self.preparer.month_crypto(datetime(month.year, month.month, 1))
        self._wrapped[month] = keys.month_key_wrapped(month)

    def _tail(self, chunk: Chunk) -> Iterator[Any]:
        with open(self.path, "rb") as stream, file_chunk(line_offset=chunk.first_line, first=chunk.index == 0):
            stream.seek(chunk.start)
            yield from get_parser(self.fmt)(stream, tz=self.preparer.tz, columns=self.columns)


def run_chunks(*, parallel: ParallelPreparer, writer: Any, totals: Any, batch_size: int,
               on_chunk: Callable[[int, int, int], None], serial: Callable[[Iterator[Any]], None]) -> None:
    """Feed the chunks' rows to `writer` in batches of `batch_size`, their rejects to `totals`, in file
    order. `on_chunk(seen, leading_rejects, rejected_before)` runs after a chunk's rejects are counted (run.py's refusal
    of a file that holds no CDR, and progress); `serial(items)` prepares a tail that could not be cut."""
    pending: list[tuple] = []
    for result in parallel.results():
        if not isinstance(result, ChunkResult):
            if pending:
                writer.submit(pending)
                pending = []
            serial(result)
            return
        rejected_before = totals.rejected_total
        for line, reason in result.rejects:
            totals.reject(line, reason)
        on_chunk(result.seen, result.leading_rejects, rejected_before)
        pending.extend(result.rows)
        while len(pending) >= batch_size:
            writer.submit(pending[:batch_size])
            pending = pending[batch_size:]
    if pending:
        writer.submit(pending)

