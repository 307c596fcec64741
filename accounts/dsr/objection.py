"""GDPR art. 21(1) objections: which purposes a request may name, the DPO's decision with its balancing record, the
reply to the person, and the marker an upheld objection leaves for the selectors of that purpose.

Proportionate effect: an upheld objection stops the processing for that one purpose for this account (the account
is left out by that purpose's selectors, `objected_user_ids`; the reads of calls and invoices through
traffic.selectors.scope `objection_q`, whose docstring says why the calls and invoice of a dispute already pending
stay readable under DISPUTE); the other purposes, and the data, stay as they are.
The person's grounds are the request's `details`; the balancing record is on each Objection row; the audit log gets
purposes and outcome codes only."""
from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Iterable, Mapping

from django.db import transaction
from django.utils import translation
from django.utils.timezone import now
from django.utils.translation import gettext, gettext_noop

from voipxs.exceptions import ApplicationError
from voipxs.privacy.audit import audit_record
from voipxs.privacy.purposes import DSR_PURPOSE, PURPOSES, Purpose, objectable

from .models import DataSubjectRequest
from .objection_models import Objection
from .open_requests import request_actionable_check, request_lock_open

Outcome = Objection.Outcome
PURPOSE_REQUIRED = gettext_noop("Choose the purpose or purposes you object to.")
PURPOSE_NOT_OBJECTABLE = gettext_noop(
    "%(purpose)s: we process data for this purpose under %(basis)s, not on legitimate interests (GDPR art. "
    "6(1)(f)), so the right to object of art. 21(1) does not apply to it.")
PURPOSES_ONLY_FOR_OBJECTION = gettext_noop("Purposes are chosen only for an objection (GDPR art. 21).")
DECISION_REQUIRED = gettext_noop("Decide every purpose objected to: upheld, or rejected on compelling legitimate "
                                 "grounds or for legal claims.")
BALANCING_REQUIRED = gettext_noop("%(purpose)s: record the balancing: the legitimate interest relied on, the "
                                  "person's interests and grounds, and the outcome with its reasons.")
DECIDE_WITH_BALANCING = gettext_noop("An objection is decided with its balancing record, per purpose, on its "
                                     "decision form.")
# The reply's fixed sentences, in the person's language.
REPLY_LINE = gettext_noop("%(purpose)s: %(outcome)s. %(reasons)s")
REPLY_COMPLAINT = gettext_noop("If you disagree, you may complain to the Dutch data protection authority, the "
                               "Autoriteit Persoonsgegevens (autoriteitpersoonsgegevens.nl), or go to court.")
BALANCING_FIELDS = ("legitimate_interest", "person_interests", "reasons")
_BASIS = re.compile(r"art\. 6\(1\)\([a-f]\)(?:/\([a-f]\))?")


def objection_purposes_check(*, kind: str, purposes: Iterable[str]) -> list[str]:
    """The purposes an objection names, each one whose basis is legitimate interests (art. 6(1)(f)); refused,
    naming the purpose and its basis, for any other. Other kinds name none. Writes nothing."""
    chosen = list(dict.fromkeys(p for p in purposes or () if p))
    if kind != DataSubjectRequest.Kind.OBJECTION:
        if chosen:
            raise ApplicationError(PURPOSES_ONLY_FOR_OBJECTION, extra={"field": "purposes"})
        return []
    if not chosen:
        raise ApplicationError(PURPOSE_REQUIRED, extra={"field": "purposes"})
    for purpose in chosen:
        if purpose not in Purpose.values:
            raise ApplicationError(PURPOSE_REQUIRED, extra={"field": "purposes"})
        if not objectable(purpose):
            found = _BASIS.search(PURPOSES[Purpose(purpose)].legal_basis)
            params = {"purpose": Purpose(purpose).label, "basis": f"GDPR {found.group(0) if found else 'art. 6'}"}
            raise ApplicationError.formatted(PURPOSE_NOT_OBJECTABLE, params, field="purposes")
    return chosen


def objection_rows_create(*, request: DataSubjectRequest, purposes: list[str]) -> None:
    """The pending objection of each purpose, taken in with the request (dsr/services.py _dsr_open)."""
    Objection.objects.bulk_create(Objection(request=request, user_id=request.user_id, purpose=p) for p in purposes)


