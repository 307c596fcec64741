"""A push's records → the one CDR write path, committed before the push is answered.

`push_store` parses the document with the source's parser and hands the records to the process's
committer thread, which writes everything queued meanwhile (all sources) in one transaction: one
commit (one fsync) for many pushes, and the source's advisory lock taken once for them. Each push
waits for that commit and gets its own outcome: its records are re-numbered (`line`) before the
write, so the totals' rejected and conflicting lines say whose they were.

Inside a transaction already (a test's, a caller's), the write happens in the caller's thread and
transaction instead: another connection could not see the caller's source.

The preparer (holders of our numbers, tariffs: one query each) is kept per source for
PREPARER_SECONDS, so a push costs no reload; a number that changed holder is attributed correctly
at most that long later (and re-rating corrects a price, as for an import).
"""
from __future__ import annotations

import io
import logging
import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.db import close_old_connections, connection, transaction

from voipxs.privacy.audit import audit_record
from voipxs.privacy.purposes import Purpose

from ..importers import get_parser
from ..importers.base import ImportFormatError, RowError
from ..ingest.prepare import RowPreparer
from ..ingest.run import records_write
from ..models import Source
from .body import PushRefused

logger = logging.getLogger(__name__)

PREPARER_SECONDS = 10.0
WAIT_SECONDS = 20.0  # a push not committed by then is answered 503 (the switch retries it)
# A push waits at most this long for its source's lock (a file import of the same source holds it for
# the whole import): then that source's pushes are answered 503 and retried, the other sources' go on.
LOCK_WAIT_MS = 3000
GROUP_MAX = 500  # pushes written in one transaction at most
NO_CDR = "The body holds no CDR of this source's format ({format})."
NOT_STORED = "Not stored: {reason}"
CONFLICT = ("Not stored: a different CDR with the same unique id ({unique_id}) is already stored for this "
            "source. Check the switch's CDRs; nothing was changed.")
BUSY = "The CDR store is busy; retry later."


@dataclass
class PushOutcome:
    status: int
    body: dict[str, Any]


@dataclass
class _Job:
    source: Source
    items: list[Any]
    lines: range = range(0)
    outcome: PushOutcome | None = None
    done: threading.Event = field(default_factory=threading.Event)


def push_store(*, source: Source, document: bytes) -> PushOutcome:
    """Parse and store one push (one or more CDRs). Returns only once they are committed (2xx), or
    with the reason they were not."""
    try:
        # The source's declared layout, as a file of it is read with (run.py): a cdr_custom mapping, a mod_cdr_csv
        # template, Kamailio's modparam lines (cdr_start_on_confirmed decides what is billed).
        items = list(get_parser(source.format)(io.BytesIO(document), tz=ZoneInfo(source.timezone),
                                               columns=source.columns))
    except ImportFormatError as exc:
        raise PushRefused(400, str(exc)) from None
    if not items:
        raise PushRefused(400, NO_CDR.format(format=source.format))
    if all(isinstance(item, RowError) for item in items):
        raise PushRefused(400, NOT_STORED.format(reason=items[0].reason))
    job = _Job(source=source, items=items)
    if connection.in_atomic_block:
        _write([job], cached=False)
    else:
        _committer.submit(job)
    if job.outcome is None:
        raise PushRefused(503, BUSY)
    return job.outcome


def _write(jobs: list[_Job], *, cached: bool = True) -> None:
    """Write these pushes, one transaction per source (one source's lock held at a time: no lock
    order between sources to get wrong); give each push its outcome once its transaction committed.
    `cached`: with the source's preparer of the last PREPARER_SECONDS (the committer thread)."""
    by_source: dict[int, list[_Job]] = {}
    for job in jobs:
        by_source.setdefault(job.source.pk, []).append(job)
    failed: Exception | None = None
    for source_jobs in by_source.values():
        try:
            with transaction.atomic():
                if cached and connection.vendor == "postgresql":  # the committer's own transaction
                    with connection.cursor() as cursor:
                        cursor.execute(f"SET LOCAL lock_timeout = {int(LOCK_WAIT_MS)}")
                _write_source(source_jobs, cached=cached)
        except Exception as exc:  # this source's pushes are answered 503; the others still go in
            if connection.in_atomic_block:
                raise
            failed = failed or exc
            for job in source_jobs:
                job.outcome = None
            continue
        # Committed: now (and only now) the outcomes are true.
        for job in source_jobs:
            job.outcome = job.outcome or PushOutcome(201, {"stored": True})
    if failed is not None:
        raise failed


