"""The audit log checks itself: every day (beat) the chain is sealed and walked end to end
(`audit.audit_verify`), and the outcome is appended to the log as an entry of its own ("audit.verify":
entries verified, intact or where it broke; no personal data, only sequence numbers and ids). A break is
also logged as an error for the operators. The DPO page shows the newest outcome, so that a broken or
unchecked chain is seen by the people who answer for it, not only by whoever runs the command."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils.timezone import now

from .audit import ChainProblem, audit_record, audit_seal_all, audit_verify
from .models import AuditEntry
from .purposes import Purpose, SystemActor

logger = logging.getLogger(__name__)

VERIFY_ACTOR = SystemActor("audit_verify")
VERIFY_ACTION = "audit.verify"
STALE_AFTER = timedelta(hours=36)  # a daily check that has not run for a day and a half


@dataclass(frozen=True)
class ChainCheck:
    checked_at: datetime
    checked: int
    intact: bool
    problem: str

    @property
    def stale(self) -> bool:
        return now() - self.checked_at > STALE_AFTER


def audit_chain_check(*, actor=VERIFY_ACTOR) -> tuple[int, ChainProblem | None]:
    """Seal what is pending, verify the whole chain, and record the outcome in the log itself."""
    audit_seal_all()
    checked, problem = audit_verify()
    audit_record(actor=actor, action=VERIFY_ACTION, purpose=Purpose.SECURITY,
                 extra={"checked": checked, "intact": problem is None, "problem": str(problem or "")[:200]})
    if problem is not None:
        logger.error("audit chain broken at %s (%s entries before it verified)", problem, checked)
    return checked, problem


def audit_chain_check_latest() -> ChainCheck | None:
    """The newest recorded check, or None if the chain was never checked."""
    entry = AuditEntry.objects.filter(action=VERIFY_ACTION).order_by("-id").first()
    if entry is None:
        return None
    extra = entry.extra or {}
    return ChainCheck(checked_at=entry.created_at, checked=int(extra.get("checked", 0)),
                      intact=bool(extra.get("intact")), problem=str(extra.get("problem", "")))
