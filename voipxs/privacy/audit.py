"""The audit log: append freely, seal into a hash chain in batches, verify end to end.

Why two steps: a single chain head that every request had to lock would serialise all page views.
Requests only INSERT (no lock). The sealer (beat, every 10 s, and before each verification) takes
one lock, reads the committed unsealed entries in id order and gives each the next `seq` and
entry_hash = HMAC(chain key, prev_hash | canonical content | seq). An entry that commits late simply
gets a later seq. Transparency logs (RFC 6962) work the same way.

Retention (5 years, `audit_trim`): the oldest sealed entries go behind an anchor. The anchor (an
HMAC-authenticated row naming the last removed seq and its entry_hash) is committed BEFORE anything is
deleted, and the database lets entries go only up to the highest anchor; verification starts at the
newest anchor. A crash before the anchor leaves everything; a crash after it leaves entries the next
run deletes (verification skips them meanwhile). Nothing unsealed and nothing newer than a kept entry
ever goes: the trimmed part is always a prefix of the chain.

Read access records made during a web request are deferred to `AuditAccessMiddleware`, which
writes them after the view's transaction has ended: a refused read raises PermissionDenied, which
rolls the request's transaction back, and the refusal must be recorded all the same. A read made
outside a transaction may carry them instead, in its own query string (`recorded_execute`).
"""
from __future__ import annotations

import contextvars
import functools
import hashlib
import hmac
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Callable, Iterator, Sequence

from django.db import connection, transaction
from django.db.models.sql import InsertQuery
from django.http import HttpRequest, HttpResponse

from . import crypto
from .audit_head import audit_head_load, audit_head_problem, audit_head_record_after_seal
from .models import AuditAnchor, AuditEntry
from .purposes import RETENTION_PURPOSE, SystemActor

logger = logging.getLogger(__name__)

_deferred: contextvars.ContextVar[list[AuditEntry] | None] = contextvars.ContextVar("audit_deferred", default=None)

GENESIS = "0" * 64
SEAL_LOCK_ID = 7_300_001  # pg_advisory_xact_lock key of the sealer
TRIM_ACTOR = SystemActor("audit_trim")


def actor_ref(actor: Any) -> str:
    if actor is None:
        return "system"
    if isinstance(actor, SystemActor):
        return f"system:{actor.name}"
    if isinstance(actor, str):
        return actor
    if getattr(actor, "pk", None) is None:
        return "anonymous"
    return crypto.pseudonym("user", actor.pk)


def target_ref(target_type: str, target_id: object) -> str:
    """Objects that are people (users, numbers) get pseudonyms; others keep their plain pk."""
    if target_id in ("", None):
        return ""
    if target_type in {"user", "phone_number", "account", "contractor_user"}:
        return crypto.pseudonym(target_type, target_id)
    return str(target_id)[:64]


def _entry(*, actor: Any, action: str, purpose: str = "", target_type: str = "", target_id: object = "",
           outcome: str = AuditEntry.Outcome.OK, extra: dict | None = None) -> AuditEntry:
    return AuditEntry(
        actor=actor_ref(actor),
        action=action[:64],
        purpose=str(purpose or "")[:32],
        target_type=target_type[:32],
        target_id=target_ref(target_type, target_id),
        outcome=outcome,
        extra=extra or {},
    )


def audit_record(**kwargs: Any) -> AuditEntry:
    """Record an event inside the caller's transaction (service writes: it stands or falls with them)."""
    entry = _entry(**kwargs)
    entry.save(force_insert=True)
    return entry


def audit_access(**kwargs: Any) -> AuditEntry:
    """Record a read (or a refused read). Inside a web request it is written after the view ends."""
    entry = _entry(**kwargs)
    pending = _deferred.get()
    if pending is not None:
        pending.append(entry)
    else:
        entry.save(force_insert=True)
    return entry