def objection_decide_check(*, request: DataSubjectRequest, decisions: Mapping[str, Mapping[str, str]],
                           answer: str) -> None:
    """Whether the DPO may decide the objection `request` so, before they confirm it: still open, an answer the
    person reads, and `decisions` ({purpose: {outcome, legitimate_interest, person_interests, reasons}}) deciding
    every purpose objected to, each with its complete balancing record. Writes nothing."""
    from .services import ANSWER_REQUIRED  # lazy: services imports this module

    request_actionable_check(request)
    if request.kind != DataSubjectRequest.Kind.OBJECTION:
        raise ApplicationError(DECISION_REQUIRED)
    if not answer.strip():
        raise ApplicationError(ANSWER_REQUIRED, extra={"field": "answer"})
    for objection in request.objections.all():
        decision = decisions.get(objection.purpose) or {}
        if decision.get("outcome") not in (Outcome.UPHELD, Outcome.REJECTED_COMPELLING, Outcome.REJECTED_LEGAL_CLAIMS):
            raise ApplicationError(DECISION_REQUIRED, extra={"field": f"outcome_{objection.purpose}"})
        if not all((decision.get(name) or "").strip() for name in BALANCING_FIELDS):
            raise ApplicationError.formatted(BALANCING_REQUIRED, {"purpose": Purpose(objection.purpose).label},
                                             field=f"reasons_{objection.purpose}")


@transaction.atomic
def dsr_objection_decide(*, request: DataSubjectRequest, decisions: Mapping[str, Mapping[str, str]], answer: str,
                         actor: Any) -> DataSubjectRequest:
    """The DPO's decision on an objection (art. 21(1)): per purpose upheld, or rejected on compelling legitimate
    grounds or for legal claims, each with its balancing record. Completed when any purpose is upheld, else
    rejected; the reply adds each outcome with its reasons and the right to complain to the Autoriteit
    Persoonsgegevens to the DPO's answer. Audited per purpose with the outcome code only."""
    req = request_lock_open(request)
    objection_decide_check(request=req, decisions=decisions, answer=answer)
    moment, lines, outcomes = now(), [], {}
    decided_by = actor if getattr(actor, "pk", None) else None
    for objection in req.objections.select_for_update():
        decision = decisions[objection.purpose]
        objection.outcome, objection.decided_at, objection.decided_by = decision["outcome"], moment, decided_by
        for name in BALANCING_FIELDS:
            setattr(objection, name, decision[name].strip()[:8000])
        objection.save()
        outcomes[objection.purpose] = objection.outcome
        audit_record(actor=actor, action="dsr.objection_decide", purpose=DSR_PURPOSE, target_type="dsr",
                     target_id=req.pk, extra={"purpose": objection.purpose, "outcome": objection.outcome})
        lines.append(objection)
    upheld = Outcome.UPHELD in outcomes.values()
    req.status = DataSubjectRequest.Status.COMPLETED if upheld else DataSubjectRequest.Status.REJECTED
    req.completed_at, req.outcome = moment, {"objections": outcomes}
    req.answer = objection_reply(answer=answer, objections=lines, language=req.user.language)[:8000]
    req.save(update_fields=["status", "completed_at", "outcome", "answer"])
    audit_record(actor=actor, action="dsr.complete" if upheld else "dsr.reject", purpose=DSR_PURPOSE,
                 target_type="dsr", target_id=req.pk, extra={"kind": req.kind})
    return req


def objection_reply(*, answer: str, objections: Iterable[Objection], language: str) -> str:
    """The reply the person reads: the DPO's answer, each purpose's outcome with its reasons, and their right to
    complain to the Autoriteit Persoonsgegevens (GDPR art. 12(4), 77)."""
    with translation.override(language or "en"):
        lines = [answer.strip()]
        lines += [gettext(REPLY_LINE) % {"purpose": Purpose(o.purpose).label, "outcome": o.get_outcome_display(),
                                         "reasons": o.reasons} for o in objections]
        lines.append(gettext(REPLY_COMPLAINT))
        return "\n\n".join(lines)


def objected_user_ids(purpose: Purpose | str):
    """The accounts whose objection to `purpose` was upheld: a subquery the selectors of that purpose exclude."""
    return Objection.objects.filter(purpose=str(purpose), outcome=Outcome.UPHELD).values("user_id")


def objection_texts_erase(*, user_id: int, stamp: datetime) -> dict[str, int]:
    """GDPR art. 17: the free text of the person's objections goes with their erased or anonymised account (the
    caller, accounts/services/closing.py, holds the account's row lock and writes the audit entry with these
    counts): the balancing record on each Objection row, and on each objection request the person's grounds
    (`details`) and the reply, which quotes the reasons. What stays is the record of compliance: the purposes, each
    outcome, when and by whom it was decided (`texts_erased_at` says when the text went), the request's dates,
    status and outcome codes, and the audit entries. Texts erased before stay so."""
    rows = (Objection.objects.filter(user_id=user_id, texts_erased_at__isnull=True)
            .update(legitimate_interest="", person_interests="", reasons="", texts_erased_at=stamp))
    requests = (DataSubjectRequest.objects.filter(user_id=user_id, kind=DataSubjectRequest.Kind.OBJECTION)
                .exclude(details="", answer="").update(details="", answer=""))
    return {"objection_texts_erased": rows, "objection_requests_texts_erased": requests}
