"""Notes on calls (GDPR art. 16; LEGAL.md section 5 row 24). A customer who says a call is wrong asks for
rectification (accounts.dsr); the DPO cannot change the call, which is what the switch recorded, and attaches
what the customer states to it instead. No service edits a stored call's fields: rating fixes its price once,
invoicing and restriction mark it, the purge and erasure delete it. A note is never edited either: a correction
is another note.

Also what the purge and erasure remove with their calls, so that a note never outlives its call: the calls of a
batch (`cdr_annotations_delete`, after the calls, in their transaction), a dropped month's
(`cdr_annotations_month_drop`, in the transaction that destroys its key) and an emptied month's
(`cdr_annotations_month_forget`, before its key goes). They count, they do not audit: the purge's receipts and
audit entries say what went.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Collection, Iterable

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.timezone import now
from django.utils.translation import gettext_noop

from accounts.models import DataSubjectRequest
from voipxs.exceptions import ApplicationError
from voipxs.privacy.audit import audit_access, audit_record
from voipxs.privacy.purposes import Purpose, Role, has_role

from ..annotations.models import CdrAnnotation
from ..annotations.sealing import note_reseal_kept, note_seal, note_seal_kept
from ..keys import month_cipher
from ..models import Cdr
from ..partitions import month_bounds
from ..selectors.cdr_reader import kept_copies

NOTE_MAX_LENGTH = 2000
DPO_ONLY = "Only the data protection officer writes notes on calls."
TEXT_REQUIRED = gettext_noop("Write the note: what the customer states about this call.")
TEXT_TOO_LONG_MSGID = gettext_noop("A note is at most %(n)s characters.")
TEXT_TOO_LONG = TEXT_TOO_LONG_MSGID % {"n": NOTE_MAX_LENGTH}
CALL_NOT_FOUND = gettext_noop("There is no such call of a customer.")
CALL_NOT_THE_REQUESTERS = gettext_noop("This call is not one of the requester's calls.")
REQUEST_NOT_RECTIFICATION = gettext_noop("Only a rectification request is answered with a note on a call.")
REQUEST_NOT_OPEN = gettext_noop("This request is no longer open.")


@dataclass(frozen=True)
class _Call:
    started_at: datetime
    account_id: int | None
    kept: bool  # a copy in the hold table: its month was dropped, its key destroyed


def _call_locked(*, cdr_id: int, started_at: datetime) -> _Call | None:
    """The call, locked until the note commits (FOR NO KEY UPDATE): on PostgreSQL the row lock's table lock
    conflicts with the month drop's ACCESS EXCLUSIVE lock and the batch deletes wait for the row, so the call's
    month is never shredded, nor the call deleted, between this read and the note's commit (the note would be
    sealed under a destroyed key, or outlive its call). SQLite writes one transaction at a time anyway."""
    live = (Cdr.objects.select_for_update(no_key=True).filter(id=cdr_id, started_at=started_at)
            .values_list("started_at", "account_id").first())
    if live is not None:
        return _Call(*live, kept=False)
    copies = kept_copies()
    if copies is None:
        return None
    held = (copies.model.objects.select_for_update(no_key=True).filter(cdr_id=cdr_id, started_at=started_at)
            .values_list("started_at", "account_id").first())
    return _Call(*held, kept=True) if held is not None else None


def cdr_annotation_text_validate(text: str) -> str:
    """The note's text, stripped; refused (naming the field `text`) when empty or too long. The DPO's form asks
    it before the confirmation page, `cdr_annotate` again when it writes."""
    text = (text or "").strip()
    if not text:
        raise ApplicationError(TEXT_REQUIRED, {"field": "text"})
    if len(text) > NOTE_MAX_LENGTH:
        raise ApplicationError.formatted(TEXT_TOO_LONG_MSGID, {"n": NOTE_MAX_LENGTH}, field="text")
    return text


class _Refused(Exception):
    """A refusal of `_note_write`, raised out of its transaction so that `cdr_annotate` records it after the
    rollback: `error` is what the caller gets, `reason` the code the audit entry gets."""

    def __init__(self, reason: str, error: ApplicationError) -> None:
        super().__init__(reason)
        self.reason, self.error = reason, error


def _request_checked(dsr_request: DataSubjectRequest) -> DataSubjectRequest:
    dsr_request = DataSubjectRequest.objects.select_for_update().get(pk=dsr_request.pk)
    if dsr_request.kind != DataSubjectRequest.Kind.RECTIFICATION:
        raise _Refused("request_not_rectification", ApplicationError(REQUEST_NOT_RECTIFICATION))
    if not dsr_request.is_open:
        raise _Refused("request_not_open", ApplicationError(REQUEST_NOT_OPEN))
    return dsr_request


def cdr_annotate(*, actor: Any, cdr_id: int, started_at: datetime, text: str,
                 dsr_request: DataSubjectRequest | None = None) -> CdrAnnotation:
    """Attach `text` (what the customer states) to the call (`cdr_id`, `started_at`): DPO only. With a request
    (an open rectification request), the call must be the requester's. The call itself is not touched. Audited
    by ids; the text is in no log, no audit entry and no error.

    A refused note is a refused attempt on a call (LEGAL.md section 5 row 21): it is recorded too, by ids and
    with its reason, after the note's transaction rolled back (not atomic itself, for that reason: `_note_write`
    is). Only the text's own validation, a form error about no call, is not."""
    if not has_role(actor, Role.DPO):
        _refusal_record(actor=actor, cdr_id=cdr_id, dsr_request=dsr_request, reason="not_dpo")
        raise PermissionDenied(DPO_ONLY)
    text = cdr_annotation_text_validate(text)
    try:
        return _note_write(actor=actor, cdr_id=cdr_id, started_at=started_at, text=text, dsr_request=dsr_request)
    except _Refused as refused:
        _refusal_record(actor=actor, cdr_id=cdr_id, dsr_request=dsr_request, reason=refused.reason)
        raise refused.error from None


