"""Who may read which calls and invoices: the rows a purpose lets an actor read, as one filter that
the call and invoice selectors apply before anything else.

- SELF_SERVICE: the actor's own account;
- CONTRACTOR_INFORMATION: the actor's contractor's Users;
- BILLING, DISPUTE, LEGAL_OBLIGATION: staff-wide;
- anything else: PermissionDenied.

Restricted rows (GDPR art. 18, `restricted_at` set) are left out unless the purpose is
LEGAL_OBLIGATION or DISPUTE.

GDPR art. 21(1) objections (`objection_q`): the rows of an account whose objection to the purpose the DPO upheld are
left out of every read under a purpose based on legitimate interests (DISPUTE here; INTERCONNECTION in the
interconnection report; SECURITY in the admin's call pages, traffic.selectors.admin_calls). "Upheld" means the
controller showed no compelling legitimate grounds and no legal claim (those are the DPO's "rejected" outcomes, which
leave the reads as they were), so the processing stops. One exception, from art. 21(1)'s own last words ("or for the
establishment, exercise or defence of legal claims"): a claim already pending. Under DISPUTE, the calls and the
invoice of an invoice under an open dispute (status "disputed") stay readable, whoever raised it: a dispute the
customer raised is their own exercise of a legal claim, and VoIPXS answering it is its defence (LEGAL.md section 1.1:
a disputed invoice keeps its CDRs until it is resolved; the register's DISPUTE retention: "until the dispute is
settled"). Once the dispute is decided the invoice is no longer "disputed" and its calls leave the DISPUTE reads
again. A dispute not yet raised is not pending: billing staff cannot open one on an objector's invoice under
DISPUTE (the invoice is not found); the customer opens their own in the portal (SELF_SERVICE, which an objection
does not touch), after which it is pending. Disclosures to a dispute body (disclosures.selectors, purpose DISPUTE)
are a case before that body, a pending legal claim by definition, and are not filtered.
"""
from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q

from accounts.dsr.objection import objected_user_ids
from voipxs.privacy.purposes import Purpose, objectable

from ..models import Invoice

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
    return q & objection_q(purpose)


def objection_q(purpose: Purpose | str, *, invoice_field: str = "invoice_id") -> Q:
    """GDPR art. 21(1): the rows `purpose` may still read, as a filter on `account_id` (traffic_cdr, the hold table,
    invoices): every row for a purpose nobody may object to; else none of an account whose objection to `purpose` was
    upheld, but for DISPUTE the rows of an invoice under an open dispute (a pending legal claim, module docstring).
    `invoice_field`: the field naming the row's invoice ("pk" on invoices themselves)."""
    if not objectable(purpose):
        return Q()
    q = ~Q(account_id__in=objected_user_ids(purpose))
    if purpose == Purpose.DISPUTE:
        q |= Q(**{f"{invoice_field}__in": Invoice.objects.filter(status=Invoice.Status.DISPUTED).values("pk")})
    return q
