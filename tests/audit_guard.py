"""LEGAL.md section 5 row 21: every read of call records in the test suite leaves an audit entry carrying a purpose.

`_call_reads_are_audited` (an autouse fixture, tests/conftest.py) watches the SQL of every database test
(django.db.connection.execute_wrapper) and notes each SELECT that reads call records (traffic_cdr and its month
partitions, the hold table, the technical identifiers, and the prepared statements of the call history) and was
sent from application code (a frame under accounts/, traffic/, disclosures/, retention/ or voipxs/: the test's
own reads, to assert what happened, are the test's business), with the application modules on its call path. When
the test ends each of those reads must be tied to an audit entry with a purpose that application code wrote during
the test, unless it came from a path in SYSTEM_PATHS below, each with the reason it reads without one (and the
audit log must hold at least one entry with a purpose written during the test: a noted entry may have been rolled
back).
A test that breaks the audit on purpose says so with `@pytest.mark.audit_guard_exempt`.

Which entry covers which read (`untied`): the read and the entry must be on one call path, one module calling the
other. Either the module that wrote the entry is on the read's path (a selector asks `require_purpose` and then
reads, itself or through a reader it calls: traffic.selectors.calls.cdr_list and the CDR reader, a service that
reads what it changes and records it), or the module that sent the read is on the entry's path (it read before
or after it called the writer: a view that evaluates the queryset a selector it called has audited, the purge's
run (retention/purge/run.py) that records the run's purpose when it finishes, after its steps read). The module,
not the function: a selector's purpose check and its reads are often in helpers of one module. Not the package:
one audited selector of traffic/selectors/ does not vouch for an unaudited read of another. One refinement, listed
in RECORDED_BY_RUN with the module that records and why: the retention purge reads in its steps (helpers of
retention/purge/ and the registered purgers, called by retention/purge/run.py) and records once, for the whole run,
when it ends or fails (retention/purge/runs.py); its reads and that entry share only their caller, run.py, so a
read from those paths is tied to an entry with a purpose of that module written during the test. Why no weaker rule:
every service event carries a purpose now, so "some entry with a purpose in the test" was met by any test that
created a user (its fixtures do), however its calls were read. What stays open: a module that calls a service (whose
event has a purpose) and reads call records itself without asking for a purpose is still let through; so is a read
sent while a response renders after its view (Django's admin pages: the innermost application frame is then a
middleware, which is on the path of every entry of the request).
`VOIPXS_AUDIT_GUARD=off` turns the guard off (to find out whether it is the guard that fails a test).

Tests with a live server (the browser tests of tests/e2e, the live pushes) are watched too: the server answers
each request in a thread of its own, which on PostgreSQL reads through a connection of its own, not the test's
(`ServerRequests` gives those connections the same wrapper, and waits for the requests still running before the
check). On SQLite in memory the server shares the test's connection, and so its wrapper, anyway.

The other half of row 21 ("including the purpose"): every audit entry application code writes carries a purpose,
reads and workflow events alike (a DSR taken in, a breach recorded, a number assigned, a clean-up that deleted
something). `Entries` wraps the one function every entry is made by (voipxs.privacy.audit._entry) and notes
where each entry came from (the innermost application frame, as for reads, and the modules on its path); the test
fails if one without a purpose was among them. Entries a test writes itself are the test's business, and a refused
ask for a purpose the enum does not know records what was asked, even nothing (require_purpose, "unknown
purpose")."""
from __future__ import annotations

import os
import re
import sys
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parent.parent
APPS = tuple(str(ROOT / app) + os.sep for app in ("accounts", "traffic", "disclosures", "retention", "voipxs"))
CALL_TABLES = re.compile(r'\b(traffic_cdr(?:_\w+)?|retention_heldcdr|traffic_cdrtechnical)\b', re.IGNORECASE)
# The call history's prepared statement (voipxs/statements.py), which PostgreSQL runs by name.
CALL_STATEMENTS = re.compile(r"\bEXECUTE\s+voipxs_own_calls_", re.IGNORECASE)
SELECT = re.compile(r"\bSELECT\b|\bEXECUTE\b", re.IGNORECASE)
# Helpers that read (or record) for whoever calls them: the caller is the path that reads (or records). The purpose
# check (voipxs/privacy/purposes.py) records the access for the selector that asks; the purge's batches
# (retention/purge/chunks.py) read with the `select()` of the step that calls them.
PASS_THROUGH = ("voipxs/fetch_ahead.py", "voipxs/statements.py", "voipxs/db/", "voipxs/privacy/audit.py",
                "voipxs/privacy/purposes.py", "retention/purge/chunks.py")

