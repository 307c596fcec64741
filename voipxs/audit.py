"""The audit log: append freely, seal into a hash chain in batches, verify end to end.

Why two steps: a single chain head that every request had to lock would serialise all page views.
Requests only INSERT (no lock). The sealer (beat, every 10 s, and before each verification) takes
one lock, reads the committed unsealed entries in id order and gives each the next `seq` and
entry_hash = HMAC(chain key, prev_hash | canonical content | seq). An entry that commits late simply
gets a later seq. Transparency logs (RFC 6962) work the same way.

Read access records made during a web request are deferred to `AuditAccessMiddleware`, which
writes them after the view's transaction has ended: a refused read raises PermissionDenied, which
rolls the request's transaction back, and the refusal must be recorded all the same.
"""
from __future__ import annotations

import contextvars
import hashlib
import hmac
import json
import logging
from dataclasses import dataclass
from typing import Any, Callable, Iterator

from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse

from . import crypto
from .models import AuditEntry
from .purposes import SystemActor

logger = logging.getLogger(__name__)

_deferred: contextvars.ContextVar[list[AuditEntry] | None] = contextvars.ContextVar("audit_deferred", default=None)

GENESIS = "0" * 64
SEAL_LOCK_ID = 7_300_001  # pg_advisory_xact_lock key of the sealer


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
                with transaction.atomic():
                    if connection.vendor == "postgresql":
                        # Read-access records only (service events commit durably with their
                        # change): an asynchronous commit spares every page an fsync. PostgreSQL
                        # stays consistent; a crash of the database server itself could lose the
                        # last fraction of a second of access records, never a chain link.
                        with connection.cursor() as cursor:
                            cursor.execute("SET LOCAL synchronous_commit TO OFF")
                    AuditEntry.objects.bulk_create(pending)


# --- the chain -----------------------------------------------------------------------------------------

def _canonical(entry: AuditEntry) -> bytes:
    created = entry.created_at.isoformat(timespec="microseconds")
    body = [entry.pk, entry.seq, created, entry.actor, entry.action, entry.purpose,
            entry.target_type, entry.target_id, entry.outcome, entry.extra]
    return json.dumps(body, sort_keys=True, separators=(",", ":"), default=str).encode()


def entry_digest(entry: AuditEntry, prev_hash: str) -> str:
    return hmac.new(crypto.audit_chain_key(), prev_hash.encode() + b"|" + _canonical(entry), hashlib.sha256).hexdigest()


@transaction.atomic
def audit_seal(*, batch_size: int = 5000) -> int:
    """Link committed, unsealed entries into the chain. Returns how many were sealed."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SEAL_LOCK_ID])
    last = AuditEntry.objects.filter(seq__isnull=False).order_by("-seq").only("seq", "entry_hash").first()
    seq, prev = (last.seq, last.entry_hash) if last else (0, GENESIS)
    entries = list(AuditEntry.objects.filter(seq__isnull=True).order_by("id")[:batch_size])
    for entry in entries:
        seq += 1
        entry.seq, entry.prev_hash = seq, prev
        entry.entry_hash = prev = entry_digest(entry, entry.prev_hash)
    if entries:
        AuditEntry.objects.bulk_update(entries, ["seq", "prev_hash", "entry_hash"], batch_size=1000)
    return len(entries)


def audit_seal_all() -> int:
    total = 0
    while n := audit_seal():
        total += n
    return total


@dataclass(frozen=True)
class ChainProblem:
    seq: int
    entry_id: int | None
    reason: str

    def __str__(self) -> str:
        where = f"entry id {self.entry_id}" if self.entry_id is not None else "no entry"
        return f"seq {self.seq} ({where}): {self.reason}"


def audit_verify(*, chunk_size: int = 5000) -> tuple[int, ChainProblem | None]:
    """Walk the chain in seq order. Returns (entries verified, first problem or None)."""
    expected_seq, prev = 1, GENESIS
    checked = 0
    for entry in _iter_sealed(chunk_size):
        if entry.seq != expected_seq:
            return checked, ChainProblem(expected_seq, None, f"missing (next present is seq {entry.seq}, entry id {entry.pk})")
        if entry.prev_hash != prev:
            return checked, ChainProblem(entry.seq, entry.pk, "does not follow the previous entry (reordered or removed before it)")
        if not hmac.compare_digest(entry_digest(entry, prev), entry.entry_hash):
            return checked, ChainProblem(entry.seq, entry.pk, "content altered (hash mismatch)")
        prev, expected_seq, checked = entry.entry_hash, expected_seq + 1, checked + 1
    return checked, None


def _iter_sealed(chunk_size: int) -> Iterator[AuditEntry]:
    last = 0
    while True:
        chunk = list(AuditEntry.objects.filter(seq__gt=last).order_by("seq")[:chunk_size])
        if not chunk:
            return
        yield from chunk
        last = chunk[-1].seq