def _write_source(jobs: list[_Job], *, cached: bool) -> None:
    source = jobs[0].source
    number, items = 0, []
    for job in jobs:
        start = number + 1
        for item in job.items:
            number += 1
            item.line = number
            items.append(item)
        job.lines = range(start, number + 1)
    totals = records_write(source=source, items=items, preparer=_preparer(source) if cached else RowPreparer(source=source))
    refused = {entry["line"]: NOT_STORED.format(reason=entry["reason"]) for entry in totals.rejected}
    refused.update({entry["line"]: CONFLICT.format(unique_id=entry["unique_id"]) for entry in totals.conflict_rows})
    conflicts = {entry["line"] for entry in totals.conflict_rows}
    warned = {entry["line"] for entry in totals.warnings}
    for job in jobs:
        mine = [line for line in job.lines if line in refused]
        if mine:
            status = 409 if mine[0] in conflicts else 422
            job.outcome = PushOutcome(status, {"error": refused[mine[0]], "refused": len(mine),
                                               "cdrs": len(job.lines)})
        elif warnings := sum(1 for line in job.lines if line in warned):  # stored, not as written (ingest.run)
            job.outcome = PushOutcome(201, {"stored": True, "warnings": warnings})
    audit_record(actor=None, action="cdr_push.store", purpose=Purpose.BILLING, target_type="cdr_source",
                 target_id=source.pk,
                 extra={"pushes": len(jobs), "imported": totals.imported, "duplicates": totals.duplicates,
                        "conflicts": totals.conflicts, "rejected": totals.rejected_total})


_preparers: dict[int, tuple[float, RowPreparer]] = {}
_preparers_lock = threading.Lock()


def _preparer(source: Source) -> RowPreparer:
    with _preparers_lock:
        hit = _preparers.get(source.pk)
    if hit is not None and hit[0] > time.monotonic():
        return hit[1]
    preparer = RowPreparer(source=source)
    with _preparers_lock:
        _preparers[source.pk] = (time.monotonic() + PREPARER_SECONDS, preparer)
    return preparer


class _Committer:
    """One thread per process that writes the queued pushes, all that are waiting, in one transaction."""

    def __init__(self) -> None:
        self.queue: queue.Queue[_Job | None] = queue.Queue()
        self.thread: threading.Thread | None = None
        self.lock = threading.Lock()

    def submit(self, job: _Job) -> None:
        with self.lock:
            if self.thread is None or not self.thread.is_alive():  # first push, or after a fork
                self.thread = threading.Thread(target=self._run, name="cdr-push-committer", daemon=True)
                self.thread.start()
        self.queue.put(job)
        job.done.wait(WAIT_SECONDS)

    def stop(self) -> None:
        """End the thread (closing its database connection) once the pushes queued before are written;
        the next push starts a new one. For tests and benchmarks that drop their database afterwards."""
        with self.lock:
            thread, self.thread = self.thread, None
        if thread is not None and thread.is_alive():
            self.queue.put(None)
            thread.join(WAIT_SECONDS)

    def _run(self) -> None:
        while True:
            first = self.queue.get()
            if first is None:
                connection.close()
                return
            jobs = [first]
            while len(jobs) < GROUP_MAX:
                try:
                    job = self.queue.get_nowait()
                except queue.Empty:
                    break
                if job is None:
                    self.queue.put(None)  # after this group
                    break
                jobs.append(job)
            try:
                close_old_connections()
                _write(jobs)
            except Exception as exc:  # the pushes not stored are answered 503 (and retried); the thread goes on
                # The class only: a database message may quote a row (writers.py does the same).
                logger.error("cdr push: a group of %d pushes was not (wholly) stored: %s", len(jobs),
                             type(exc).__name__)
                connection.close()
            finally:
                for job in jobs:
                    job.done.set()


_committer = _Committer()
push_committer_stop = _committer.stop
