"""Writes of the support desk, each audited under CUSTOMER_SUPPORT with counts and reason codes only."""
from __future__ import annotations

import re

import phonenumbers
from django.conf import settings
from django.db import models, transaction
from django.http import Http404
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.timezone import now as tz_now
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from voipxs.exceptions import ApplicationError
from voipxs.mail import mail_address, person_language, person_mail_send
from voipxs.privacy.audit import audit_record
from voipxs.privacy.phone import InvalidNumber, normalize_e164
from voipxs.privacy.purposes import Purpose, SystemActor, require_purpose
from voipxs.queue import enqueue_after_commit, resend_cutoff, tasks_resend

from ..dsr.models import DataSubjectRequest
from ..dsr.services import dsr_request_create_for
from ..backends import user_facts_forget
from ..models import User
from ..selectors import itemisation_history
from ..services.sign_in import login_attempts_forget
from ..services.users import ITEMISATION_BY_CONTRACTOR, itemisation_check, user_itemisation_set
from .selectors import support_customer_get, support_customers

REASON_REQUIRED = gettext_noop("Choose the reason for the reset.")
TICKET_PERSONAL = gettext_noop("The ticket reference must not contain a phone number or an e-mail address (it is "
                               "kept in the audit log); use the ticket number.")
NO_SECOND_FACTOR = gettext_noop("This customer has no second factor to reset.")
NOT_A_CUSTOMER = gettext_noop("Support can only help customer accounts.")
CHANNEL_REQUIRED = gettext_noop("Choose how the customer asked for the change.")
# The itemisation notice reads the customer's address through the support selector, as this system actor.
NOTICE_ACTOR = SystemActor("support_notices", frozenset({Purpose.CUSTOMER_SUPPORT}))

_NUMBER_RUN = re.compile(r"\+?\d[\d\s().-]{6,}\d")


class ResetReason(models.TextChoices):
    """Why a second factor was reset: a code in the audit log, never the customer's own words."""

    LOST_DEVICE = "lost_device", _("Phone or authenticator lost or broken")
    NEW_DEVICE = "new_device", _("Moved to a new phone without moving the codes")
    APP_REMOVED = "app_removed", _("Authenticator app removed or reset")
    NO_RECOVERY_CODES = "no_recovery_codes", _("Recovery codes used up or lost")


class RequestChannel(models.TextChoices):
    """How the customer asked support to change something for them: a code in the audit log."""

    PHONE = "phone", _("By phone")
    LETTER = "letter", _("By letter")
    EMAIL = "email", _("By e-mail")


class SupportNoticeMailError(RuntimeError):
    """A notice to a customer could not be sent. Its message names the user id and the error class only:
    smtplib's own exceptions quote the recipient's address, and Celery logs (and stores) what a task raises."""


def _customer_locked(user: User) -> User:
    """The account, locked, if support may act on it (re-checked inside the write's transaction)."""
    try:
        return support_customers().select_for_update(of=("self",)).get(pk=user.pk)
    except User.DoesNotExist:
        raise ApplicationError(NOT_A_CUSTOMER) from None


def _ticket_is_personal(ticket: str) -> bool:
    if "@" in ticket:
        return True
    for run in _NUMBER_RUN.findall(ticket):
        try:
            if phonenumbers.is_valid_number(phonenumbers.parse(normalize_e164(run))):
                return True
        except InvalidNumber:
            continue
    return False


def _ticket_clean(ticket: str) -> str:
    """The optional ticket reference as it is kept (in the audit log): short, and no personal data."""
    ticket = (ticket or "").strip()[:60]
    if _ticket_is_personal(ticket):
        raise ApplicationError(TICKET_PERSONAL, extra={"field": "ticket"})
    return ticket


def _require(actor, action: str, user: User) -> None:
    """The purpose check (audited as `<action>.check`, refused or not); the write is audited as `action`."""
    require_purpose(actor=actor, purpose=Purpose.CUSTOMER_SUPPORT, action=f"{action}.check", target_type="user",
                    target_id=user.pk)