# Paths that read call records without a purpose-bearing audit entry of their own, and why that is right. The
# retention purge (retention/purge/, the closed accounts' purge), erasure's calls section and key rotation are
# listed no more: each now records the purpose it serves (voipxs.privacy.purposes.RETENTION_PURPOSE,
# ERASURE_PURPOSE, KEY_ROTATION_PURPOSE), so the guard holds them to it like any selector.
SYSTEM_PATHS = {
    "traffic/ingest/": "ingest checks what a source already stored (dedupe, its watermark) and shows nothing; every "
                       "import is recorded as a CdrImport with its counts",
    "retention/keeper.py": "the keepers count what the law still needs (counts, shown to no one) for erasure "
                           "(dsr.erase) and the closed accounts' purge (account.anonymise), which record their "
                           "purpose; the keeper's own tests ask it alone",
}

# Paths whose reads are recorded by another module, once for the run they are part of: path -> (module, why).
RECORDED_BY_RUN = {
    "retention/purge/": ("retention/purge/runs.py", "each purge run records its purpose (RETENTION_PURPOSE) and "
                         "counts when it ends or fails (run_finish, run_fail), after the steps that read"),
    "retention/closed_accounts.py": ("retention/purge/runs.py", "the closed accounts' purge is a purger the run "
                                     "calls (step_registered_purgers), recorded with the run"),
}


def _path(depth: int = 2) -> list[tuple[str, str]]:
    """The application frames on the stack, innermost first, as (path, function); pass-through paths and migrations
    left out. `depth`: how many frames up from here the search starts."""
    frames, frame = [], sys._getframe(depth)
    while frame is not None:
        filename = frame.f_code.co_filename
        if filename.startswith(APPS) and "/migrations/" not in filename:
            path = os.path.relpath(filename, ROOT)
            if not path.startswith(PASS_THROUGH):
                frames.append((path, frame.f_code.co_name))
        frame = frame.f_back
    return frames


def _origin(depth: int = 2) -> str | None:
    """The innermost application frame that sent the statement (or wrote the entry), as "path:function", or None
    (not ours). `depth`: how many frames up from here the search starts."""
    frames = _path(depth + 1)
    return f"{frames[0][0]}:{frames[0][1]}" if frames else None


def exempt(origin: str) -> bool:
    return any(origin.startswith(prefix) for prefix in SYSTEM_PATHS)


class Reads:
    """The execute wrapper: the origins of the reads of call records a test's application code sent, and for each
    the modules on the call paths it was sent from (`paths`)."""

    def __init__(self) -> None:
        self.origins: set[str] = set()
        self.paths: dict[str, set[str]] = {}

    def __call__(self, execute, sql, params, many, context):
        text = sql if isinstance(sql, str) else str(sql)
        # Anywhere in the statement: on PostgreSQL a read is sent with its access record (voipxs.privacy.audit).
        if SELECT.search(text) and (CALL_TABLES.search(text) or CALL_STATEMENTS.search(text)):
            frames = _path()
            origin = f"{frames[0][0]}:{frames[0][1]}" if frames else None
            if origin is not None and not exempt(origin):
                self.origins.add(origin)
                self.paths.setdefault(origin, set()).update(path for path, _ in frames)
        return execute(sql, params, many, context)


