"""Reads of the support desk: purpose-bound (CUSTOMER_SUPPORT) and audited; customers only."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.timezone import now
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django.utils.translation import gettext_noop

from voipxs.exceptions import ApplicationError
from voipxs.privacy.crypto import blind_index
from voipxs.privacy.phone import InvalidNumber, normalize_e164
from voipxs.privacy.purposes import STAFF_ROLES, Purpose, require_purpose

from ..dsr.models import DataSubjectRequest
from ..models import PhoneNumber, User, normalize_email_address
from ..selectors import user_itemisation_get

QUERY_INVALID = gettext_noop("Enter a phone number (e.g. 020 555 0101) or an e-mail address.")
MAX_RESULTS = 20


@dataclass(frozen=True)
class CustomerCard:
    """What support may see of one customer: the account and its numbers, never traffic."""

    user: User
    numbers: list[PhoneNumber]
    failed_sign_ins: int
    locked_out: bool
    two_factor: bool
    recovery_codes_left: int
    open_requests: list[DataSubjectRequest]
    itemisation: str  # an Itemisation value: the contractor's for a Contractor's User


def support_customers() -> QuerySet[User]:
    """Accounts support may help: customers, not staff; not erased, not restricted (GDPR art. 18(2))."""
    return (User.objects.filter(is_staff=False, is_superuser=False, anonymised_at__isnull=True,
                                restricted_at__isnull=True)
            .exclude(groups__name__in=STAFF_ROLES).select_related("contractor"))


def support_customer_find(*, actor, query: str) -> list[User]:
    """The customers holding the number now, or with this e-mail address: exact matches through the
    blind index only (no partial search, so nobody can browse the customer base)."""
    text = (query or "").strip()
    by = "email" if "@" in text else "number"
    if not text:
        raise ApplicationError(QUERY_INVALID, extra={"field": "q"})
    if by == "email":
        index = blind_index(normalize_email_address(text), domain="email")
    else:
        try:
            index = blind_index(normalize_e164(text), domain="phone")
        except InvalidNumber:
            raise ApplicationError(QUERY_INVALID, extra={"field": "q"}) from None
    # Checked (and audited, by the kind of key only) before anything is read.
    require_purpose(actor=actor, purpose=Purpose.CUSTOMER_SUPPORT, action="support.find", target_type="user_lookup",
                    extra={"by": by})
    if by == "email":
        found = support_customers().filter(email_index=index)
    else:
        moment = now()
        holders = (PhoneNumber.objects.filter(number_index=index, valid_from__lte=moment)
                   .filter(Q(valid_to__isnull=True) | Q(valid_to__gt=moment)).values("user_id"))
        found = support_customers().filter(pk__in=holders)
    return list(found.order_by("pk")[:MAX_RESULTS])


def support_customer_get(*, actor, user_id: int) -> User:
    """One customer support may act on; anything else (staff, erased, unknown) is a 404."""
    require_purpose(actor=actor, purpose=Purpose.CUSTOMER_SUPPORT, action="support.customer_get", target_type="user",
                    target_id=user_id)
    try:
        return support_customers().get(pk=user_id)
    except User.DoesNotExist:
        raise Http404 from None


def _attempts(user: User) -> QuerySet[AccessAttempt]:
    return AccessAttempt.objects.filter(username=user.username)


def lockout_state(user: User) -> tuple[int, bool]:
    """(failed sign-ins on record, locked out now): django-axes locks a login name and address after
    AXES_FAILURE_LIMIT failures, for AXES_COOLOFF_TIME hours."""
    cooloff = now() - timedelta(hours=float(settings.AXES_COOLOFF_TIME or 0))
    attempts = list(_attempts(user).values_list("failures_since_start", "attempt_time"))
    failures = sum(f for f, _t in attempts)
    locked = any(f >= settings.AXES_FAILURE_LIMIT and t >= cooloff for f, t in attempts)
    return failures, locked


def support_customer_card(*, actor, user_id: int) -> CustomerCard:
    user = support_customer_get(actor=actor, user_id=user_id)
    failures, locked = lockout_state(user)
    return CustomerCard(
        user=user,
        numbers=list(PhoneNumber.objects.filter(user=user).order_by("-valid_from")),
        failed_sign_ins=failures,
        locked_out=locked,
        two_factor=TOTPDevice.objects.filter(user=user, confirmed=True).exists(),
        recovery_codes_left=StaticToken.objects.filter(device__user=user, device__confirmed=True).count(),
        # Not the representative's name (the DPO's to read): support sees only that a representative made one.
        open_requests=list(DataSubjectRequest.objects.filter(user=user, status__in=DataSubjectRequest.OPEN_STATUSES)
                           .defer("representative_name").order_by("deadline")),
        itemisation=user_itemisation_get(user=user),
    )
