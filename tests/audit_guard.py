"""LEGAL.md section 5 row 21: every read of call records in the test suite leaves an audit entry carrying a purpose.

`_call_reads_are_audited` (an autouse fixture, tests/conftest.py) watches the SQL of every database test
(django.db.connection.execute_wrapper) and notes each SELECT that reads call records (traffic_cdr and its month
partitions, the hold table, the technical identifiers, and the prepared statements of the call history) and was
sent from application code (a frame under accounts/, traffic/, disclosures/, retention/ or voipxs/: the test's
own reads, to assert what happened, are the test's business). When the test ends there must be an audit entry
with a purpose written during it, unless every read came from a path in SYSTEM_PATHS below, each with the reason
it reads without one. A test that breaks the audit on purpose says so with `@pytest.mark.audit_guard_exempt`.
`VOIPXS_AUDIT_GUARD=off` turns the guard off (to find out whether it is the guard that fails a test).

Tests with a live server (the browser tests of tests/e2e, the live pushes) are watched too: the server answers
each request in a thread of its own, which on PostgreSQL reads through a connection of its own, not the test's
(`ServerRequests` gives those connections the same wrapper, and waits for the requests still running before the
check). On SQLite in memory the server shares the test's connection, and so its wrapper, anyway.

The other half of row 21 ("including the purpose"): every audit entry application code writes carries a purpose,
reads and workflow events alike (a DSR taken in, a breach recorded, a number assigned, a clean-up that deleted
something). `PurposelessEntries` wraps the one function every entry is made by (voipxs.privacy.audit._entry) and
notes where each entry without a purpose came from (the innermost application frame, as for reads); the test
fails if it noted any. Entries a test writes itself are the test's business, and a refused ask for a purpose the
enum does not know records what was asked, even nothing (require_purpose, "unknown purpose")."""
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
# Helpers that read for whoever calls them: the caller is the path that reads.
PASS_THROUGH = ("voipxs/fetch_ahead.py", "voipxs/statements.py", "voipxs/db/", "voipxs/privacy/audit.py")

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


def _origin(depth: int = 2) -> str | None:
    """The innermost application frame that sent the statement (or wrote the entry), as "path:function", or None
    (not ours). `depth`: how many frames up from here the search starts."""
    frame = sys._getframe(depth)
    while frame is not None:
        filename = frame.f_code.co_filename
        if filename.startswith(APPS) and "/migrations/" not in filename:
            path = os.path.relpath(filename, ROOT)
            if not path.startswith(PASS_THROUGH):
                return f"{path}:{frame.f_code.co_name}"
        frame = frame.f_back
    return None


def exempt(origin: str) -> bool:
    return any(origin.startswith(prefix) for prefix in SYSTEM_PATHS)


class Reads:
    """The execute wrapper: the origins of the reads of call records a test's application code sent."""

    def __init__(self) -> None:
        self.origins: set[str] = set()

    def __call__(self, execute, sql, params, many, context):
        text = sql if isinstance(sql, str) else str(sql)
        # Anywhere in the statement: on PostgreSQL a read is sent with its access record (voipxs.privacy.audit).
        if SELECT.search(text) and (CALL_TABLES.search(text) or CALL_STATEMENTS.search(text)):
            origin = _origin()
            if origin is not None and not exempt(origin):
                self.origins.add(origin)
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


class PurposelessEntries:
    """The origins of the audit entries written by application code without a purpose (see the module docstring)."""

    def __init__(self) -> None:
        self.origins: set[str] = set()

    def wrap(self, make):
        """`make` is voipxs.privacy.audit._entry; the returned function stands in for it while the test runs."""
        def entry(**kwargs):
            made = make(**kwargs)
            if not made.purpose and not _asked_for_an_unknown_purpose(made):
                origin = _origin(2)  # from the frame that called this stand-in (audit_record, passed through)
                if origin is not None:
                    self.origins.add(f"{origin} ({made.action})")
            return made
        return entry

    @contextmanager
    def watching(self) -> Iterator["PurposelessEntries"]:
        from voipxs.privacy import audit

        make = audit._entry
        audit._entry = self.wrap(make)
        try:
            yield self
        finally:
            audit._entry = make
