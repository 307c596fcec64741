# Retention of closed accounts' user data (policy category closed_account).
#
# Why this lives in retention, not in accounts: the decision needs invoices (traffic) and policies and
# holds (retention), and accounts may import neither (imports only point down, DESIGN.md). The write
# stays in accounts' services (account_anonymise); this module only decides, in the purger that
# retention/apps.py registers and retention/purge/run.py's step_registered_purgers runs.
#
# Why it is safe (anonymising is irreversible, so every rule errs toward keeping):
# - An account is anonymised only when each of these says it may go: it is closed and not yet anonymised;
#   none of its invoices is open, disputed or in an unknown state; no rated, pending or unrated call
#   waits for an invoice (the final invoice is made on the 1st of the month after the closure); the
#   latest of closure, payment, dispute and invoice date is older than the closed_account period in
#   force; and no active legal hold with category closed_account names the account or a number it held.
# - Without a closed_account policy in force nothing is anonymised.
# - Each account is anonymised in its own transaction (account_anonymise locks the row and refuses an
#   account that is already anonymised), so a run that dies loses at most one account's work and the
#   next run picks up the rest. Receipts and audit entries hold counts and ids, never data.
# - What invoices must keep stays: the user row (invoices refer to it), the invoices themselves, and the
#   numbers' assignment periods while calls or a hold need them (the registry's keepers say so).
from __future__ import annotations

from datetime import datetime

from django.db.models import Count, Max, Q

from accounts.models import Contractor, User
from accounts.services.closing import account_anonymise, anonymised_open_requests_close, contractor_anonymise
from traffic.models import Cdr, Invoice
from voipxs.exceptions import ApplicationError

from .models import Category
from .purge.rules import PURGE_ACTOR, SETTLED_STATUSES, hold_account_ids, period_cutoff
from .selectors import legal_holds_active, retention_policy_at

_CHUNK = 500
# Calls that will still be invoiced (RATED now, PENDING/UNRATED once rated; unrestricted, as the invoice
# run takes them); FREE ones never are. Unbilled calls go after 3 months, and with them this wait.
_TO_BE_INVOICED = (Cdr.Rating.RATED, Cdr.Rating.PENDING, Cdr.Rating.UNRATED)


def _held_account_ids(now: datetime) -> set[int]:
    """Accounts under an active hold on closed_account: named, or holding a named number (at any time)."""
    return hold_account_ids(legal_holds_active(at=now, category=Category.CLOSED_ACCOUNT))


def _last_event(closed_at: datetime, invoice: dict | None) -> datetime:
    """The moment the closed_account period counts from: the closure or the latest invoice event after it,
    settlement (payment, a rejected dispute, voiding: `settled_at`) included."""
    moments = [closed_at]
    if invoice is not None:
        moments += [m for m in (invoice["settled"], invoice["paid"], invoice["disputed"], invoice["issued"])
                    if m is not None]
    return max(moments)


def closed_accounts_purge(*, now: datetime, dry_run: bool = False) -> dict:
    """Registered purger "closed_account": anonymise closed accounts whose final invoice was settled more
    than the policy's period ago. Returns the counts for the receipt, with why the others were kept."""
    candidates = User.objects.filter(closed_at__isnull=False, anonymised_at__isnull=True)
    if retention_policy_at(category=Category.CLOSED_ACCOUNT, at=now) is None:
        return {"anonymised": 0, "kept": candidates.count(), "skipped": "no closed_account policy in force"}
    cutoff = period_cutoff(Category.CLOSED_ACCOUNT, now)
    held = _held_account_ids(now)
    why_kept = {"invoice_not_settled": 0, "final_invoice_pending": 0, "within_period": 0, "legal_hold": 0}
    due: list[int] = []
    rows = list(candidates.order_by("pk").values_list("pk", "closed_at"))
    for start in range(0, len(rows), _CHUNK):
        chunk = dict(rows[start:start + _CHUNK])
        invoices = {
            row["account_id"]: row for row in Invoice.objects.filter(account_id__in=list(chunk)).values("account_id")
            .annotate(unsettled=Count("id", filter=~Q(status__in=SETTLED_STATUSES)), paid=Max("paid_at"),
                      disputed=Max("disputed_at"), issued=Max("issued_at"), settled=Max("settled_at"))
        }
        pending = set(Cdr.objects.filter(account_id__in=list(chunk), invoice__isnull=True, rating__in=_TO_BE_INVOICED,
                                         restricted_at__isnull=True).values_list("account_id", flat=True).distinct())
        for pk, closed_at in chunk.items():
            invoice = invoices.get(pk)
            if invoice is not None and invoice["unsettled"]:
                why_kept["invoice_not_settled"] += 1
            elif pk in pending:
                why_kept["final_invoice_pending"] += 1
            elif _last_event(closed_at, invoice) >= cutoff:
                why_kept["within_period"] += 1
            elif pk in held:
                why_kept["legal_hold"] += 1
            else:
                due.append(pk)
    anonymised = 0
    if dry_run:
        anonymised = len(due)
    else:
        for user in User.objects.filter(pk__in=due).order_by("pk").iterator(chunk_size=_CHUNK):
            try:
                account_anonymise(user=user, actor=PURGE_ACTOR)
            except ApplicationError:
                continue  # anonymised meanwhile (an erasure): nothing left to do
            anonymised += 1
    return {"anonymised": anonymised, "kept": sum(why_kept.values()), "cutoff": cutoff.isoformat(), **why_kept,
            "contractors_anonymised": _closed_contractors_anonymise(dry_run=dry_run),
            # Requests an anonymisation made before it closed them left open (accounts.services.closing).
            "open_requests_closed": anonymised_open_requests_close(actor=PURGE_ACTOR, dry_run=dry_run)}


def _closed_contractors_anonymise(*, dry_run: bool) -> int:
    """Closed Contractors none of whose Users is left to anonymise (each waited for its own final invoice,
    period and holds above): their name and invoice address go (accounts.services.closing)."""
    due = (Contractor.objects.filter(closed_at__isnull=False, anonymised_at__isnull=True)
           .exclude(users__anonymised_at__isnull=True))
    if dry_run:
        return due.count()
    done = 0
    for contractor in due.order_by("pk"):
        try:
            contractor_anonymise(contractor=contractor, actor=PURGE_ACTOR)
        except ApplicationError:
            continue  # a User was moved to it meanwhile: the next run decides again
        done += 1
    return done