def _refusal_record(*, actor: Any, cdr_id: int, dsr_request: DataSubjectRequest | None, reason: str) -> None:
    # `audit_access`: in a web request it is written once the request's own transaction has ended, so that a
    # request that rolls back keeps it; elsewhere at once, in the caller's transaction.
    audit_access(actor=actor, action="cdr.annotate", purpose=Purpose.LEGAL_OBLIGATION, target_type="cdr",
                 target_id=cdr_id, outcome="refused",
                 extra={"reason": reason, "request": dsr_request.pk if dsr_request else None})


@transaction.atomic
def _note_write(*, actor: Any, cdr_id: int, started_at: datetime, text: str,
                dsr_request: DataSubjectRequest | None) -> CdrAnnotation:
    if dsr_request is not None:
        dsr_request = _request_checked(dsr_request)
    call = _call_locked(cdr_id=cdr_id, started_at=started_at)
    if call is None or call.account_id is None:
        raise _Refused("no_such_call", ApplicationError(CALL_NOT_FOUND, {"field": "call"}))
    if dsr_request is not None and call.account_id != dsr_request.user_id:
        raise _Refused("not_the_requesters", ApplicationError(CALL_NOT_THE_REQUESTERS, {"field": "call"}))
    stamp = now()
    note = CdrAnnotation(
        cdr_id=cdr_id, started_at=call.started_at, account_id=call.account_id, author=actor, dsr_request=dsr_request,
        text_enc=note_seal_kept(text, cdr_id=cdr_id) if call.kept else note_seal(text, started_at=call.started_at),
        kept_at=stamp if call.kept else None, created_at=stamp)
    note.full_clean()
    note.save(force_insert=True)
    # GDPR art. 16: the DPO records what the person stated, answering their request (a legal obligation).
    audit_record(actor=actor, action="cdr.annotate", purpose=Purpose.LEGAL_OBLIGATION, target_type="cdr",
                 target_id=cdr_id, extra={"note": note.pk, "request": dsr_request.pk if dsr_request else None})
    return note


# --- what goes with the calls --------------------------------------------------------------------------

def _month_range(month: date) -> dict[str, datetime]:
    lower, upper = month_bounds(month)
    return {"started_at__gte": lower, "started_at__lt": upper}


def cdr_annotations_delete(*, cdr_ids: Iterable[int]) -> int:
    """The notes of calls just deleted (the purge's batches, the hold table's copies, erasure). Call it after
    the calls' delete, in the same transaction: a note written meanwhile held its call's row (`cdr_annotate`),
    so the calls' delete waited for it and this delete sees it."""
    return CdrAnnotation.objects.filter(cdr_id__in=list(cdr_ids)).delete()[0]


def cdr_annotations_month_drop(*, month: date, kept_ids: Collection[int]) -> dict:
    """In the transaction that drops `month` (retention.purge.months.shred_month), before its key is destroyed:
    the notes of the calls kept in the hold table (`kept_ids`) are re-sealed under the master key (they stay
    with their call), the others are deleted. Notes are few: read whole. Returns counts."""
    notes = list(CdrAnnotation.objects.select_for_update().filter(kept_at__isnull=True, **_month_range(month)))
    stamp, kept = now(), [note for note in notes if note.cdr_id in kept_ids]
    cipher = month_cipher(month) if kept else None
    for note in kept:
        note.text_enc = note_reseal_kept(note.text_enc, cdr_id=note.cdr_id, cipher=cipher)
        note.kept_at = stamp
        note.save(update_fields=["text_enc", "kept_at"])
    gone = [note.pk for note in notes if note.cdr_id not in kept_ids]
    deleted = CdrAnnotation.objects.filter(pk__in=gone).delete()[0] if gone else 0
    return {"deleted": deleted, "kept": len(kept)}


def cdr_annotations_month_forget(*, month: date) -> int:
    """Before the key of a month the batches emptied is destroyed: notes still sealed under it (none, when each
    went with its call) would be unreadable from then on, so they go now."""
    return CdrAnnotation.objects.filter(kept_at__isnull=True, **_month_range(month)).delete()[0]
