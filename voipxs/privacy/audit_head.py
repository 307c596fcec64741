"""The audit log's head witness: how far the hash chain had reached, remembered outside the database.

Why: the chain proves that no sealed entry was altered, reordered or removed from its middle, but not that
its newest entries are all still there. Someone with database rights could lift the append-only triggers
and delete the tail (say, the entries recording what they just did), and the shorter chain would verify.
So after every seal that advanced the chain, the sealer writes the head (seq, entry_hash, time) to one
file outside the database (AUDIT_HEAD_FILE), MAC'd under a key derived like the chain key
(crypto.audit_head_key): it cannot be forged without that key, and database rights alone do not reach
it. `audit.audit_verify` reports a chain that ends before the witnessed seq ("entries after seq N
removed") or holds another hash there ("the chain was rewritten at seq N").

- The head only moves forward. A writer replaces the file only under its lock, only with a higher seq (a
  stale sealer never replaces a newer head), and only while the database still holds the witnessed head
  (or has let it go behind a trim anchor): after a removal the sealer goes on sealing, and the witness
  keeps the evidence until someone looks.
- It is cheap: written after a seal committed (on_commit), one small file, two indexed reads.
- It holds seq, hash, times and the database's identity (vendor and name), never personal data; it is
  plain JSON, so an auditor can read it.
- It names its database (owned_file): a process on another database (a trial restore beside
  production, a test run) never writes it, and verification says plainly that it cannot use it. A
  missing file is started afresh at the next seal (a warning in the log: first run, or someone removed
  it); a file whose MAC does not verify is kept, never replaced, and reported.
- A restore brings back a chain that legitimately ends before the witness (retention.backup.run):
  it records the lost span in the log and restarts the witness here (`audit_head_restart`) when it
  restores into the database the witness follows. Into another database it leaves it alone, and
  `verify_audit_log --replace-witness` lets the restored database take it over once it replaces the other.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.utils.timezone import now

from . import crypto
from .models import AuditAnchor, AuditEntry
from .owned_file import database_identity, locked, write_atomic

logger = logging.getLogger(__name__)

FORMAT = 1
SEALER = "the sealer"


class HeadWitnessError(Exception):
    """The head witness is not there, or is not one, or its MAC does not verify."""


class HeadWitnessMissing(HeadWitnessError):
    pass


@dataclass(frozen=True)
class Head:
    database: str
    seq: int  # the chain's newest sealed entry when this was written
    entry_hash: str
    recorded_at: str  # ISO time, UTC
    since_seq: int  # the witness was started (afresh, or by a restore) at this seq ...
    since: str  # ... at this time ...
    started_by: str  # ... by this: "the sealer", "backup_restore <backup>", "verify_audit_log --replace-witness"


@dataclass(frozen=True)
class HeadProblem:
    seq: int
    entry_id: int | None
    reason: str
    place: str = ""


def head_path() -> Path:
    return Path(settings.AUDIT_HEAD_FILE)


def _mac(body: dict) -> str:
    message = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    return hmac.new(crypto.audit_head_key(), message, hashlib.sha256).hexdigest()


def audit_head_read(path: Path) -> Head:
    """The witness in `path`. HeadWitnessMissing if there is none; HeadWitnessError if it does not verify."""
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise HeadWitnessMissing(f"no head witness at {path}") from exc
    except (OSError, ValueError) as exc:
        raise HeadWitnessError(f"{path} is not a head witness") from exc
    body = data.get("witness") if isinstance(data, dict) else None
    if not isinstance(body, dict) or data.get("format") != FORMAT or not isinstance(data.get("mac"), str):
        raise HeadWitnessError(f"{path} is not a head witness")
    if not hmac.compare_digest(_mac(body), data["mac"]):
        raise HeadWitnessError(f"{path} was altered or forged: its MAC does not verify")
    try:
        return Head(**body)
    except TypeError as exc:
        raise HeadWitnessError(f"{path} is not a head witness") from exc


def _write(path: Path, head: Head) -> Head:
    body = asdict(head)
    write_atomic(path, json.dumps({"format": FORMAT, "witness": body, "mac": _mac(body)}, indent=1).encode())
    return head


def chain_head() -> tuple[int, str]:
    """The newest sealed entry's seq and hash (or the trim anchor's, if everything sealed was trimmed)."""
    last = AuditEntry.objects.filter(seq__isnull=False).order_by("-seq").values_list("seq", "entry_hash").first()
    anchor = AuditAnchor.objects.order_by("-up_to_seq").values_list("up_to_seq", "entry_hash").first()
    return max([c for c in (last, anchor) if c is not None], default=(0, ""))


def _held_hash(seq: int) -> tuple[int | None, str | None]:
    """(entry id, hash) the database holds at `seq`: the entry's, or the anchor's that ends there."""
    entry = AuditEntry.objects.filter(seq=seq).values_list("pk", "entry_hash").first()
    if entry is not None:
        return entry
    return None, AuditAnchor.objects.filter(up_to_seq=seq).values_list("entry_hash", flat=True).first()


def _still_held(witness: Head) -> bool:
    _, held = _held_hash(witness.seq)
    if held is not None:
        return hmac.compare_digest(held, witness.entry_hash)
    return AuditAnchor.objects.filter(up_to_seq__gte=witness.seq).exists()  # gone behind an anchor: trimmed


def _head(seq: int, entry_hash: str, *, since: Head | None = None, started_by: str = SEALER) -> Head:
    moment = now().isoformat()
    return Head(database=database_identity(), seq=seq, entry_hash=entry_hash, recorded_at=moment,
                since_seq=since.since_seq if since else seq, since=since.since if since else moment,
                started_by=since.started_by if since else started_by)


def audit_head_record(*, path: Path | None = None) -> Head | None:
    """Move the witness forward to the chain's committed head (after a seal committed). Returns the head
    written, or None when nothing was (not ahead, another database's witness, or evidence kept)."""
    path = path or head_path()
    with locked(path):
        try:
            witness: Head | None = audit_head_read(path)
        except HeadWitnessMissing:
            witness = None
        except HeadWitnessError:
            logger.error("audit head witness %s does not verify: kept as it is (evidence), not replaced", path)
            return None
        if witness is not None and witness.database != database_identity():
            return None  # another database's witness (a trial restore, a test run): never ours to write
        seq, entry_hash = chain_head()
        if witness is None:
            if seq == 0:
                return None
            logger.warning("audit head witness %s started at seq %s (the first seal, or the file was removed)",
                           path, seq)
            return _write(path, _head(seq, entry_hash))
        if seq <= witness.seq:
            return None
        if not _still_held(witness):
            logger.error("audit chain no longer holds the witnessed head at seq %s: the witness %s is kept as "
                         "evidence; run manage.py verify_audit_log", witness.seq, path)
            return None
        return _write(path, _head(seq, entry_hash, since=witness))


def audit_head_record_after_seal() -> None:
    """`audit_head_record` for on_commit after a seal: a failure is logged loudly, the seal stands."""
    try:
        audit_head_record()
    except Exception:  # after the commit: the seal stands, the next one tries again; this must be loud
        logger.exception("audit head witness %s was NOT updated after a seal", head_path())


def audit_head_restart(*, started_by: str, path: Path | None = None) -> tuple[Head | None, Head]:
    """Start the witness afresh at the chain's current head, whatever it held: a restore into the database
    it follows, or this database taking another's place. Returns (the witness it replaced, if readable, new)."""
    path = path or head_path()
    with locked(path):
        try:
            previous: Head | None = audit_head_read(path)
        except HeadWitnessError:
            previous = None
        seq, entry_hash = chain_head()
        return previous, _write(path, _head(seq, entry_hash, started_by=started_by))


def _when(moment: str) -> str:
    return datetime.fromisoformat(moment).strftime("%Y-%m-%d %H:%M:%S UTC")


def audit_head_load(*, path: Path | None = None) -> tuple[Head | None, HeadProblem | None, str]:
    """The witness for a verification: (this database's witness or None, a problem if it does not verify,
    a notice when there is none to compare with). Read BEFORE the chain is walked, so a seal that lands
    during the walk cannot put the witness ahead of what the walk saw."""
    path = path or head_path()
    try:
        witness = audit_head_read(path)
    except HeadWitnessMissing:
        return None, None, (f"there is no head witness at {path} yet, so a removal of the newest entries "
                            "could not be detected (the sealer writes one after its next seal)")
    except HeadWitnessError as exc:
        return None, HeadProblem(0, None, f"{exc}; it is kept as evidence", place="the head witness"), ""
    if witness.database != database_identity():
        return None, None, (f"the head witness {path} belongs to the database {witness.database}, not to this one "
                            f"({database_identity()}), so a removal of the newest entries could not be detected. "
                            "If this database took that one's place (a restore under a new name), run "
                            "manage.py verify_audit_log --replace-witness")
    return witness, None, ""


def audit_head_problem(witness: Head | None, *, end_seq: int) -> HeadProblem | None:
    """How the chain, verified up to `end_seq`, falls short of the witness, if it does."""
    if witness is None:
        return None
    if witness.seq > end_seq:
        return HeadProblem(end_seq + 1, None, (
            f"entries after seq {end_seq} removed: the chain ends at seq {end_seq}, but it had reached seq "
            f"{witness.seq} on {_when(witness.recorded_at)} (head witness)"))
    entry_id, held = _held_hash(witness.seq)
    if held is not None and not hmac.compare_digest(held, witness.entry_hash):
        return HeadProblem(witness.seq, entry_id, (
            f"the chain was rewritten at seq {witness.seq}: its hash differs from the one the head witness "
            f"recorded on {_when(witness.recorded_at)}"))
    return None


def audit_head_summary(witness: Head) -> str:
    """One line for the operator: how far the witness saw the chain, and since when it watches it."""
    return (f"head witness: seq {witness.seq} on {_when(witness.recorded_at)}, watching since seq "
            f"{witness.since_seq} ({_when(witness.since)}, started by {witness.started_by})")
