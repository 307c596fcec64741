"""Data-subject requests (GDPR art. 12-18): the workflow, restriction, and erasure's run.

Every write is a service here (one per transition, audited). The workflow walks the kernel's
registry of personal-data sections and asks its keepers what must stay, so it imports no higher app.
What erasure does to the data is dsr/erasure.py; the export file is dsr/export.py.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.core.management.color import no_style
from django.db import connection, transaction
from django.utils.timezone import now
from django.utils.translation import gettext_noop

from voipxs.exceptions import ApplicationError
from voipxs.privacy.audit import audit_record
from voipxs.privacy.purposes import DSR_PURPOSE, ERASURE_PURPOSE, SystemActor
from voipxs.queue import enqueue_after_commit

from ..models import User
from ..services.sign_in import password_reauthenticate
from .deadlines import EXTENSION_MONTHS, ReminderStage, add_months
from .erasure import Erasure, closed_by_erasure, erasure_apply
from .export import dsr_export_retry, dsr_export_stuck
from .extension_notice import extension_notice_queue
from .models import DataSubjectRequest, ExportFile
from .objection import DECIDE_WITH_BALANCING, objection_purposes_check, objection_rows_create
from .open_requests import open_requests_close, open_requests_lock, request_actionable_check, request_lock_open
from .recipients import recipient_notifications_sync
from .representative import (
    representative_open_check, representative_open_record, representative_proof_check, representative_proof_store,
)
# Restriction's marks and decision live in dsr/restriction.py; the two mark services are re-exported here.
from .restriction import (  # noqa: F401
    dsr_restriction_apply, dsr_restriction_lift, restriction_record, restriction_terms_check,
)

Kind = DataSubjectRequest.Kind
Status = DataSubjectRequest.Status

ALREADY_OPEN = gettext_noop("You already have an open request of this kind.")
# The same, when support opens the request for the customer: told to support, with the open request's number.
ALREADY_OPEN_FOR_CUSTOMER = gettext_noop("This customer already has an open request of this kind: #%(number)s.")
ACCOUNT_ERASED = gettext_noop("This account was erased: no data is left to make a request about.")
ALREADY_EXTENDED = gettext_noop("The deadline of this request was already extended once.")
EXTENSION_TOO_LATE = gettext_noop("The deadline of this request has passed: an extension had to be decided and told "
                                  "to the user before it. Answer the request now.")
REASON_REQUIRED = gettext_noop("Give the reason the user will read.")
ANSWER_REQUIRED = gettext_noop("Write the answer the user will read.")
UNKNOWN_KIND = gettext_noop("Choose one of the request types.")
ERASURE_IN_PERSON = gettext_noop("Erasure closes the account at once, so only the customer can ask for it: signed "
                                 "in, under Your privacy, with their password.")
DETAILS_REQUIRED = gettext_noop("Say what is wrong and what it should be: a correction request cannot be handled "
                                "without it.")
GROUNDS_REQUIRED = gettext_noop("Give the grounds relating to your particular situation: an objection (GDPR art. "
                                "21(1)) is weighed against them.")
# Kinds that say nothing without the person's own words (what to correct; an objection's grounds), and the refusal
# without them; the others are complete as asked.
KINDS_NEEDING_DETAILS = {Kind.RECTIFICATION: DETAILS_REQUIRED, Kind.OBJECTION: GROUNDS_REQUIRED}
# A request made through a representative (support records it). Marked for translation; the page translates them.
REPRESENTATIVE_KIND_INVALID = gettext_noop("Made by: choose the kind of representative.")
REPRESENTATIVE_WITHOUT_KIND = gettext_noop("Made by: choose the kind of representative, or leave the representative's "
                                           "name and the proof check empty for a request the customer made "
                                           "themselves.")
REPRESENTATIVE_NAME_REQUIRED = gettext_noop("Representative's name: give the name of the person who made the request "
                                            "for the customer.")
REPRESENTATIVE_NAME_TOO_LONG = gettext_noop("Representative's name: at most 200 characters.")
REPRESENTATIVE_PROOF_REQUIRED = gettext_noop("Proof of authority: check the representative's proof of authority (the "
                                             "power of attorney, the proof of guardianship, the lawyer's mandate) "
                                             "before you record the request, and tick the box.")
REPRESENTATIVE_NAME_MAX = 200
# What dsr_request_create_for did, on the request it returns as `open_outcome`: opened it; sent the stuck export of
# the open one again; or that too, recording the representative on it (REPRESENTATIVE_ADDED) or the same one's
# proof (REPRESENTATIVE_SAME, dsr/representative.py).
OPENED, RESENT = "opened", "resent"
# Who erases again, after a restore, an account erased after the backup was taken (dsr_erasure_replay).
ERASURE_REPLAY_ACTOR = SystemActor("erasure_replay", frozenset({ERASURE_PURPOSE}))


# --- requests ---------------------------------------------------------------------------------------

def dsr_request_create(*, user: User, kind: str, details: str = "", password: str | None = None,
                       purposes: list[str] | tuple[str, ...] = ()) -> DataSubjectRequest:
    """A request made by the signed-in person. Erasure needs the password again (re-authentication), checked
    before the transaction so that a refusal keeps its audit entry. An objection names the purposes objected to
    (`purposes`: only those on legitimate interests, dsr/objection.py)."""
    if kind not in Kind.values:
        raise ApplicationError(UNKNOWN_KIND, extra={"field": "kind"})
    purposes = objection_purposes_check(kind=kind, purposes=purposes)
    if kind == Kind.ERASURE:
        password_reauthenticate(user=user, password=password, action="dsr.reauth_failed")
    with transaction.atomic():
        return _dsr_open(user=user, kind=kind, details=details, actor=user, purposes=purposes)


def dsr_representative_check(*, representative_kind: str = "", representative_name: str = "",
                             authority_checked: bool = False, proof: bytes | None = None) -> tuple[str, str]:
    """The rules of a request made through a representative (a lawyer, the legal guardian of a minor, someone with
    a power of attorney): the kind's code, their name, and the proof of their authority checked; the proof's file
    is optional (dsr/representative.py). All empty: the person asked themselves. Returns (kind, name) as they are
    kept. Writes nothing."""
    name = (representative_name or "").strip()
    if not representative_kind:
        if name or authority_checked or proof is not None:
            raise ApplicationError(REPRESENTATIVE_WITHOUT_KIND, extra={"field": "representative_kind"})
        return "", ""
    if representative_kind not in DataSubjectRequest.RepresentativeKind.values:
        raise ApplicationError(REPRESENTATIVE_KIND_INVALID, extra={"field": "representative_kind"})
    if not name:
        raise ApplicationError(REPRESENTATIVE_NAME_REQUIRED, extra={"field": "representative_name"})
    if len(name) > REPRESENTATIVE_NAME_MAX:
        raise ApplicationError(REPRESENTATIVE_NAME_TOO_LONG, extra={"field": "representative_name"})
    if authority_checked is not True:
        raise ApplicationError(REPRESENTATIVE_PROOF_REQUIRED, extra={"field": "authority_checked"})
    if proof is not None:
        representative_proof_check(content=proof)
    return representative_kind, name


@transaction.atomic
def dsr_request_create_for(*, user: User, kind: str, details: str = "", actor: Any, representative_kind: str = "",
                           representative_name: str = "", authority_checked: bool = False,
                           proof: bytes | None = None, purposes: list[str] | tuple[str, ...] = ()
                           ) -> DataSubjectRequest:
    """A request opened for the person by support, whom they asked (accounts/support), or whose representative
    asked: a lawyer, a legal guardian, someone with a power of attorney, after support checked their proof of
    authority (dsr_representative_check). The same rules and deadline as the person's own, and the answer goes to
    the person's account as usual. Erasure is not opened for anyone: it closes the account at once, so the person
    asks for it themselves, signed in, with their password. The representative's name is kept encrypted on the
    request, their proof of authority (optional: `proof`, the file's bytes) encrypted beside it; the audit entry
    gets the kind's code only. When the person's open request of this kind answers it, that request is returned and
    the representative recorded on it (_dsr_open_again); `open_outcome` on the request says what happened."""
    if kind not in Kind.values:
        raise ApplicationError(UNKNOWN_KIND, extra={"field": "kind"})
    if kind == Kind.ERASURE:
        raise ApplicationError(ERASURE_IN_PERSON, extra={"field": "kind"})
    purposes = objection_purposes_check(kind=kind, purposes=purposes)
    representative = dsr_representative_check(representative_kind=representative_kind,
                                              representative_name=representative_name,
                                              authority_checked=authority_checked, proof=proof)
    return _dsr_open(user=user, kind=kind, details=details, actor=actor, representative=representative, proof=proof,
                     purposes=purposes)


def _dsr_open(*, user: User, kind: str, details: str, actor: Any,
              representative: tuple[str, str] = ("", ""), proof: bytes | None = None,
              purposes: list[str] | tuple[str, ...] = ()) -> DataSubjectRequest:
    if User.objects.filter(pk=user.pk, anonymised_at__isnull=False).exists():
        raise ApplicationError(ACCOUNT_ERASED, extra={"field": "account"})  # nothing left to ask about
    already = (DataSubjectRequest.objects.select_for_update()
               .filter(user=user, kind=kind, status__in=DataSubjectRequest.OPEN_STATUSES).first())
    if already is not None:
        return _dsr_open_again(already=already, actor=actor, representative=representative, proof=proof)
    if kind in KINDS_NEEDING_DETAILS and not details.strip():
        raise ApplicationError(KINDS_NEEDING_DETAILS[kind], extra={"field": "details"})
    received = now()
    agent_kind, agent_name = representative
    req = DataSubjectRequest.objects.create(user=user, kind=kind, details=details.strip()[:4000], received_at=received,
                                            deadline=DataSubjectRequest.first_deadline(received),
                                            representative_kind=agent_kind, representative_name=agent_name or None,
                                            representative_checked_at=received if agent_kind else None)
    # The representative by the kind's code only: their name is personal data, kept encrypted on the request.
    audit_record(actor=actor, action="dsr.create", purpose=DSR_PURPOSE, target_type="dsr", target_id=req.pk,
                 extra={"kind": kind, **({"on_behalf": True} if actor is not user else {}),
                        **({"representative": agent_kind} if agent_kind else {}),
                        **({"purposes": list(purposes)} if purposes else {})})
    objection_rows_create(request=req, purposes=list(purposes))
    if proof is not None:
        representative_proof_store(request=req, content=proof, actor=actor)
    req.open_outcome = OPENED
    if kind in (Kind.ACCESS, Kind.PORTABILITY):
        export = ExportFile.objects.create(request=req, user=user)
        req.status = Status.IN_PROGRESS
        req.save(update_fields=["status"])
        from ..tasks import dsr_export_build_task  # lazy: the services-to-tasks pair (tasks import services)

        # A broker outage must not fail the stored request: the export waits pending for its reaper.
        enqueue_after_commit(dsr_export_build_task, export.pk)
    elif kind == Kind.ERASURE:
        # The person proved it is them a second ago: close the account now, so logins and tokens end at once.
        req = dsr_erasure_perform(request=req, actor=user)
    return req


def _dsr_open_again(*, already: DataSubjectRequest, actor: Any, representative: tuple[str, str],
                    proof: bytes | None) -> DataSubjectRequest:
    """Asking again for an export that is stuck (its task never arrived, or it failed) sends it again; the open
    request, with its first deadline, is the answer. A representative who asked is recorded on it, with their proof
    (dsr/representative.py: refused first, before anything is sent, when it cannot hold them). Anything else is
    refused, and first: an open request that cannot answer again is ALREADY_OPEN whoever the representative.
    `open_outcome` on the request returned says which (the support page tells it)."""
    stuck = dsr_export_stuck(request=already) if already.kind in (Kind.ACCESS, Kind.PORTABILITY) else None
    if stuck is None:
        raise _already_open(already, actor)
    outcome = representative_open_check(request=already, representative=representative, proof=proof)
    dsr_export_retry(request=already, export=stuck, actor=actor)
    representative_open_record(request=already, representative=representative, outcome=outcome, proof=proof,
                               actor=actor)
    already.open_outcome = outcome or RESENT
    return already


def _already_open(already: DataSubjectRequest, actor: Any) -> ApplicationError:
    """The refusal of a request of a kind the person has open: to the person in their words; to support, who opens
    it for them, naming the open request (its number only)."""
    if getattr(actor, "pk", None) == already.user_id:
        return ApplicationError(ALREADY_OPEN, extra={"field": "kind"})
    params = {"number": already.pk}
    return ApplicationError.formatted(ALREADY_OPEN_FOR_CUSTOMER, params, field="kind")


@transaction.atomic
def dsr_request_start(*, request: DataSubjectRequest, actor: Any) -> DataSubjectRequest:
    req = request_lock_open(request)
    if req.status == Status.RECEIVED:
        req.status = Status.IN_PROGRESS
        req.save(update_fields=["status"])
        audit_record(actor=actor, action="dsr.start", purpose=DSR_PURPOSE, target_type="dsr", target_id=req.pk)
    return req


@transaction.atomic
def dsr_request_extend(*, request: DataSubjectRequest, reason: str, actor: Any) -> DataSubjectRequest:
    """GDPR art. 12(3): once, by two further months, with a reason the user is told, within the first month."""
    req = request_lock_open(request)
    if req.extended_at is not None:
        raise ApplicationError(ALREADY_EXTENDED)
    moment = now()
    # Art. 12(3) lets the extension and its notice come only within the first month: given later, it
    # would make a request already late look on time. Not extended yet, so this is the original deadline.
    if req.deadline <= moment:
        raise ApplicationError(EXTENSION_TOO_LATE, extra={"field": "deadline"})
    if not reason.strip():
        raise ApplicationError(REASON_REQUIRED, extra={"field": "reason"})
    req.extended_at = moment
    req.extension_reason = reason.strip()[:2000]
    req.deadline = add_months(req.deadline, EXTENSION_MONTHS)
    req.reminder_stage = ReminderStage.NONE  # the new deadline gets its own "due soon" and "overdue" reminders
    req.save(update_fields=["extended_at", "extension_reason", "deadline", "reminder_stage"])
    audit_record(actor=actor, action="dsr.extend", purpose=DSR_PURPOSE, target_type="dsr", target_id=req.pk)
    extension_notice_queue(req)  # e-mailed too, not only shown on the portal: before the original deadline
    return req


def dsr_request_answer_check(*, request: DataSubjectRequest, answer: str, completing: bool, ground: str = "",
                             ends_on: date | None = None) -> None:
    """Whether the DPO may answer (complete or reject) `request` so, before they confirm it: still open, an answer
    the user will read and, completing a restriction, its terms. Writes nothing; the services check it again."""
    request_actionable_check(request)
    if request.kind == Kind.OBJECTION:  # dsr/objection.py dsr_objection_decide, with its balancing record
        raise ApplicationError(DECIDE_WITH_BALANCING)
    if not answer.strip():
        raise ApplicationError(ANSWER_REQUIRED, extra={"field": "answer"})
    if completing and request.kind == Kind.RESTRICTION:
        restriction_terms_check(ground=ground, ends_on=ends_on)


@transaction.atomic
def dsr_request_complete(*, request: DataSubjectRequest, answer: str, actor: Any, ground: str = "",
                         ends_on: date | None = None) -> DataSubjectRequest:
    """Rectification and restriction are completed by the DPO with an answer; restriction is applied here,
    with its ground (GDPR art. 18(1)) and, where the ground needs one, its last day (dsr/restriction.py)."""
    req = request_lock_open(request)
    dsr_request_answer_check(request=req, answer=answer, completing=True, ground=ground, ends_on=ends_on)
    if req.kind == Kind.RESTRICTION:
        req.outcome = dsr_restriction_apply(user=req.user, actor=actor)
        restriction = restriction_record(request=req, ground=ground, ends_on=ends_on, actor=actor)
        req.outcome.update({"restriction": restriction.pk, "ground": ground,
                            "ends_on": ends_on.isoformat() if ends_on else None})
    req.status, req.completed_at, req.answer = Status.COMPLETED, now(), answer.strip()[:8000]
    req.save(update_fields=["status", "completed_at", "answer", "outcome"])
    audit_record(actor=actor, action="dsr.complete", purpose=DSR_PURPOSE, target_type="dsr", target_id=req.pk,
                 extra={"kind": req.kind})
    recipient_notifications_sync(user_id=req.user_id, actor=actor)  # GDPR art. 19: who received the data
    return req


@transaction.atomic
def dsr_request_reject(*, request: DataSubjectRequest, answer: str, actor: Any) -> DataSubjectRequest:
    req = request_lock_open(request)
    dsr_request_answer_check(request=req, answer=answer, completing=False)
    req.status, req.completed_at, req.answer = Status.REJECTED, now(), answer.strip()[:8000]
    req.save(update_fields=["status", "completed_at", "answer"])
    audit_record(actor=actor, action="dsr.reject", purpose=DSR_PURPOSE, target_type="dsr", target_id=req.pk)
    return req


# --- erasure (GDPR art. 17) ---------------------------------------------------------------------------

@transaction.atomic
def dsr_erasure_perform(*, request: DataSubjectRequest, actor: Any) -> DataSubjectRequest:
    """Erase what may go, restrict what the law keeps (asking the registry's keepers), close the account."""
    req = request_lock_open(request)
    others = open_requests_lock(user_id=req.user_id, except_id=req.pk, exports=False)
    user = User.objects.select_for_update().get(pk=req.user_id)
    erasure = erasure_apply(user=user)
    others += open_requests_lock(user_id=user.pk, except_id=req.pk, exports=True)
    req.status, req.completed_at = Status.COMPLETED, erasure.stamp
    req.outcome, req.answer = erasure.outcome, erasure.answer
    req.save(update_fields=["status", "completed_at", "outcome", "answer"])
    _erasure_audit(erasure=erasure, user=user, actor=actor, action="dsr.erase", request=req.pk)
    recipient_notifications_sync(user_id=user.pk, actor=actor)  # GDPR art. 19: who received the data
    # The person's other open requests: nothing is left to hand over, correct or restrict.
    open_requests_close(requests=others, closed_by=closed_by_erasure(req.pk), language=user.language,
                        stamp=erasure.stamp, actor=actor)
    return req


def _erasure_audit(*, erasure: Erasure, user: User, actor: Any, action: str, **extra: Any) -> None:
    """The erasure's audit entry: the categories kept and how many representatives' names and proofs went with
    the account (dsr/representative.py); counts and ids only."""
    account = erasure.outcome["counts"]["account"]
    audit_record(actor=actor, action=action, purpose=ERASURE_PURPOSE, target_type="user", target_id=user.pk,
                 extra={**extra, "kept": [k.category for k in erasure.kept],
                        **{k: account[k] for k in ("representative_names_erased", "representative_proofs_deleted")}})


@transaction.atomic
def dsr_erasure_replay(*, account_id: int, account_created: datetime, request_id: int, received_at: datetime,
                       erased_at: datetime, backup: str) -> bool:
    """After a restore (retention/backup/erasures.py): erase again an account erased after the backup was taken,
    by the same erasure_apply, so today's keepers (holds, invoices under the tax rule, disputes) decide what stays,
    as the system (ERASURE_REPLAY_ACTOR). False, changing nothing, when this database has no such account (none
    under that id, or another one: its creation time differs) or has it erased already.

    The request's record is made again as it was: received and completed at the original times, under its own
    number. Its answer was given to the person then and is not in the backup: it is left empty, not written again
    (the person was answered once); the outcome is the replay's (what is kept now) and says it was a replay."""
    user = User.objects.select_for_update().filter(pk=account_id, date_joined=account_created).first()
    if user is None or user.anonymised_at is not None:
        return False
    # Dated at the original erasure: the account was closed, and its numbers released, then; not at the restore.
    erasure = erasure_apply(user=user, stamp=erased_at)
    outcome = {**erasure.outcome, "replayed_after_restore": {"backup": backup, "at": now().isoformat()}}
    req = DataSubjectRequest.objects.filter(pk=request_id, user=user, kind=Kind.ERASURE).first()
    if req is not None:  # its record is in the restored database (the erasure itself is not): said on it
        req.outcome = outcome
        req.save(update_fields=["outcome"])
    else:
        number = None if DataSubjectRequest.objects.filter(pk=request_id).exists() else request_id
        req = DataSubjectRequest.objects.create(
            pk=number, user=user, kind=Kind.ERASURE, status=Status.COMPLETED, received_at=received_at,
            deadline=DataSubjectRequest.first_deadline(received_at), completed_at=erased_at,
            outcome=outcome)
        with connection.cursor() as cursor:  # its number given by hand: the next request's must come after it
            for statement in connection.ops.sequence_reset_sql(no_style(), [DataSubjectRequest]):
                cursor.execute(statement)
    _erasure_audit(erasure=erasure, user=user, actor=ERASURE_REPLAY_ACTOR, action="dsr.erase_replayed", request=req.pk,
                   backup=backup, erased_at=erased_at.isoformat())
    # GDPR art. 19: the restored database lacks the recipients listed for this erasure (and any told of since the
    # backup); listed again as dsr_erasure_perform lists them, those still there left as they are.
    recipient_notifications_sync(user_id=user.pk, actor=ERASURE_REPLAY_ACTOR)
    # The requests open when the backup was taken, closed by the erasure then, are closed again, as then.
    others = [*open_requests_lock(user_id=user.pk, except_id=req.pk, exports=False),
              *open_requests_lock(user_id=user.pk, except_id=req.pk, exports=True)]
    open_requests_close(requests=others, closed_by=closed_by_erasure(req.pk), language=user.language,
                        stamp=erased_at, actor=ERASURE_REPLAY_ACTOR)
    return True
