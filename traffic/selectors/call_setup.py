"""Click-to-call reads: a user's own recent set-ups (with the number, to its owner), the blocked prefixes."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet

from accounts.models import User
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


def blocked_prefix_list(*, actor, purpose: Purpose | str = Purpose.SECURITY) -> QuerySet[BlockedPrefix]:
    """The blocked prefixes (no personal data): a fraud control, read under SECURITY by fraud analysts."""
    require_purpose(actor=actor, purpose=purpose, action="blocked_prefix.list", target_type="blocked_prefix")
    return BlockedPrefix.objects.order_by("prefix")
