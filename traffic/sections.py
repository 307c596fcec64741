"""What traffic holds about a person, for the data-subject registry (export and erasure).

Calls are read through the CDR reader (`traffic.selectors.cdr_reader`): streamed from the database
and decrypted with the month keys, so an export of 100,000 calls keeps memory flat; calls the purge
kept in the hold table after their month was dropped are merged in by time (under the master key).
Erasure deletes the calls no exception keeps and restricts (GDPR art. 18) the rest, the hold
table's copies included, and deletes the person's call export files; invoices are kept 7 years
(AWR art. 52), restricted. A call's notes (GDPR art. 16, traffic.services.annotations) go with it: into
the export beside its fields, and out with it when erasure deletes it.
"""
from __future__ import annotations

from typing import Any, Iterable

from django.db import connection
from django.db.models import BooleanField, ExpressionWrapper, Q, TextField
from django.db.models.functions import Cast
from django.utils.timezone import localdate, now
from django.utils.translation import gettext_lazy as _

from voipxs.privacy.registry import Kept, Section, register_section

from .models import CallSetup, Cdr, CdrTechnical, Invoice, InvoiceDispute, InvoiceLine
from .selectors.annotations import CallNote, notes_by_call
from .selectors.cdr_reader import CallDecryptor, UtcIsoText, calls_in_time_order, held_matching
from .services.annotations import cdr_annotations_delete
from .services.call_exports import call_exports_delete_of

_CHUNK = 5000
_CALL_FIELDS = ("id", "started_at", "direction", "disposition", "answered_at", "duration", "billsec",
                "src_enc", "dst_enc", "caller_name_enc", "zone", "price", "invoice_id", "restricted_at")
# On PostgreSQL the server writes the times, the price and the restriction as the export writes them
# (UtcIsoText: what isoformat() gives; numeric(12,5) as text: what str(Decimal) gives), so that 100,000
# calls are neither parsed nor formatted here (issue 15). tests/accounts/test_export_rows.py holds
# the two ways to the same text.
_AS_TEXT = {"started_text": UtcIsoText("started_at"), "answered_text": UtcIsoText("answered_at"),
            "price_text": Cast("price", output_field=TextField()),
            "restricted": ExpressionWrapper(Q(restricted_at__isnull=False), output_field=BooleanField())}
_CALL_TEXT_FIELDS = ("id", "started_text", "direction", "disposition", "answered_text", "duration", "billsec",
                     "src_enc", "dst_enc", "caller_name_enc", "zone", "price_text", "invoice_id", "restricted")


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def _notes_export(notes: list[CallNote]) -> list[dict]:
    return [{"text": note.text, "created_at": note.created_at.isoformat(), "request": note.request_id}
            for note in notes]


def calls_export(user: Any, *, server_text: bool | None = None) -> Iterable[dict]:
    # Calls whose month was dropped but that the purge kept (an open or disputed invoice, a legal hold)
    # are the person's data like any other call: merged in by time, without a word on why they stay.
    # A number of a month whose key was destroyed reads as None: it no longer exists anywhere. No caller name
    # is None too, never "": the CSV writes both as an empty cell, and the two files must say the same.
    # `server_text`: PostgreSQL formats (default there), or Python does (SQLite; tests compare both).
    if server_text is None:
        server_text = connection.vendor == "postgresql"
    fields, computed = (_CALL_TEXT_FIELDS, _AS_TEXT) if server_text else (_CALL_FIELDS, None)
    calls = calls_in_time_order(q=Q(account_id=user.pk), fields=fields, decrypt=CallDecryptor(shredded=None),
                                computed=computed)
    # A call's notes (GDPR art. 16) go with it; a call without one has null there (few calls have any, and a
    # null costs the CSV nothing where an empty list would be encoded for each of 100,000 calls).
    notes = {pk: _notes_export(found) for pk, found in notes_by_call(account_id=user.pk).items()}
    for (pk, started, direction, disposition, answered, duration, billsec, src, dst, name, zone, price,
         invoice_id, restricted), read in calls:
        if not server_text:
            started, answered = started.isoformat(), _iso(answered)
            price, restricted = str(price) if price is not None else None, restricted is not None
        yield {
            "id": pk, "started_at": started, "direction": direction, "disposition": disposition,
            "answered_at": answered, "duration": duration, "billsec": billsec,
            "from": read(src), "to": read(dst), "caller_name": read(name) or None,
            "zone": zone, "price": price, "invoice": invoice_id, "restricted": restricted, "notes": notes.get(pk),
        }


