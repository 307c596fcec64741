"""Writes of the support desk, each audited under CUSTOMER_SUPPORT with counts and reason codes only."""
from __future__ import annotations

import re

import phonenumbers
from django.db import models, transaction
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from voipxs.exceptions import ApplicationError
from voipxs.privacy.audit import audit_record
from voipxs.privacy.phone import InvalidNumber, normalize_e164
from voipxs.privacy.purposes import Purpose, require_purpose

from ..dsr.models import DataSubjectRequest
from ..dsr.services import dsr_request_create_for
from ..backends import user_facts_forget
from ..models import User
from ..services.sign_in import login_attempts_forget
from .selectors import support_customers

REASON_REQUIRED = "Choose the reason for the reset."
TICKET_PERSONAL = ("The ticket reference must not contain a phone number or an e-mail address (it is kept in the "
                   "audit log); use the ticket number.")
NO_SECOND_FACTOR = "This customer has no second factor to reset."
NOT_A_CUSTOMER = "Support can only help customer accounts."

_NUMBER_RUN = re.compile(r"\+?\d[\d\s().-]{6,}\d")


class ResetReason(models.TextChoices):
    """Why a second factor was reset: a code in the audit log, never the customer's own words."""

    LOST_DEVICE = "lost_device", _("Phone or authenticator lost or broken")
    NEW_DEVICE = "new_device", _("Moved to a new phone without moving the codes")
    APP_REMOVED = "app_removed", _("Authenticator app removed or reset")
    NO_RECOVERY_CODES = "no_recovery_codes", _("Recovery codes used up or lost")


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
    if reason not in ResetReason.values:
        raise ApplicationError(REASON_REQUIRED, extra={"field": "reason"})
    ticket = ticket.strip()[:60]
    if _ticket_is_personal(ticket):
        raise ApplicationError(TICKET_PERSONAL, extra={"field": "ticket"})
    user = _customer_locked(user)
    if not TOTPDevice.objects.filter(user=user).exists() and not StaticDevice.objects.filter(user=user).exists():
        raise ApplicationError(NO_SECOND_FACTOR)
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    user_facts_forget(user)
    _audit(actor, "support.two_factor_reset", user, reason=reason, ticket=ticket)
    return user


def support_request_open(*, actor, user: User, kind: str, details: str = "") -> DataSubjectRequest:
    """Open a rights request for the customer, who asked support for it (same rules and deadline as
    one they make themselves; erasure they confirm themselves, with their password)."""
    _require(actor, "support.dsr_open", user)
    if not support_customers().filter(pk=user.pk).exists():
        raise ApplicationError(NOT_A_CUSTOMER)
    return dsr_request_create_for(user=user, kind=kind, details=details, actor=actor)
