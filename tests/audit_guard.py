"""LEGAL.md section 5 row 21: every read of call records in the test suite leaves an audit entry carrying a purpose.

`_call_reads_are_audited` (an autouse fixture, tests/conftest.py) watches the SQL of every database test
(django.db.connection.execute_wrapper) and notes each SELECT that reads call records (traffic_cdr and its month
partitions, the hold table, the technical identifiers, and the prepared statements of the call history) and was
sent from application code (a frame under accounts/, traffic/, disclosures/, retention/ or voipxs/: the test's
own reads, to assert what happened, are the test's business). When the test ends there must be an audit entry
with a purpose written during it, unless every read came from a path in SYSTEM_PATHS below, each with the reason
it reads without one. A test that breaks the audit on purpose says so with `@pytest.mark.audit_guard_exempt`.
`VOIPXS_AUDIT_GUARD=off` turns the guard off (to find out whether it is the guard that fails a test)."""
from __future__ import annotations

import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = tuple(str(ROOT / app) + os.sep for app in ("accounts", "traffic", "disclosures", "retention", "voipxs"))
CALL_TABLES = re.compile(r'\b(traffic_cdr(?:_\w+)?|retention_heldcdr|traffic_cdrtechnical)\b', re.IGNORECASE)
# The call history's prepared statement (voipxs/statements.py), which PostgreSQL runs by name.
CALL_STATEMENTS = re.compile(r"\bEXECUTE\s+voipxs_own_calls_", re.IGNORECASE)
SELECT = re.compile(r"\bSELECT\b|\bEXECUTE\b", re.IGNORECASE)
# Helpers that read for whoever calls them: the caller is the path that reads.
PASS_THROUGH = ("voipxs/fetch_ahead.py", "voipxs/statements.py", "voipxs/db/", "voipxs/privacy/audit.py")

# Paths that read call records without a purpose-bearing audit entry of their own, and why that is right.
SYSTEM_PATHS = {
    "traffic/ingest/": "ingest checks what a source already stored (dedupe, its watermark) and shows nothing; every "
                       "import is recorded as a CdrImport with its counts",
    "retention/purge/": "the purge reads only to delete (storage limitation); each run leaves a PurgeRun and a "
                        "receipt per category, which are its record",
    "retention/closed_accounts.py": "the purge of closed accounts, as the purge",
    "retention/keeper.py": "erasure asks the keepers what the law still needs (counts), inside the audited erasure",
    "traffic/sections.py:calls_erase": "erasure deletes the person's calls, inside the audited erasure (dsr.erase)",
    "traffic/sections.py:_restrict_held_calls": "erasure restricts the kept copies the law still protects, inside the "
                                                "audited erasure",
    "voipxs/privacy/rotation.py": "key rotation re-encrypts values and reads no plaintext for anyone",
}


def _origin() -> str | None:
    """The innermost application frame that sent the statement, as "path:function", or None (not ours)."""
    frame = sys._getframe(2)
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


def last_entry_id() -> int:
    from voipxs.privacy.models import AuditEntry

    return AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def purposeful_entries_since(start_id: int) -> bool:
    from voipxs.privacy.models import AuditEntry

    return AuditEntry.objects.filter(pk__gt=start_id).exclude(purpose="").exists()