def invoices_export(user: Any) -> Iterable[dict]:
    lines: dict[int, list[dict]] = {}
    for line in InvoiceLine.objects.filter(invoice__account_id=user.pk).order_by("invoice_id", "month", "zone"):
        lines.setdefault(line.invoice_id, []).append({
            "zone": line.zone, "zone_nl": line.zone_nl, "month": line.month.isoformat(), "calls": line.calls,
            "seconds": line.seconds, "amount": str(line.amount)})
    disputes: dict[int, list[dict]] = {}
    for dispute in InvoiceDispute.objects.filter(invoice__account_id=user.pk).order_by("invoice_id", "raised_at", "pk"):
        disputes.setdefault(dispute.invoice_id, []).append({
            "raised_at": dispute.raised_at.isoformat(), "raised_by": dispute.raised_by, "reason": dispute.reason,
            "resolved_at": _iso(dispute.resolved_at), "outcome": dispute.outcome})
    for inv in Invoice.objects.filter(account_id=user.pk).order_by("period"):
        yield {
            "number": inv.number, "period": inv.period.isoformat(), "issued_at": inv.issued_at.isoformat(),
            "due_date": inv.due_date.isoformat(), "dispute_window_ends": inv.dispute_window_ends.isoformat(),
            "status": inv.status, "subtotal": str(inv.subtotal), "vat_rate": str(inv.vat_rate),
            "vat_amount": str(inv.vat_amount), "total": str(inv.total), "currency": inv.currency,
            "customer_name": inv.customer_name or "", "customer_address": inv.customer_address or "",
            "restricted": inv.restricted_at is not None, "dispute_reason": inv.dispute_reason or "",
            "lines": lines.get(inv.pk, []), "disputes": disputes.get(inv.pk, []),
        }


def _protected_invoice_ids(user: Any) -> list[int]:
    """Invoices whose calls must stay: unpaid, disputed, or not past their keep-until (the dispute window, a
    decided dispute's appeal period, upheld or rejected), as the purge."""
    today = localdate(now())  # calls_kept_until is an Amsterdam day, as the purge reads it
    return list(Invoice.objects.filter(account_id=user.pk)
                .exclude(status__in=[Invoice.Status.PAID, Invoice.Status.VOID], calls_kept_until__lt=today)
                .values_list("id", flat=True))


def _kept_calls_q(user: Any, kept: list[Kept]) -> Q | None:
    """The person's calls an exception keeps, or None if none does: the calls a legal hold covers (a hold names
    categories such as "cdr_billed,cdr_unbilled"; its accounts' or numbers' calls in its window, Kept.rows; a hold
    that does not say which: every call) and the calls of invoices whose calls must stay."""
    parts = []
    for k in kept:
        if "cdr" in k.category:
            if k.rows is None:
                return Q()  # everything
            parts.append(k.rows)
        elif k.category == "calls":
            parts.append(Q(invoice_id__in=_protected_invoice_ids(user)))
    if not parts:
        return None
    keep_q = parts[0]
    for part in parts[1:]:
        keep_q |= part
    return keep_q


def calls_erase(user: Any, kept: list[Kept]) -> dict:
    mine = Cdr.objects.filter(account_id=user.pk)
    stamp = now()
    keep_q = _kept_calls_q(user, kept)
    restricted = 0
    if keep_q is not None:
        restricted = mine.filter(keep_q).filter(restricted_at__isnull=True).update(restricted_at=stamp)
        doomed = mine.exclude(keep_q) if keep_q else mine.none()
    else:
        doomed = mine
    doomed_ids = list(doomed.values_list("id", flat=True))
    deleted = 0
    for start in range(0, len(doomed_ids), _CHUNK):
        chunk = doomed_ids[start:start + _CHUNK]
        CdrTechnical.objects.filter(cdr_id__in=chunk)._raw_delete(CdrTechnical.objects.db)
        deleted += Cdr.objects.filter(account_id=user.pk, id__in=chunk)._raw_delete(Cdr.objects.db)
        cdr_annotations_delete(cdr_ids=chunk)  # a note goes with its call
    held_restricted, held_kept = _restrict_held_calls(user, stamp)
    # Call export files are copies of calls for the person's own download: nothing keeps them.
    return {"deleted": deleted, "restricted": restricted + held_restricted, "kept": mine.count() + held_kept,
            "export_files": call_exports_delete_of(owner=user)}