class AuditAccessMiddleware:
    """Writes the request's deferred access records once the view's transaction is over."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        pending: list[AuditEntry] = []
        token = _deferred.set(pending)
        try:
            return self.get_response(request)
        finally:
            _deferred.reset(token)
            if pending:
                _access_records_write(pending)


# The columns an access record is written with, and the INSERT of one record, compiled by the ORM once per
# process: the statement is the same on every page, and compiling it (bulk_create) cost more than sending
# it. Measured with bench/load.py: 0.2 ms of a page's ~6 ms of CPU, and two of its twelve round trips.
_INSERT_FIELDS = tuple(f for f in AuditEntry._meta.concrete_fields if not f.primary_key)

# Read-access records only (service events commit durably with their change): an asynchronous commit
# spares every page an fsync. PostgreSQL stays consistent; a crash of the database server itself could
# lose the last fraction of a second of access records, never a chain link.
_ASYNC_COMMIT = "SET LOCAL synchronous_commit TO OFF"


@functools.cache
def _insert_one_sql() -> str:
    query = InsertQuery(AuditEntry)
    query.insert_values(_INSERT_FIELDS, [AuditEntry()])
    return query.get_compiler(connection=connection).as_sql()[0][0]


def _insert_values(pending: list[AuditEntry]) -> list[list[Any]]:
    return [[f.get_db_prep_save(getattr(e, f.attname), connection) for f in _INSERT_FIELDS] for e in pending]


def _access_records_write(pending: list[AuditEntry]) -> None:
    """The request's access records, all or none. An error propagates: a page whose access cannot be
    recorded fails."""
    insert = _insert_one_sql()
    rows = _insert_values(pending)
    if connection.vendor == "postgresql" and connection.get_autocommit():
        # One round trip: PostgreSQL runs the statements of one query string as one transaction (all or
        # none), and SET LOCAL holds inside it.
        with connection.cursor() as cursor:
            cursor.execute("; ".join([_ASYNC_COMMIT, *[insert] * len(rows)]), [v for row in rows for v in row])
        return
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(_ASYNC_COMMIT)
        cursor.executemany(insert, rows)


def recorded_execute(cursor: Any) -> Callable[[str, Sequence], None]:
    """`cursor.execute`, for a read that sends the request's pending access records with it.

    On PostgreSQL outside a transaction (the call history's reads), the records and the read go in one
    query string, which PostgreSQL runs as one transaction: the read runs only if its records were
    written, the records stand only if the read ran, and the page saves the round trip of writing them
    after the view (bench/portal.py). Once sent they are no longer pending. Anywhere else the read runs
    alone and the records stay pending: inside a transaction, a later rollback would take them along,
    so `AuditAccessMiddleware` writes them after it, as it does a refusal's."""
    def execute(sql: str, params: Sequence) -> None:
        pending = _deferred.get()
        if not pending or cursor.db.vendor != "postgresql" or not cursor.db.get_autocommit():
            cursor.execute(sql, params)
            return
        rows = _insert_values(pending)
        # Reviewed: the INSERT is the ORM's own statement and `sql` the caller's; every value is a parameter.
        cursor.execute("; ".join([_ASYNC_COMMIT, *[_insert_one_sql()] * len(rows), sql]),
                       [*(v for row in rows for v in row), *params])
        pending.clear()
    return execute


# --- the chain -----------------------------------------------------------------------------------------

def _canonical(entry: AuditEntry) -> bytes:
    created = entry.created_at.isoformat(timespec="microseconds")
    body = [entry.pk, entry.seq, created, entry.actor, entry.action, entry.purpose,
            entry.target_type, entry.target_id, entry.outcome, entry.extra]
    return json.dumps(body, sort_keys=True, separators=(",", ":"), default=str).encode()


def entry_digest(entry: AuditEntry, prev_hash: str) -> str:
    return hmac.new(crypto.audit_chain_key(), prev_hash.encode() + b"|" + _canonical(entry), hashlib.sha256).hexdigest()


def _seal_lock() -> None:
    """Serialise chain writers (the sealer, anchor writes) until the transaction ends (PostgreSQL;
    SQLite has one writer at a time anyway)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SEAL_LOCK_ID])


@transaction.atomic
def audit_seal(*, batch_size: int = 5000) -> int:
    """Link committed, unsealed entries into the chain. Returns how many were sealed."""
    _seal_lock()
    last = AuditEntry.objects.filter(seq__isnull=False).order_by("-seq").only("seq", "entry_hash").first()
    seq, prev = (last.seq, last.entry_hash) if last else (0, GENESIS)
    anchor = audit_anchor_latest()
    if anchor is not None and anchor.up_to_seq >= seq:  # everything sealed so far has been trimmed
        seq, prev = anchor.up_to_seq, anchor.entry_hash
    entries = list(AuditEntry.objects.filter(seq__isnull=True).order_by("id")[:batch_size])
    for entry in entries:
        seq += 1
        entry.seq, entry.prev_hash = seq, prev
        entry.entry_hash = prev = entry_digest(entry, entry.prev_hash)
    if entries:
        AuditEntry.objects.bulk_update(entries, ["seq", "prev_hash", "entry_hash"], batch_size=1000)
        transaction.on_commit(audit_head_record_after_seal)  # the head, outside the database (audit_head.py)
    return len(entries)


def audit_seal_all() -> int:
    total = 0
    while n := audit_seal():
        total += n
    return total


# --- anchors and the trim (retention) -------------------------------------------------------------------

def _anchor_message(anchor: AuditAnchor) -> bytes:
    body = [anchor.up_to_seq, anchor.entry_hash, anchor.removed,
            _utc(anchor.cutoff).isoformat(timespec="microseconds"),
            _utc(anchor.created_at).isoformat(timespec="microseconds")]
    return json.dumps(body, separators=(",", ":")).encode()


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def anchor_mac(anchor: AuditAnchor) -> str:
    return hmac.new(crypto.audit_anchor_key(), _anchor_message(anchor), hashlib.sha256).hexdigest()


def audit_anchor_latest() -> AuditAnchor | None:
    """The anchor the chain starts from: the one that lets the most entries go."""
    return AuditAnchor.objects.order_by("-up_to_seq").first()


def _trim_horizon(before: datetime) -> tuple[int, bool]:
    """The largest seq S such that every sealed entry with seq <= S was created before `before` (the
    chain's old prefix), and whether a younger sealed entry ends it. Entries commit out of order (a
    late commit gets a later seq), so this stops at the first young entry rather than taking every old one."""
    sealed = AuditEntry.objects.filter(seq__isnull=False)
    first_young = sealed.filter(created_at__gte=before).order_by("seq").values_list("seq", flat=True).first()
    if first_young is not None:
        return first_young - 1, True
    return sealed.order_by("-seq").values_list("seq", flat=True).first() or 0, False


def _trim_count(before: datetime) -> int:
    """What a trim would remove now, without sealing: the old sealed prefix (or what the current anchor
    still has to remove), and, if that prefix is all sealed entries, the unsealed ones the sealer will
    link next (in id order) up to the first young one."""
    current = audit_anchor_latest()
    horizon, ended = _trim_horizon(before)
    count = AuditEntry.objects.filter(seq__lte=max(horizon, current.up_to_seq if current else 0)).count()
    if not ended:
        unsealed = AuditEntry.objects.filter(seq__isnull=True)
        first_young = unsealed.filter(created_at__gte=before).order_by("id").values_list("id", flat=True).first()
        count += (unsealed.filter(id__lt=first_young) if first_young is not None else unsealed).count()
    return count


@transaction.atomic
def _anchor_write(*, before: datetime) -> AuditAnchor | None:
    """Authenticate the new start of the chain, if the prefix due for removal grew. Under the sealer's
    lock, so the horizon is computed on a chain nobody is extending."""
    _seal_lock()
    current = audit_anchor_latest()
    floor = current.up_to_seq if current else 0
    horizon, _ = _trim_horizon(before)
    if horizon <= floor:
        return None
    last = AuditEntry.objects.only("entry_hash").get(seq=horizon)
    anchor = AuditAnchor(up_to_seq=horizon, entry_hash=last.entry_hash, cutoff=before,
                         removed=AuditEntry.objects.filter(seq__gt=floor, seq__lte=horizon).count())
    anchor.mac = anchor_mac(anchor)
    anchor.save(force_insert=True)
    return anchor


def audit_trim(*, before: datetime, chunk_size: int = 5000, dry_run: bool = False,
               fault: Callable[[str], None] | None = None) -> dict:
    """Remove the audit log's oldest entries (created before `before`) behind an authenticated anchor.

    Seal; write an anchor for the longest chain prefix that is entirely older than `before` (if it
    reaches beyond the current anchor), commit it; then delete entries up to the anchor, `chunk_size`
    per transaction, until a batch finds nothing. Idempotent and resumable (see the module docstring).
    `fault(step)` is a test hook called inside each batch. Returns counts, never entry content.
    """
    before = _utc(before)
    if dry_run:  # count what a run would remove; write nothing (not even a seal)
        return {"deleted": _trim_count(before), "cutoff": before.isoformat(), "dry_run": True}
    audit_seal_all()
    anchor = _anchor_write(before=before)
    current = anchor or audit_anchor_latest()
    deleted = 0
    if current is not None:
        while True:
            with transaction.atomic():
                ids = list(AuditEntry.objects.filter(seq__lte=current.up_to_seq).order_by("seq")
                           .values_list("id", flat=True)[:chunk_size])
                if not ids:
                    break
                batch = AuditEntry.objects.filter(id__in=ids).delete()[0]
                if fault is not None:
                    fault("batch:audit_log")  # tests raise here: the batch's deletes roll back
            deleted += batch
            logger.info("audit trim: deleted %s entries up to seq %s", batch, current.up_to_seq)
    result = {"deleted": deleted, "up_to_seq": current.up_to_seq if current else 0, "cutoff": before.isoformat(),
              "anchored": anchor is not None}
    audit_record(actor=TRIM_ACTOR, action="audit.trim", purpose=RETENTION_PURPOSE, target_type="audit_anchor",
                 target_id=current.pk if current else "", extra=result)
    return result


# --- verification ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ChainProblem:
    seq: int
    entry_id: int | None
    reason: str
    anchor_id: int | None = None
    place: str = ""  # found in something other than an entry or an anchor (the head witness)

    def __str__(self) -> str:
        if self.place:
            return f"{self.place}: {self.reason}"
        if self.anchor_id is not None:
            where = f"anchor id {self.anchor_id}"
        else:
            where = f"entry id {self.entry_id}" if self.entry_id is not None else "no entry"
        return f"seq {self.seq} ({where}): {self.reason}"


def _anchors_problem() -> ChainProblem | None:
    """The first anchor whose MAC does not verify (forged, or edited with the triggers lifted)."""
    for anchor in AuditAnchor.objects.order_by("-up_to_seq"):
        if not hmac.compare_digest(anchor_mac(anchor), anchor.mac):
            return ChainProblem(anchor.up_to_seq, None, "anchor forged or altered (MAC mismatch)", anchor_id=anchor.pk)
    return None


def audit_verify(*, chunk_size: int = 5000) -> tuple[int, ChainProblem | None]:
    """Walk the chain in seq order from its start (GENESIS, or the newest anchor once trimmed).
    Returns (entries verified, first problem or None). Then compares the chain's end with the head
    witness (audit_head.py): newest entries removed, or the chain rewritten at the witnessed seq."""
    witness, witness_problem, _ = audit_head_load()
    if problem := _anchors_problem():
        return 0, problem
    anchor = audit_anchor_latest()
    expected_seq, prev = (anchor.up_to_seq + 1, anchor.entry_hash) if anchor else (1, GENESIS)
    checked = 0
    # Entries at or below the anchor are being trimmed (a run that died mid-way): not part of the chain.
    for entry in _iter_sealed(chunk_size, after=expected_seq - 1):
        if entry.seq != expected_seq:
            return checked, ChainProblem(expected_seq, None, f"missing (next present is seq {entry.seq}, entry id {entry.pk})")
        if entry.prev_hash != prev:
            return checked, ChainProblem(entry.seq, entry.pk, "does not follow the previous entry (reordered or removed before it)")
        if not hmac.compare_digest(entry_digest(entry, prev), entry.entry_hash):
            return checked, ChainProblem(entry.seq, entry.pk, "content altered (hash mismatch)")
        prev, expected_seq, checked = entry.entry_hash, expected_seq + 1, checked + 1
    if found := witness_problem or audit_head_problem(witness, end_seq=expected_seq - 1):
        return checked, ChainProblem(found.seq, found.entry_id, found.reason, place=found.place)
    return checked, None


def _iter_sealed(chunk_size: int, *, after: int = 0) -> Iterator[AuditEntry]:
    last = after
    while True:
        chunk = list(AuditEntry.objects.filter(seq__gt=last).order_by("seq")[:chunk_size])
        if not chunk:
            return
        yield from chunk
        last = chunk[-1].seq
