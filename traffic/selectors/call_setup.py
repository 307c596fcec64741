"""Click-to-call reads: a user's own recent set-ups (with the number, to its owner), a customer's for support (the
number masked, with refused attempts), the blocked prefixes."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import QuerySet
from django.utils.timezone import now
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from voipxs.models import AuditEntry
from voipxs.privacy.audit import target_ref
from voipxs.privacy.phone import mask
from voipxs.privacy.purposes import Purpose, require_purpose

from ..models import BlockedPrefix, CallSetup

RECENT_LIMIT = 20


@dataclass(frozen=True)
class SetUpRow:
    created_at: datetime
    number: str
    own_number: str
    via: str
    token_name: str


def call_setup_recent(*, actor, purpose: Purpose | str, user: User, limit: int = RECENT_LIMIT) -> list[SetUpRow]:
    """`user`'s latest set-ups, newest first. Only the person themself (SELF_SERVICE) reads them."""
    require_purpose(actor=actor, purpose=purpose, action="call_setup.list", target_type="user", target_id=user.pk)
    if Purpose(purpose) != Purpose.SELF_SERVICE or getattr(actor, "pk", None) != user.pk:
        return []
    records = (CallSetup.objects.filter(user=user).select_related("own_number", "token")
               .order_by("-created_at")[:limit])
    return [SetUpRow(created_at=r.created_at, number=r.number, via=r.get_via_display(),
                     own_number=r.own_number.number if r.own_number else "",
                     token_name=r.token.name if r.token else "") for r in records]


SUPPORT_DAYS = 30  # as long as set-up records are kept (retention/purgers.py), unless a hold keeps them
SET_UP = "set_up"
# The outcome of a set-up: the switch took it (a CallSetup record), or a refusal the service recorded in the audit
# log ("call_setup.refused", reason codes only: traffic.services.call_setup._refuse); switch_* codes share one text.
OUTCOMES = {
    SET_UP: _("Set up: the switch rang the customer"),
    "blocked_prefix": _("Refused: a blocked prefix"),
    "invalid_number": _("Refused: not a number that can be called"),
    "rate_limited": _("Refused: too many set-ups in a short time"),
    "switch": _("Failed: the switch did not take the call"),
    "refused": _("Refused"),
}


@dataclass(frozen=True)
class SupportSetUpRow:
    created_at: datetime
    own_number: str  # the customer's own number that rang first ("" for a refusal: none was asked to ring)
    number: str  # the number called, masked; "" for a refusal (a refused number is never stored)
    via: str
    outcome: str
    switch_reference: str


def call_setup_support_list(*, actor, user: User, limit: int = RECENT_LIMIT) -> list[SupportSetUpRow]:
    """`user`'s set-ups and refused attempts of the last SUPPORT_DAYS, newest first, for support helping them
    (CUSTOMER_SUPPORT, checked and recorded first): the number called masked, as on the other staff pages."""
    require_purpose(actor=actor, purpose=Purpose.CUSTOMER_SUPPORT, action="call_setup.support_list",
                    target_type="user", target_id=user.pk)
    since = now() - timedelta(days=SUPPORT_DAYS)
    records = (CallSetup.objects.filter(user=user, created_at__gte=since).select_related("own_number")
               .order_by("-created_at")[:limit])
    rows = [SupportSetUpRow(created_at=r.created_at, own_number=r.own_number.number if r.own_number else "",
                            number=mask(r.number), via=r.get_via_display(), outcome=str(OUTCOMES[SET_UP]),
                            switch_reference=r.switch_reference) for r in records]
    refused = (AuditEntry.objects.filter(target_type="user", target_id=target_ref("user", user.pk),
                                         action="call_setup.refused", created_at__gte=since)
               .order_by("-created_at")[:limit])
    for entry in refused:
        reason = str((entry.extra or {}).get("reason", ""))
        outcome = OUTCOMES.get("switch" if reason.startswith("switch") else reason, OUTCOMES["refused"])
        rows.append(SupportSetUpRow(created_at=entry.created_at, own_number="", number="", via="",
                                    outcome=str(outcome), switch_reference=""))
    return sorted(rows, key=lambda row: row.created_at, reverse=True)[:limit]


def blocked_prefix_list(*, actor, purpose: Purpose | str = Purpose.SECURITY) -> QuerySet[BlockedPrefix]:
    """The blocked prefixes (no personal data): a fraud control, read under SECURITY by fraud analysts."""
    require_purpose(actor=actor, purpose=purpose, action="blocked_prefix.list", target_type="blocked_prefix")
    return BlockedPrefix.objects.order_by("prefix")
