"""The clocks the law runs on a request, and what happens when they run out (beat, tasks.py).

- The answer time of an e-Evidence production order (bases.py: EPOC 10 days, 8 hours in an
  emergency), and any emergency request's deadline: the legal officers are e-mailed at 50 %, 80 % and
  100 % of the time between intake and the deadline, once per stage (LEGAL.md 4.1 item 6, row 17).
- The written order of an emergency request: due DISCLOSURE_WRITTEN_ORDER_DAYS after intake (Sv
  126ni(3): an oral order is confirmed in writing within 3 days). Late, the legal officers and the
  DPO are told once; a request delivered without it is flagged for the breach register: data handed
  over on an order that never came is an unlawful disclosure (Tw 11.3a), which the DPO must assess.

Each job takes `now` (tests freeze the clock by passing it), marks what it did on the row under its
lock, audits by pk, and mails ids and times only.
"""
from __future__ import annotations

import logging
from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils.timezone import now as tz_now
from django.utils.translation import gettext, ngettext

from accounts.dsr.breaches import breach_incident_create
from accounts.services.roles import staff_role_mail
from voipxs.mail import mail_datetime
from voipxs.privacy.purposes import Role

from ..bases import BASES
from ..models import OPEN_STATUSES, DisclosureRequest, SlaStage, Status
from .checks import officers_mail, request_audit

logger = logging.getLogger(__name__)
_STAGE_RANK = {SlaStage.NONE: 0, SlaStage.HALF: 1, SlaStage.EIGHTY: 2, SlaStage.OVERDUE: 3}
SLA_BASES = frozenset(code for code, basis in BASES.items() if basis.answer_hours is not None)


def sla_stage_at(*, received_at: datetime, due: datetime, moment: datetime) -> str:
    """The stage reached at `moment` of the time from intake to the deadline."""
    total = (due - received_at).total_seconds()
    used = (moment - received_at).total_seconds() / total if total > 0 else 1.0
    if used >= 1:
        return SlaStage.OVERDUE
    if used >= 0.8:
        return SlaStage.EIGHTY
    if used >= 0.5:
        return SlaStage.HALF
    return SlaStage.NONE


def disclosure_sla_escalate(*, now: datetime | None = None, actor=None) -> int:
    """E-mail the legal officers about e-Evidence and emergency requests that reached a further stage of
    their answer time (50 / 80 / 100 %); once per stage. Returns how many requests moved on."""
    moment = now or tz_now()
    candidates = (DisclosureRequest.objects.filter(status__in=OPEN_STATUSES - {Status.DELIVERED})
                  .filter(Q(legal_basis__in=SLA_BASES) | Q(emergency=True)).order_by("deadline", "pk"))
    with transaction.atomic():
        moved = []
        for req in candidates.select_for_update():
            stage = sla_stage_at(received_at=req.received_at, due=req.deadline, moment=moment)
            if _STAGE_RANK[stage] > _STAGE_RANK[req.sla_stage]:
                moved.append((req, stage))
        if not moved or not officers_mail(lambda: _sla_mail(moved), count=len(moved), what="answer-time"):
            return 0
        for req, stage in moved:
            req.sla_stage = stage
            req.save(update_fields=["sla_stage"])
            request_audit(actor=actor, action="sla_escalate", req=req, stage=stage)
    return len(moved)


def _sla_mail(moved: list[tuple[DisclosureRequest, str]]) -> tuple[str, str]:
    """The legal officers' mail about requests further on their answer time, in the active language."""
    subject = ngettext("[VoIPXS] %(count)d request on a statutory clock",
                       "[VoIPXS] %(count)d requests on a statutory clock", len(moved)) % {"count": len(moved)}
    lines = [(gettext("Disclosure request #%(number)s (%(basis)s, emergency): %(stage)s; due %(due)s.")
              if req.emergency else gettext("Disclosure request #%(number)s (%(basis)s): %(stage)s; due %(due)s."))
             % {"number": req.pk, "basis": req.legal_basis, "stage": SlaStage(stage).label,
                "due": mail_datetime(req.deadline)} for req, stage in moved]
    return subject, "\n".join(lines)


