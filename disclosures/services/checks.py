"""What every write of the disclosures app shares: only legal officers write, a request is locked
before it changes, a step refuses any state but the ones it starts from, and each step is audited by
pk only (never a number, a name or an address)."""
from __future__ import annotations

import logging
from collections.abc import Callable

from django.utils.translation import gettext_noop

from accounts.services.roles import staff_role_mail
from voipxs.exceptions import ApplicationError
from voipxs.privacy.audit import audit_record
from voipxs.privacy.purposes import Role, has_role

from ..models import DisclosureRequest
from ..selectors import request_purpose

logger = logging.getLogger(__name__)

NOT_LEGAL_OFFICER = gettext_noop("Only legal officers handle disclosure requests.")
WRONG_STATE = gettext_noop("This step is not possible in the request's current state.")
NOTE_REQUIRED = gettext_noop("A note is required.")
REQUEST_NO_TARGET = gettext_noop("At least one number or account is required.")
ORDER_NOT_ON_FILE = gettext_noop("The written order is not on file: add it under “Documents”, marked as the written "
                                 "order. The data are handed over on it; only an emergency or an oral order may go "
                                 "ahead of its written order.")


def require_officer(actor) -> None:
    if not has_role(actor, Role.LEGAL_OFFICER):
        raise ApplicationError(NOT_LEGAL_OFFICER)


def request_locked(*, request: DisclosureRequest) -> DisclosureRequest:
    # Only the request's row: the authority is read, not changed (a role without UPDATE on it may still download).
    return DisclosureRequest.objects.select_for_update(of=("self",)).select_related("authority").get(pk=request.pk)


def require_state(req: DisclosureRequest, *states: str) -> None:
    if req.status not in states:
        raise ApplicationError(WRONG_STATE, extra={"field": "status", "status": req.status})


def require_written_order(req: DisclosureRequest) -> None:
    """Refuse a step that leads to a hand-over while the order it is made on is not on file (written_order_missing:
    not for an emergency or an oral order, whose order follows, nor a preservation, which hands nothing over)."""
    if req.written_order_missing:
        raise ApplicationError(ORDER_NOT_ON_FILE, extra={"field": "documents"})


def request_audit(*, actor, action: str, req: DisclosureRequest, purpose: str = "", **extra) -> None:
    """Every step of a request is recorded under the purpose the request serves (LEGAL.md row 21), unless the
    caller names another."""
    audit_record(actor=actor, action=f"disclosure.{action}", purpose=purpose or request_purpose(req),
                 target_type="disclosure_request", target_id=req.pk, extra={"status": req.status, **extra})


def request_move(*, req: DisclosureRequest, status: str, fields: list[str]) -> None:
    req.status = status
    req.save(update_fields=["status", *fields])


def officers_mail(compose: Callable[[], tuple[str, str]], *, count: int, what: str) -> int:
    """Mail the legal officers, each in their language (`compose()` gives the subject and the body); returns how
    many were mailed. None (no active officer with an address): said in the log, and the caller records nothing,
    so the next run of its job sends the reminder once an officer can be mailed."""
    sent = staff_role_mail(role=Role.LEGAL_OFFICER, compose=compose)
    if not sent:
        logger.warning("no active legal officer with an e-mail address: %d %s reminder(s) not sent; the next run "
                       "tries again", count, what)
    return sent