def _audit(actor, action: str, user: User, **extra) -> None:
    audit_record(actor=actor, action=action, purpose=Purpose.CUSTOMER_SUPPORT, target_type="user", target_id=user.pk,
                 extra=extra)


@transaction.atomic
def support_lockout_clear(*, actor, user: User) -> int:
    """Lift a sign-in lockout: forget the failed sign-ins django-axes counts for the login name.
    Returns how many records went (0: there was no lockout)."""
    _require(actor, "support.unlock", user)
    user = _customer_locked(user)
    removed = login_attempts_forget(username=user.username)
    _audit(actor, "support.unlock", user, records=removed)
    return removed


@transaction.atomic
def support_two_factor_reset(*, actor, user: User, reason: str, ticket: str = "") -> User:
    """Remove the customer's authenticator and recovery codes, so they can sign in with their password and
    enrol again. Needs a reason code; an optional ticket reference that holds no personal data."""
    _require(actor, "support.two_factor_reset", user)
    user = _customer_locked(user)
    ticket = support_two_factor_reset_check(user=user, reason=reason, ticket=ticket)
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    user_facts_forget(user)
    _audit(actor, "support.two_factor_reset", user, reason=reason, ticket=ticket)
    return user


def support_two_factor_reset_check(*, user: User, reason: str, ticket: str = "") -> str:
    """Whether support may reset `user`'s second factor so (before support confirms it): a reason code chosen, a
    ticket reference without personal data, and a second factor to reset. Returns the ticket as it is kept."""
    if reason not in ResetReason.values:
        raise ApplicationError(REASON_REQUIRED, extra={"field": "reason"})
    ticket = _ticket_clean(ticket)
    if not TOTPDevice.objects.filter(user=user).exists() and not StaticDevice.objects.filter(user=user).exists():
        raise ApplicationError(NO_SECOND_FACTOR)
    return ticket


def support_request_open(*, actor, user: User, kind: str, details: str = "", representative_kind: str = "",
                         representative_name: str = "", authority_checked: bool = False,
                         proof: bytes | None = None, purposes: list[str] | tuple[str, ...] = ()) -> DataSubjectRequest:
    """Open a rights request for the customer, who asked support for it (same rules and deadline as
    one they make themselves; erasure they confirm themselves, with their password), or whose representative
    asked: then with the kind of representative, their name, and support's confirmation that it checked their
    proof of authority (dsr_request_create_for), and, optionally, a scan of that proof (`proof`, the file's bytes,
    kept encrypted for the DPO). The answer goes to the customer's account either way."""
    _require(actor, "support.dsr_open", user)
    if not support_customers().filter(pk=user.pk).exists():
        raise ApplicationError(NOT_A_CUSTOMER)
    return dsr_request_create_for(user=user, kind=kind, details=details, actor=actor,
                                  representative_kind=representative_kind, representative_name=representative_name,
                                  authority_checked=authority_checked, proof=proof, purposes=purposes)


def support_itemisation_check(*, user: User, itemisation: str, channel: str, ticket: str = "",
                              omit_free_numbers: bool | None = None) -> str:
    """The rules of support_itemisation_set, so that the page names the field before it asks to confirm
    (writes and audits nothing). Returns the ticket reference as it will be kept."""
    itemisation_check(itemisation)
    if user.contractor_id is not None:
        raise ApplicationError(ITEMISATION_BY_CONTRACTOR, extra={"field": "itemisation"})
    if channel not in RequestChannel.values:
        raise ApplicationError(CHANNEL_REQUIRED, extra={"field": "channel"})
    return _ticket_clean(ticket)


