"""The audit log checks itself: every day (beat) the chain is sealed and walked end to end
(`audit.audit_verify`), and the outcome is appended to the log as an entry of its own ("audit.verify":
entries verified, intact or where it broke; no personal data, only sequence numbers and ids). A break is
also logged as an error for the operators. The DPO page shows the newest outcome, so that a broken or
unchecked chain is seen by the people who answer for it, not only by whoever runs the command.

The check also says when there is no head witness to compare the chain's end with (audit_head.py: none
yet, or one of another database): not a break, but the removal of the newest entries would go
unnoticed, so the DPO page shows it too."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils.timezone import now

from .audit import ChainProblem, audit_record, audit_seal_all, audit_verify
from .audit_head import Head, audit_head_load, audit_head_restart
from .models import AuditEntry
from .purposes import Purpose, SystemActor

logger = logging.getLogger(__name__)

VERIFY_ACTOR = SystemActor("audit_verify")
VERIFY_ACTION = "audit.verify"
WITNESS_REPLACE_ACTION = "audit.witness_replace"
STALE_AFTER = timedelta(hours=36)  # a daily check that has not run for a day and a half


@dataclass(frozen=True)
class ChainCheck:
    checked_at: datetime
    checked: int
    intact: bool
    problem: str
    witness: str = ""  # why the chain's end could not be compared with a head witness ("" when it was)

    @property
    def stale(self) -> bool:
        return now() - self.checked_at > STALE_AFTER


def audit_chain_check(*, actor=VERIFY_ACTOR) -> tuple[int, ChainProblem | None]:
    """Seal what is pending, verify the whole chain, and record the outcome in the log itself."""
    audit_seal_all()
    checked, problem = audit_verify()
    notice = audit_head_load()[2]
    audit_record(actor=actor, action=VERIFY_ACTION, purpose=Purpose.SECURITY,
                 extra={"checked": checked, "intact": problem is None, "problem": str(problem or "")[:200],
                        "witness": notice[:400]})
    if problem is not None:
        logger.error("audit chain broken at %s (%s entries before it verified)", problem, checked)
    elif notice:
        logger.warning("audit chain intact, but not compared with a head witness: %s", notice)
    return checked, problem


def audit_head_take_over(*, actor: object) -> tuple[Head | None, Head]:
    """This database takes over the head witness (it took another's place: a restore under a new name, or
    a witness that no longer verifies was looked into). Seals first, so the witness starts at the true head,
    and records the take-over in the log with what the witness held before (ids and seqs only)."""
    audit_seal_all()
    previous, head = audit_head_restart(started_by="verify_audit_log --replace-witness")
    before = previous and {"database": previous.database, "seq": previous.seq, "recorded_at": previous.recorded_at}
    audit_record(actor=actor, action=WITNESS_REPLACE_ACTION, purpose=Purpose.SECURITY, target_type="audit_head",
                 extra={"previous": before, "seq": head.seq})
    return previous, head


def audit_chain_check_latest() -> ChainCheck | None:
    """The newest recorded check, or None if the chain was never checked."""
    entry = AuditEntry.objects.filter(action=VERIFY_ACTION).order_by("-id").first()
    if entry is None:
        return None
    extra = entry.extra or {}
    return ChainCheck(checked_at=entry.created_at, checked=int(extra.get("checked", 0)),
                      intact=bool(extra.get("intact")), problem=str(extra.get("problem", "")),
                      witness=str(extra.get("witness", "")))