class ServerRequests:
    """The live server's requests, watched by `reads` while the guard is on: from a request's start to its end
    (Django's `request_started` and `request_finished`, both sent in the thread that serves it; the end comes after
    a streamed body's last byte), that thread's connections carry `reads` too. The test's own thread (the test
    client's requests) has it already. `wait_idle` waits for the requests that are still running: a page's access
    records are written when its view ends, so a read whose request is still running at the test's end has not had
    the time to leave its entry. The late requests of an earlier test (one that began before this guard) are not
    this test's: they are neither watched nor waited for."""

    IDLE_TIMEOUT = 10.0  # seconds; a live-server request of the suite takes well under one

    def __init__(self, reads: Reads) -> None:
        self.reads = reads
        self._test_thread = threading.get_ident()
        self._running: dict[int, list] = {}  # serving thread -> the connections given `reads` for its request
        self._changed = threading.Condition()
        self._uid = f"audit_guard_server_requests_{id(self)}"

    def _started(self, **kwargs) -> None:
        if threading.get_ident() == self._test_thread:
            return
        from django.db import connections

        added = []
        for alias in connections:
            wrapper = connections[alias]  # this thread's own (PostgreSQL), or the test's shared one (SQLite)
            if self.reads not in wrapper.execute_wrappers:
                wrapper.execute_wrappers.append(self.reads)
                added.append(wrapper)
        with self._changed:
            self._running[threading.get_ident()] = added

    def _finished(self, **kwargs) -> None:
        with self._changed:
            added = self._running.pop(threading.get_ident(), None)
            self._changed.notify_all()
        for wrapper in added or ():
            if self.reads in wrapper.execute_wrappers:
                wrapper.execute_wrappers.remove(self.reads)

    def running(self) -> int:
        with self._changed:
            return len(self._running)

    def wait_idle(self, timeout: float | None = None) -> bool:
        """True once no watched request is running; False if some still are after `timeout` seconds."""
        with self._changed:
            return self._changed.wait_for(lambda: not self._running,
                                          self.IDLE_TIMEOUT if timeout is None else timeout)

    @contextmanager
    def watching(self) -> Iterator["ServerRequests"]:
        from django.core.signals import request_finished, request_started

        request_started.connect(self._started, weak=False, dispatch_uid=self._uid)
        request_finished.connect(self._finished, weak=False, dispatch_uid=self._uid)
        try:
            yield self
        finally:
            request_started.disconnect(dispatch_uid=self._uid)
            request_finished.disconnect(dispatch_uid=self._uid)
            with self._changed:
                left, self._running = self._running, {}
            for added in left.values():  # requests that outlived the wait: unwatched from here on
                for wrapper in added:
                    if self.reads in wrapper.execute_wrappers:
                        wrapper.execute_wrappers.remove(self.reads)


def last_entry_id() -> int:
    from voipxs.privacy.models import AuditEntry

    return AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def purposeful_entries_since(start_id: int) -> bool:
    from voipxs.privacy.models import AuditEntry

    return AuditEntry.objects.filter(pk__gt=start_id).exclude(purpose="").exists()


def _asked_for_an_unknown_purpose(entry) -> bool:
    return entry.outcome == "refused" and (entry.extra or {}).get("reason") == "unknown purpose"


class Entries:
    """The audit entries application code wrote while the test ran: the origins of those without a purpose
    (`purposeless`), and the call paths of those with one (`purposeful`: the writing module first, then the modules
    on its path), for `untied`."""

    def __init__(self) -> None:
        self.purposeless: set[str] = set()
        self.purposeful: set[tuple[str, frozenset[str]]] = set()

    def wrap(self, make):
        """`make` is voipxs.privacy.audit._entry; the returned function stands in for it while the test runs."""
        def entry(**kwargs):
            made = make(**kwargs)
            frames = _path(2)  # from the frame that called this stand-in (audit_record, passed through)
            if frames and made.purpose:
                self.purposeful.add((frames[0][0], frozenset(path for path, _ in frames)))
            elif frames and not _asked_for_an_unknown_purpose(made):
                self.purposeless.add(f"{frames[0][0]}:{frames[0][1]} ({made.action})")
            return made
        return entry

    @contextmanager
    def watching(self) -> Iterator["Entries"]:
        from voipxs.privacy import audit

        make = audit._entry
        audit._entry = self.wrap(make)
        try:
            yield self
        finally:
            audit._entry = make


def untied(reads: Reads, entries: Entries) -> list[str]:
    """The origins of the reads no entry with a purpose is tied to: neither written by a module on the read's path,
    nor on a path that passes through the module that read, nor (RECORDED_BY_RUN) by the module that records the
    run the read is part of (see the module docstring)."""
    def tied(origin: str, path: set[str], writer: str, on_path: frozenset[str]) -> bool:
        reader = origin.split(":")[0]
        return (writer in path or reader in on_path
                or any(reader.startswith(prefix) and writer == recorder
                       for prefix, (recorder, _) in RECORDED_BY_RUN.items()))

    return sorted(origin for origin, path in reads.paths.items()
                  if not any(tied(origin, path, writer, on_path) for writer, on_path in entries.purposeful))


def unaudited_reads(reads: Reads, entries: Entries, start_id: int) -> str:
    """Why the test's reads of call records are not audited, or "" if they are."""
    if not reads.origins:
        return ""
    if not purposeful_entries_since(start_id):
        return f"call records were read without an audit entry carrying a purpose, by {sorted(reads.origins)}"
    if loose := untied(reads, entries):
        return (f"call records were read by {loose} without an audit entry carrying a purpose on their call path "
                f"(entries with a purpose came from {sorted({writer for writer, _ in entries.purposeful})})")
    return ""