@transaction.atomic
def support_itemisation_set(*, actor, user: User, itemisation: str, channel: str, ticket: str = "",
                            omit_free_numbers: bool | None = None) -> bool:
    """Change how a customer's bills are itemised because they asked support (by phone, letter or e-mail:
    `channel`), for a customer who cannot or does not use the portal. The change is user_itemisation_set's,
    audited there with the staff member as actor, the channel and the ticket; a Contractor's User is refused
    (the contractor decides). The customer is e-mailed after the commit, so that a change they did not ask
    for does not go unnoticed. Like any change of itemised bills it applies from the next billing period
    (`omit_free_numbers`: whether calls to free and helpline numbers are left off; None: unchanged). Returns
    whether anything changed (no change: no audit entry, no e-mail)."""
    _require(actor, "support.itemisation", user)
    ticket = support_itemisation_check(user=user, itemisation=itemisation, channel=channel, ticket=ticket)
    locked = _customer_locked(user)
    before = (locked.itemisation, locked.omit_free_numbers)
    user_itemisation_set(user=locked, itemisation=itemisation, actor=actor, omit_free_numbers=omit_free_numbers,
                         on_behalf={"channel": channel, "ticket": ticket})
    if before == (locked.itemisation, locked.omit_free_numbers):
        return False
    from ..tasks import support_itemisation_notice_task  # lazy: the services-to-tasks pair (tasks import this)

    # The notice is due from now, stored with the change: a broker outage must not fail the change, nor lose the
    # notice (support_itemisation_notices_requeue sends it again; the warning logged names the task and user id).
    User.objects.filter(pk=locked.pk).update(itemisation_notice_due_at=tz_now())
    enqueue_after_commit(support_itemisation_notice_task, locked.pk)
    return True


def support_itemisation_notices_requeue(*, at=None) -> list[int]:
    """Beat: send again every itemisation notice still due TASK_RESEND_AFTER_SECONDS after the change (the broker
    was down, or lost the task). Stops at the first send the broker refuses. Returns the user ids sent."""
    from ..tasks import support_itemisation_notice_task

    cutoff = resend_cutoff(at)
    due = User.objects.filter(itemisation_notice_due_at__lt=cutoff).order_by("pk").values_list("pk", flat=True)
    return tasks_resend(support_itemisation_notice_task, [(pk,) for pk in due])


@transaction.atomic
def support_itemisation_notice_send(*, user_id: int) -> bool:
    """E-mail the customer that support changed their itemised bills at their request: the choice in force
    now and where to change it, nothing else; then the notice is no longer due. False when it is not due (sent
    already: a task sent twice) or there is nobody to tell (no e-mail address; the account was erased or
    restricted meanwhile), which ends it too."""
    if not User.objects.select_for_update().filter(pk=user_id, itemisation_notice_due_at__isnull=False).exists():
        return False
    try:
        user = support_customer_get(actor=NOTICE_ACTOR, user_id=user_id)
    except Http404:
        user = None
    to = mail_address(user.email) if user is not None else ""  # only spaces is no address
    if not to:
        User.objects.filter(pk=user_id).update(itemisation_notice_due_at=None)
        return False
    history = itemisation_history(user=user)
    pending = history.pending()  # the change applies from the next billing period: name it and that month
    choice = (pending[1] if pending else history.current()).label
    url = getattr(settings, "SITE_URL", "").rstrip("/") + reverse("accounts:numbers") + "#itemisation"
    with person_language(user.language):  # the customer's, not the support member's whose request queued this
        subject = gettext("Your itemised bills were changed at your request")
        body = gettext("At your request, our customer service has changed how your bills list your calls. Your "
                       "new choice: %(choice)s.\n\nYou can see and change this choice under My numbers: %(url)s\n\n"
                       "If you did not ask for this change, please contact us.\n") % {"choice": choice, "url": url}
        if pending:
            body += gettext("\nThe change applies to your bills from %(month)s on; the bills of earlier months stay "
                            "as they were.\n") % {"month": date_format(pending[0], "YEAR_MONTH_FORMAT")}
    person_mail_send(user_id=user_id, to=to, subject=subject, body=body, what="itemisation notice",
                     error=SupportNoticeMailError)
    User.objects.filter(pk=user_id).update(itemisation_notice_due_at=None)
    audit_record(actor=NOTICE_ACTOR, action="user.itemisation_notice", purpose=Purpose.CUSTOMER_SUPPORT,
                 target_type="user", target_id=user_id)
    return True
