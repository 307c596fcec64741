"""A request's own audit trail, for its page (selectors.py is at its size limit): the steps recorded for it, in
order, read under a purpose and recorded as read. The audit log holds pseudonyms and ids only; an officer of the
register is named here as the page names them elsewhere (taken in by, approved by), anyone else keeps the
pseudonym, and a scheduled job is shown as such."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from accounts.models import User
from django.utils.translation import gettext_lazy as _

from voipxs.models import AuditEntry
from voipxs.privacy.audit import actor_ref
from voipxs.privacy.purposes import Purpose, Role, require_purpose

from .models import DisclosureRequest

HISTORY_READ = "disclosure.history_read"

# Each recorded step (its audit action without "disclosure.") in the words the page uses elsewhere: a status's own
# label where the step is what gave the request that status. A step missing here keeps its key, underscores out.
STEP_LABELS = {
    "receive": _("Received"), "document_add": _("Document added"),
    "verify_authority": _("Authority verified (called back)"), "start_review": _("Legal review started"),
    "ask_clarification": _("Clarification requested"), "resume_review": _("Review resumed"),
    "narrow": _("Scope narrowed"), "approve": _("Approved"), "reject": _("Rejected"),
    "withdraw": _("Withdrawn by the authority"), "notice_decision": _("Decision on the notice to the user recorded"),
    "production_start": _("Production started"), "produce": _("Produced"), "production_failed": _("Production failed"),
    "output_check": _("Output checked"), "deliver": _("Delivered"), "close": _("Closed"),
    "package_download": _("Package downloaded"), "package_purge": _("Package deleted"),
    "hold_release": _("Legal hold released"), "escalate": _("Officers mailed: deadline near"),
    "sla_escalate": _("Officers mailed: the answer time is running out"),
    "written_order_escalate": _("Officers mailed: written order overdue"),
    "breach_flag": _("Flagged for the breach register"),
    "preservation_renew": _("Preservation renewed"), "preservation_convert": _("Converted into a production order"),
    "preservation_remind": _("Officers mailed: preservation ends soon"),
    "preservation_expire": _("Preservation ended"),
    "secrecy_reminder": _("Officers mailed: secrecy ends"),
    "notice_draft_reminder": _("Officers mailed: notice not yet sent"),
    "notice_review_reminder": _("Officers mailed: withheld notice due for review"),
    "documents": _("Documents opened"), "output_scope": _("Package contents read"),
    "scope_rows": _("Call records read for the package"), "subscribers": _("Subscriber data read"),
}


@dataclass(frozen=True)
class HistoryRow:
    at: datetime
    who: str  # an officer's name, "system:<job>", or the log's pseudonym
    step: str  # the recorded action without its "disclosure." prefix: "receive", "approve", ...
    purpose: str  # the purpose's label, or the value as recorded
    refused: bool

    @property
    def step_label(self) -> str:
        return str(STEP_LABELS.get(self.step, self.step.replace("_", " ")))


def _purpose_label(value: str) -> str:
    return str(Purpose(value).label) if value in Purpose.values else value


def disclosure_request_history(*, actor, request: DisclosureRequest, purpose: Purpose | str) -> list[HistoryRow]:
    """The audit entries of `request` (its steps and jobs), oldest first; the read itself is recorded under
    `purpose` (and refused, PermissionDenied, to whom that purpose is not granted). Reads of this history are left
    out of it: they are in the log, not steps of the request."""
    require_purpose(actor=actor, purpose=purpose, action=HISTORY_READ, target_type="disclosure_request",
                    target_id=request.pk)
    entries = (AuditEntry.objects.filter(target_type="disclosure_request", target_id=str(request.pk),
                                         action__startswith="disclosure.")
               .exclude(action=HISTORY_READ).order_by("created_at", "pk"))
    officers = {actor_ref(u): str(u) for u in User.objects.filter(groups__name=Role.LEGAL_OFFICER).distinct()}
    return [HistoryRow(at=e.created_at, who=officers.get(e.actor, e.actor),
                       step=e.action.removeprefix("disclosure."), purpose=_purpose_label(e.purpose),
                       refused=e.outcome == AuditEntry.Outcome.REFUSED) for e in entries]
