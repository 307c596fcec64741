"""The recipients of a person's data in the disclosure register, for GDPR art. 19 (the kernel's registry asks for
them when a rectification, erasure or restriction is carried out): the bodies a delivered disclosure about the person
went to, of those disclosures the person is told of (selectors._told_of: a sent notice, or a draft while the decision
is to notify). A disclosure under a running secrecy order (its notice withheld) or one the officers decided not to
tell the person of (no notice: Sv 126n and the like, UAVG art. 41) is not listed, so neither the DPO's list nor the
person learns of it; once its notice is sent (never before the secrecy order ends) it is."""
from __future__ import annotations

from typing import Any

from .selectors import _told_of


def disclosure_recipients_of_user(user: Any) -> list[dict]:
    reqs = _told_of(user).select_related("authority").order_by("delivered_at", "pk")
    return [{"key": f"disclosure:{r.pk}", "recipient": r.authority.name, "recipient_kind": r.authority.kind,
             "disclosed_at": r.delivered_at} for r in reqs]
