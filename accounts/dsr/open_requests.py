"""The person's open data-subject requests, when their account goes: an erasure (dsr/erasure.py) or the retention
purge's anonymisation of a closed account (accounts/services/closing.py account_anonymise). Either way the free texts
went with the account (dsr/texts.py) and nobody is left to answer, and nothing of theirs is left to hand over, correct
or restrict: each open request is closed at that moment with a fixed sentence (the system's, naming no data) and an
outcome code that says what closed it, so the DPO's queue, the deadline reminders and the extension's e-mail no longer
carry it; audited each, ids and kinds only.

Also the check every step of the DPO's on a request makes first (start, extend, answer, decide): a closed request,
or one whose texts went with the account, is refused with a message, never written to."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from voipxs.exceptions import ApplicationError
from voipxs.mail import person_language
from voipxs.privacy.audit import audit_record
from voipxs.privacy.purposes import Purpose

from .models import DataSubjectRequest

NOT_OPEN = gettext_noop("This request is no longer open.")
# Open, but its texts went with the person's account (anonymised before anonymisation closed its open requests):
# answering it would write beside the erased mark, and nobody is left to read the answer.
TEXTS_ERASED = gettext_noop("What was written on this request was erased with the person's account, and nobody is "
                            "left to answer: it can no longer be started, extended, answered or decided.")
# An access or portability request has an export; the others have none.
EXPORT_KINDS = (DataSubjectRequest.Kind.ACCESS, DataSubjectRequest.Kind.PORTABILITY)


@dataclass(frozen=True)
class ClosedBy:
    """What closed the person's open requests: the sentence they read as the answer (a msgid, formatted with
    `params` in their language), the outcome code, and the audit entry's action, purpose and extra (ids only)."""

    sentence: str
    outcome: dict
    action: str
    purpose: Purpose
    params: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)


def request_actionable_check(request: DataSubjectRequest) -> None:
    """Whether the DPO may still act on `request`: open, and its texts not erased with the account. Writes nothing."""
    if not request.is_open:
        raise ApplicationError(NOT_OPEN)
    if request.texts_erased_at is not None:
        raise ApplicationError(TEXTS_ERASED)


def request_lock_open(request: DataSubjectRequest) -> DataSubjectRequest:
    """`request` locked, for a step of the DPO's on it (the caller's transaction): refused as above."""
    req = DataSubjectRequest.objects.select_for_update().get(pk=request.pk)
    request_actionable_check(req)
    return req


def open_requests_lock(*, user_id: int, exports: bool, except_id: int | None = None) -> list[DataSubjectRequest]:
    """The person's open requests (but `except_id`, the erasure's own), locked, in the order the other services
    lock: those without an export (`exports` False) before the person's row (the DPO's completion of a restriction
    locks its request, then the person's row); access and portability after their exports, which erasure_apply and
    request_texts_erase lock (an export's build holds its export, then its request)."""
    rows = (DataSubjectRequest.objects.select_for_update()
            .filter(user_id=user_id, status__in=DataSubjectRequest.OPEN_STATUSES).exclude(pk=except_id).order_by("pk"))
    return list(rows.filter(kind__in=EXPORT_KINDS) if exports else rows.exclude(kind__in=EXPORT_KINDS))


def open_requests_close(*, requests: list[DataSubjectRequest], closed_by: ClosedBy, language: str, stamp: datetime,
                        actor: Any) -> None:
    """Close the person's open requests (locked: open_requests_lock) at `stamp`, the moment their account went: the
    DPO's queue and the deadline reminders no longer carry them, and the record says what answered them."""
    with person_language(language):
        answer = _(closed_by.sentence) % closed_by.params
    for req in requests:
        req.status, req.completed_at, req.answer = DataSubjectRequest.Status.COMPLETED, stamp, answer
        req.outcome = dict(closed_by.outcome)  # its own copy: a later step may add to it
        req.extension_notice_due_at = None  # nobody is left to e-mail
        req.save(update_fields=["status", "completed_at", "answer", "outcome", "extension_notice_due_at"])
        audit_record(actor=actor, action=closed_by.action, purpose=closed_by.purpose, target_type="dsr",
                     target_id=req.pk, extra={"kind": req.kind, **closed_by.extra})