def _restrict_held_calls(user: Any, stamp) -> tuple[int, int]:
    """Copies in the hold table are there because a rule still protects them (an open or disputed
    invoice, a legal hold, which the purge re-checks daily and then deletes them); erasure cannot
    outrank that rule, so it restricts them (GDPR art. 18) and leaves the deletion to the purge."""
    mine = held_matching(Q(account_id=user.pk))
    if mine is None:
        return 0, 0
    return mine.filter(restricted_at__isnull=True).update(restricted_at=stamp), mine.count()


def invoices_erase(user: Any, kept: list[Kept]) -> dict:
    # Invoices carry no called numbers and fiscal law keeps them 7 years: never deleted here.
    stamp = now()
    restricted = Invoice.objects.filter(account_id=user.pk, restricted_at__isnull=True).update(restricted_at=stamp)
    # What the person wrote when disputing goes once the dispute is decided; an undecided one stays (restricted with
    # its invoice) for billing to decide it (GDPR art. 17(3)(e)), and goes when erasure is replayed after that.
    InvoiceDispute.objects.filter(invoice__account_id=user.pk, resolved_at__isnull=False).exclude(reason="").update(
        reason="", reason_erased_at=stamp)
    Invoice.objects.filter(account_id=user.pk).exclude(status=Invoice.Status.DISPUTED).exclude(
        dispute_reason="").update(dispute_reason="")
    return {"deleted": 0, "restricted": restricted, "kept": Invoice.objects.filter(account_id=user.pk).count()}


register_section(Section(
    name="calls", label=_("Calls"), order=40, purpose="billing",
    legal_basis="Tw art. 11.5(2) (billing); GDPR art. 6(1)(b)",
    retention=("until the invoice is paid, undisputed and its dispute window has passed (a decided dispute: until the "
               "time to take the decision further has passed); unbilled calls 3 months"),
    exporter=calls_export, eraser=calls_erase,
    description=("Your calls that are still retained: time, direction, numbers, caller name, duration, price, and "
                 "the notes on a call you asked us to correct."),
))
register_section(Section(
    name="invoices", label=_("Invoices"), order=50, purpose="billing",
    legal_basis="GDPR art. 6(1)(b)/(c); AWR art. 52 (fiscal retention)",
    retention="7 years after the invoice date",
    exporter=invoices_export, eraser=invoices_erase,
    description="Your invoices with their lines per zone and month (no called numbers).",
))


def call_setups_export(user: Any) -> Iterable[dict]:
    for record in CallSetup.objects.filter(user=user).select_related("own_number").order_by("created_at"):
        yield {"created_at": record.created_at.isoformat(), "number": record.number, "via": record.via,
               "own_number": record.own_number.number if record.own_number else None}


def call_setups_erase(user: Any, kept: list[Kept]) -> dict:
    """A set-up record serves nothing once the call is a CDR (which follows the calls' own rules), unless a legal
    hold on the person's calls keeps them: then they are left to the daily purge, which keeps what the hold covers
    and deletes the rest after their 30 days (retention.purgers.call_setups_purge)."""
    mine = CallSetup.objects.filter(user=user)
    if any("cdr" in k.category for k in kept):
        return {"deleted": 0, "restricted": 0, "kept": mine.count()}
    return {"deleted": mine.delete()[0], "restricted": 0, "kept": 0}


register_section(Section(
    name="call_setups", label=_("Click-to-call"), order=45, purpose="call_setup",
    legal_basis="GDPR art. 6(1)(b) contract (setting up the calls you asked for)",
    retention="30 days",
    exporter=call_setups_export, eraser=call_setups_erase,
    description="Calls you set up with click-to-call: time, the number you chose, your number that rang first.",
))