def _written_orders_mail(escalated: list[DisclosureRequest], flagged: list[DisclosureRequest]) -> tuple[str, str]:
    """The legal officers' and DPO's mail about written orders overdue, in the active language."""
    lines = [(gettext("Emergency request #%(number)s: the written order was due %(due)s and is not on file.")
              if r.emergency else
              gettext("Orally ordered request #%(number)s: the written order was due %(due)s and is not on file."))
             % {"number": r.pk, "due": mail_datetime(r.written_order_due_at)} for r in escalated]
    lines += [(gettext("Emergency request #%(number)s was delivered without it: breach register entry #%(entry)s.")
               if r.emergency else
               gettext("Orally ordered request #%(number)s was delivered without it: breach register entry "
                       "#%(entry)s.")) % {"number": r.pk, "entry": r.breach_incident_id} for r in flagged]
    return gettext("[VoIPXS] Disclosures without their written order"), "\n".join(lines)


def _how(req: DisclosureRequest) -> str:
    """Why a request waits for its written order, for the breach register (the officers' mail has its own
    wording per language)."""
    return "Emergency" if req.emergency else "Orally ordered"


def _written_order_late(moment: datetime):
    return DisclosureRequest.objects.filter(Q(emergency=True) | Q(oral_order=True), written_order_at__isnull=True,
                                            written_order_due_at__lte=moment)


def written_order_breach_flag(*, req: DisclosureRequest, moment: datetime, actor) -> bool:
    """Flag `req` (locked by the caller) for the breach register if it was delivered and its written order
    is overdue: an open incident the DPO assesses (notify the AP within 24 hours, or record why not)."""
    if not ((req.emergency or req.oral_order) and req.written_order_at is None and req.delivered_at is not None
            and req.written_order_due_at is not None and moment >= req.written_order_due_at
            and req.breach_flagged_at is None):
        return False
    incident = breach_incident_create(
        title=f"{_how(req)} disclosure #{req.pk} delivered without its written order",
        detected_at=min(moment, tz_now()),  # a breach register entry is never dated in the future
        scope=(f"Disclosure request #{req.pk} ({req.legal_basis}) was handed over "
               f"{'in an emergency' if req.emergency else 'on an oral order'} on "
               f"{req.delivered_at:%Y-%m-%d %H:%M} UTC; the written order due {req.written_order_due_at:%Y-%m-%d %H:%M} "
               f"UTC is not on file. Targets: {req.target_count}. Assess whether this disclosure was unlawful."),
        telecom_service=True, affected_count=req.target_count, actor=actor)
    req.breach_flagged_at, req.breach_incident = moment, incident
    req.save(update_fields=["breach_flagged_at", "breach_incident"])
    request_audit(actor=actor, action="breach_flag", req=req, breach=incident.pk)
    return True


def disclosure_written_orders_escalate(*, now: datetime | None = None, actor=None) -> dict:
    """Emergency and orally ordered requests whose written order is overdue: tell the legal officers and the DPO
    once, and flag those already delivered for the breach register. Returns the counts.

    The late rows stay locked while the mail goes out, and an escalation is recorded only once someone was mailed:
    a send that fails undoes the run (flags included, so the next run mails them too), and with nobody to mail the
    requests stay unescalated for the next run (hourly), as the deadline reminders do."""
    moment = now or tz_now()
    late = _written_order_late(moment).exclude(status__in=[Status.REJECTED, Status.WITHDRAWN]).order_by("pk")
    with transaction.atomic():
        reqs = list(late.select_for_update(of=("self",)))
        escalated = [req for req in reqs if req.written_order_escalated_at is None]
        flagged = [req for req in reqs if written_order_breach_flag(req=req, moment=moment, actor=actor)]
        if not (escalated or flagged):
            return {"escalated": 0, "flagged": 0}
        sent = sum(staff_role_mail(role=role, compose=lambda: _written_orders_mail(escalated, flagged))
                   for role in (Role.LEGAL_OFFICER, Role.DPO))
        if not sent:
            logger.warning("no active legal officer or DPO with an e-mail address: %d late written order(s) not "
                           "escalated; the next run tries again", len(escalated))
            escalated = []
        for req in escalated:
            req.written_order_escalated_at = moment
            req.save(update_fields=["written_order_escalated_at"])
            request_audit(actor=actor, action="written_order_escalate", req=req)
    return {"escalated": len(escalated), "flagged": len(flagged)}
