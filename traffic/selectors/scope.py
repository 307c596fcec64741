"""Who may read which calls and invoices: the rows a purpose lets an actor read, as one filter that
the call and invoice selectors apply before anything else.

- SELF_SERVICE: the actor's own account;
- CONTRACTOR_INFORMATION: the actor's contractor's Users;
- BILLING, DISPUTE, LEGAL_OBLIGATION: staff-wide;
- anything else: PermissionDenied.

Restricted rows (GDPR art. 18, `restricted_at` set) are left out unless the purpose is
LEGAL_OBLIGATION or DISPUTE.
"""
from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q

from voipxs.privacy.purposes import Purpose

# Purposes that see restricted rows: the law (art. 18(2) GDPR) and the defence of legal claims.
SEES_RESTRICTED = frozenset({Purpose.LEGAL_OBLIGATION, Purpose.DISPUTE})
STAFF_WIDE = frozenset({Purpose.BILLING, Purpose.DISPUTE, Purpose.LEGAL_OBLIGATION})
CALL_PURPOSES = STAFF_WIDE | {Purpose.SELF_SERVICE, Purpose.CONTRACTOR_INFORMATION}


def call_scope_check(*, actor: Any, purpose: Purpose, account: Any = None, contractor: Any = None) -> None:
    """PermissionDenied if `purpose` does not let `actor` read the calls of `account` or `contractor` at all: what
    call_scope_q refuses, asked before the read is recorded as granted (selectors.calls)."""
    if purpose == Purpose.SELF_SERVICE:
        if account is not None and getattr(account, "pk", account) != actor.pk:
            raise PermissionDenied("You can only see your own calls.")
    elif purpose == Purpose.CONTRACTOR_INFORMATION:
        if not getattr(actor, "contractor_id", None):
            raise PermissionDenied("You are not the admin of a contractor.")
        if contractor is not None and getattr(contractor, "pk", contractor) != actor.contractor_id:
            raise PermissionDenied("You can only see your own contractor's traffic.")
    elif purpose not in STAFF_WIDE:
        raise PermissionDenied("This purpose does not allow reading calls.")


def call_scope_q(*, actor: Any, purpose: Purpose, account: Any = None, contractor: Any = None) -> Q:
    """The rows `purpose` lets `actor` read, as a filter on the fields that traffic_cdr and the hold
    table (retention_heldcdr) share: account_id, contractor_id, restricted_at."""
    call_scope_check(actor=actor, purpose=purpose, account=account, contractor=contractor)
    q = Q()
    if purpose == Purpose.SELF_SERVICE:
        q &= Q(account_id=actor.pk)
    elif purpose == Purpose.CONTRACTOR_INFORMATION:
        q &= Q(contractor_id=actor.contractor_id)
        if account is not None:
            q &= Q(account_id=getattr(account, "pk", account))
    else:
        if account is not None:
            q &= Q(account_id=getattr(account, "pk", account))
        if contractor is not None:
            q &= Q(contractor_id=getattr(contractor, "pk", contractor))
    if purpose not in SEES_RESTRICTED:
        q &= Q(restricted_at__isnull=True)
    return q
