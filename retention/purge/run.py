# The daily purge: removes what is past its retention period and not held, and says what it removed.
#
# Why this design is safe (deleting personal data is irreversible, so every step errs toward keeping):
# - What stays is decided by positive rules that protect rows (an invoice that is unpaid, disputed or
#   inside its dispute window; an unbilled call younger than its period; an active legal hold); a row
#   is removed only if no rule protects it. An unknown invoice state protects its calls.
# - Batched deletes run one transaction per batch (like zulip's run_archiving_in_chunks) and select
#   each batch afresh from the database, so a run that dies inside a batch loses only that batch's
#   uncommitted work and the next run simply continues; nothing is computed from a stale list.
# - A whole month on PostgreSQL is removed in ONE transaction: lock the month's partitions, copy the
#   rows that must stay into retention_heldcdr (re-encrypted under the master key, idempotent through
#   a unique key), detach and drop the partitions. Either all of it happens or none. Only after that
#   commit is the month's data key destroyed (a separate step), and a later run destroys the key of
#   any expired month that has no rows left, so a crash between the two steps is finished next time.
#   The key is never destroyed while a row of its month still exists.
# - Two purges never run at once: a lease row taken with one conditional UPDATE (atomic on PostgreSQL
#   and SQLite) and renewed between steps; a dead worker's lease simply runs out.
# - Receipts and audit entries hold counts, cutoffs and month names, never data.
# - A dry run walks the same decisions with the same querysets and only counts.
# - Month drops and key destructions commit with synchronous_commit off (PostgreSQL still flushes a
#   commit that drops files): a crash can only lose whole recent transactions, in order, and the next
#   run redoes them, so durability of each purge commit is not needed for safety.
#
# The run is a loop over STEPS, named functions in the order they run, each taking the one
# PurgeContext they share (the run row, the cutoffs, the dry-run flag, the receipts so far, the months
# the first step dropped). The rules live in rules.py, the lease in lock.py, the batches in chunks.py,
# the month drops in months.py.
from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any, Callable

from django.db import transaction
from django.db.models import QuerySet
from django.utils.timezone import now as tz_now

from traffic.keys import month_key_destroy
from traffic.models import Cdr, CdrTechnical, Invoice
from traffic.partitions import cdr_partition_months
from voipxs.privacy.audit import audit_record
from voipxs.privacy.registry import purgers

from ..models import Category, HeldCdr, PurgeReceipt, PurgeRun
from .chunks import DEFAULT_CHUNK_SIZE, Fault, fast_commit, run_in_chunks
from .lock import ANOTHER_PURGE_RUNNING, PurgeBusy, lock_acquire, lock_release, lock_renew
from .months import MonthDrop, detached_tables, drop_detached, drop_month, droppable_months, emptied_months_with_keys
from .rules import (PURGE_ACTOR, SETTLED_STATUSES, Cutoffs, exclude_held, expired_q, held_q, keep_q, months_excluded,
                    settled_invoice_ids)

CDR_CATEGORIES = (Category.CDR_BILLED, Category.CDR_UNBILLED)


@dataclass
class StepReceipt:
    """What one step did, written as a PurgeReceipt when the run ends (or fails)."""

    category: str
    cutoff: datetime | None
    deleted: int = 0
    anonymised: int = 0
    kept: int = 0
    details: dict = field(default_factory=dict)
    duration_ms: int = 0


@dataclass
class PurgeContext:
    """What the steps share. Each step reads the cutoffs and flags, appends its receipts, and
    step_cdr_months leaves the months it dropped (a dry run: would drop) for the later steps."""

    run: PurgeRun
    cutoffs: Cutoffs
    dry_run: bool
    chunk_size: int
    fault: Fault | None
    holder: str  # the lease's holder id (lock.py)
    receipts: list[StepReceipt] = field(default_factory=list)
    months: list[date] = field(default_factory=list)
    # Invoices whose calls may go, read once per run by the first CDR step that needs them.
    settled_ids: QuerySet | list[int] | None = None

    def renew(self) -> None:
        lock_renew(holder=self.holder)

    def mark(self, step_name: str) -> None:
        """Note the step on the run row (a failure names it) and renew the lease."""
        with transaction.atomic():  # progress note and lease renewal: one commit, no flush wait
            fast_commit()
            self.run.state["step"] = step_name
            self.run.save(update_fields=["state"])
            self.renew()

    def record_drop(self, result: MonthDrop) -> None:
        """drop_month's before_commit: the run's step state commits with the detach it records."""
        self.run.state["step"] = f"month {result.month}"
        self.run.state["months"][result.month] = ["copied", "detached"]
        self.run.save(update_fields=["state"])
        self.renew()

    def months_skipped(self) -> list[date]:
        """Months the batch steps leave out: in a dry run, those step_cdr_months counted as dropped."""
        return self.months if self.dry_run else []

    def remove(self, *, select: Callable[[], QuerySet], delete: Callable[[list[int]], int], label: str,
               chunk_size: int | None = None) -> int:
        """What `select()` finds: counted in a dry run, deleted in batches otherwise."""
        if self.dry_run:
            return select().count()
        return run_in_chunks(select=select, delete=delete, label=label, fault=self.fault, on_batch=self.renew,
                             chunk_size=self.chunk_size if chunk_size is None else chunk_size)

    def add_receipt(self, receipt: StepReceipt, *, started: float) -> None:
        receipt.duration_ms = int((time.monotonic() - started) * 1000)
        self.receipts.append(receipt)


# --- selects and deletes of the batch steps -------------------------------------------------------------------

def _settled_ids(ctx: PurgeContext) -> QuerySet | list[int]:
    if ctx.settled_ids is None:
        remaining_months = [m for m in cdr_partition_months("traffic_cdr") if ctx.dry_run or m not in ctx.months]
        ctx.settled_ids = settled_invoice_ids(
            ctx.cutoffs, window_ended_since=remaining_months[0] if remaining_months else None)
    return ctx.settled_ids


def _select_cdrs(ctx: PurgeContext, category: str) -> QuerySet:
    qs = Cdr.objects.filter(expired_q(ctx.cutoffs, category, settled_ids=_settled_ids(ctx)))
    return exclude_held(months_excluded(qs, ctx.months_skipped()), ctx.cutoffs, category)


def _select_technical(ctx: PurgeContext) -> QuerySet:
    qs = months_excluded(CdrTechnical.objects.filter(started_at__lt=ctx.cutoffs.technical), ctx.months_skipped())
    tech_hold = held_q(ctx.cutoffs, Category.CDR_TECHNICAL)
    if tech_hold is not None:
        qs = qs.exclude(cdr_id__in=Cdr.objects.filter(tech_hold).values("id"))
    if ctx.dry_run:  # the real run removes these with their CDR in the CDR steps
        for category in CDR_CATEGORIES:
            qs = qs.exclude(cdr_id__in=_select_cdrs(ctx, category).values("id"))
    return qs


def _remaining_cdrs(ctx: PurgeContext, qs: QuerySet) -> QuerySet:
    """Dry run: the CDRs of `qs` that the earlier steps would leave."""
    for category in CDR_CATEGORIES:
        qs = qs.exclude(id__in=_select_cdrs(ctx, category).values("id"))
    return months_excluded(qs, ctx.months)


def _remaining_technical(ctx: PurgeContext, qs: QuerySet) -> QuerySet:
    """Dry run: the technical rows of `qs` that the earlier steps would leave."""
    qs = qs.exclude(id__in=_select_technical(ctx).values("id"))
    for category in CDR_CATEGORIES:  # removed with their CDR
        qs = qs.exclude(cdr_id__in=_select_cdrs(ctx, category).values("id"))
    return months_excluded(qs, ctx.months)


def _select_held(cutoffs: Cutoffs) -> QuerySet:
    return HeldCdr.objects.exclude(keep_q(cutoffs))


def _select_invoices(cutoffs: Cutoffs, held_accounts: list[int]) -> QuerySet:
    return Invoice.objects.filter(issued_at__lt=cutoffs.invoice, status__in=SETTLED_STATUSES).exclude(
        account_id__in=held_accounts)


def _delete_cdrs(ids: list[int]) -> int:
    CdrTechnical.objects.filter(cdr_id__in=ids).delete()
    return Cdr.objects.filter(id__in=ids).delete()[0]


def _delete_technical(ids: list[int]) -> int:
    return CdrTechnical.objects.filter(id__in=ids).delete()[0]


def _delete_held(ids: list[int]) -> int:
    return HeldCdr.objects.filter(id__in=ids).delete()[0]


def _delete_invoices(ids: list[int]) -> int:
    return Invoice.objects.filter(id__in=ids).delete()[1].get("traffic.Invoice", 0)


# --- the steps, in the order they run --------------------------------------------------------------------------

def step_cdr_months(ctx: PurgeContext) -> None:
    """Whole months (PostgreSQL): copy what stays, detach and drop; step_month_keys destroys the key."""
    started = time.monotonic()
    ctx.months = droppable_months(ctx.cutoffs)
    drop = StepReceipt(category="cdr_month_drop", cutoff=ctx.cutoffs.unbilled, details={"months": []})
    for month in ctx.months:
        month_started = time.monotonic()
        result = drop_month(month, ctx.cutoffs, dry_run=ctx.dry_run, fault=ctx.fault, before_commit=ctx.record_drop)
        result.ms = int((time.monotonic() - month_started) * 1000)
        drop.deleted += result.rows
        drop.kept += result.kept
        drop.details["months"].append(result.__dict__)
        if not ctx.dry_run:
            ctx.run.state["months"][result.month].append("dropped")
        if not ctx.dry_run and ctx.fault is not None:
            ctx.fault("month:before_key")
    ctx.add_receipt(drop, started=started)


def _step_cdrs(ctx: PurgeContext, category: str) -> None:
    """Batched deletes of CDRs outside whole-month drops (partial months; every month on SQLite)."""
    started = time.monotonic()
    ctx.mark(category)
    receipt = StepReceipt(category=category, cutoff=ctx.cutoffs.unbilled if category == Category.CDR_UNBILLED else None)
    if category == Category.CDR_BILLED:
        last_protected_day = ctx.cutoffs.today - timedelta(days=ctx.cutoffs.billed_grace_days)
        receipt.details["dispute_window_ended_before"] = last_protected_day.isoformat()
    receipt.deleted = ctx.remove(select=partial(_select_cdrs, ctx, category), delete=_delete_cdrs, label=category)
    ctx.add_receipt(receipt, started=started)


def step_cdrs_billed(ctx: PurgeContext) -> None:
    """Calls of settled invoices whose dispute window has passed."""
    _step_cdrs(ctx, Category.CDR_BILLED)


def step_cdrs_unbilled(ctx: PurgeContext) -> None:
    """Calls no invoice refers to, older than the unbilled period."""
    _step_cdrs(ctx, Category.CDR_UNBILLED)


def step_cdr_technical(ctx: PurgeContext) -> None:
    """Technical identifiers older than their period; the call's billing fields stay."""
    started = time.monotonic()
    ctx.mark(Category.CDR_TECHNICAL)
    receipt = StepReceipt(category=Category.CDR_TECHNICAL, cutoff=ctx.cutoffs.technical)
    receipt.deleted = ctx.remove(select=partial(_select_technical, ctx), delete=_delete_technical,
                                 label=Category.CDR_TECHNICAL)
    ctx.add_receipt(receipt, started=started)


def step_detached_tables(ctx: PurgeContext) -> None:
    """Tables detached by a run that died before dropping them."""
    if ctx.dry_run:
        return
    ctx.mark("detached tables")
    drop_detached(detached_tables())


def step_month_keys(ctx: PurgeContext) -> None:
    """Month keys: destroy the key of every expired month that has no row left (dropped above, emptied
    by the batches, or dropped by an earlier run that died before this step). Never while a row remains."""
    started = time.monotonic()
    ctx.mark("month keys")
    if ctx.dry_run:
        emptied = emptied_months_with_keys(ctx.cutoffs, remaining_cdrs=partial(_remaining_cdrs, ctx),
                                           remaining_technical=partial(_remaining_technical, ctx))
    else:
        emptied = emptied_months_with_keys(ctx.cutoffs)
    if not ctx.dry_run and emptied:
        with transaction.atomic():  # one commit for all keys; each destruction is idempotent
            fast_commit()
            for month in emptied:
                month_key_destroy(month=month, actor=PURGE_ACTOR)
                ctx.run.state["months"].setdefault(f"{month:%Y-%m}", []).append("key_destroyed")
            ctx.run.save(update_fields=["state"])
    ctx.add_receipt(StepReceipt(category="month_key", cutoff=ctx.cutoffs.unbilled, deleted=len(emptied),
                        details={"months": [f"{m:%Y-%m}" for m in emptied]}), started=started)


def step_held_cdrs(ctx: PurgeContext) -> None:
    """The hold table: a copy goes once no hold and no open invoice needs it any more."""
    started = time.monotonic()
    ctx.mark("held_cdr")
    receipt = StepReceipt(category="held_cdr", cutoff=None)
    receipt.deleted = ctx.remove(select=partial(_select_held, ctx.cutoffs), delete=_delete_held, label="held_cdr")
    receipt.kept = HeldCdr.objects.count() - (receipt.deleted if ctx.dry_run else 0)
    ctx.add_receipt(receipt, started=started)


def step_invoices(ctx: PurgeContext) -> None:
    """Invoices after 7 years (AWR art. 52), unless held (e.g. an invoice dispute in court)."""
    started = time.monotonic()
    ctx.mark(Category.INVOICE)
    held_accounts = sorted({a for h in ctx.cutoffs.holds_on(Category.INVOICE) for a in h.account_ids})
    receipt = StepReceipt(category=Category.INVOICE, cutoff=ctx.cutoffs.invoice)
    receipt.deleted = ctx.remove(select=partial(_select_invoices, ctx.cutoffs, held_accounts),
                                 delete=_delete_invoices, label=Category.INVOICE, chunk_size=min(ctx.chunk_size, 1000))
    ctx.add_receipt(receipt, started=started)


def step_registered_purgers(ctx: PurgeContext) -> None:
    """Categories other apps keep (DSR export files, disclosure packages, closed accounts), registered
    with voipxs.privacy.registry.register_purger: one receipt each."""
    for category, purger in sorted(purgers().items()):
        started = time.monotonic()
        ctx.mark(category)
        result: dict[str, Any] = purger(now=ctx.cutoffs.now, dry_run=ctx.dry_run) or {}
        cutoff = result.get("cutoff")  # a purger that counts from one moment says which (ISO 8601)
        ctx.add_receipt(StepReceipt(category=category, cutoff=datetime.fromisoformat(cutoff) if cutoff else None,
                            deleted=int(result.get("deleted", 0)), anonymised=int(result.get("anonymised", 0)),
                            kept=int(result.get("kept", 0)),
                            details={k: v for k, v in result.items()
                                     if k not in {"deleted", "anonymised", "kept", "cutoff"}}), started=started)


STEPS: tuple[Callable[[PurgeContext], None], ...] = (
    step_cdr_months,
    step_cdrs_billed,
    step_cdrs_unbilled,
    step_cdr_technical,
    step_detached_tables,
    step_month_keys,
    step_held_cdrs,
    step_invoices,
    step_registered_purgers,
)


# --- the run ------------------------------------------------------------------------------------------------

def purge_expired(*, now: datetime | None = None, dry_run: bool = False, chunk_size: int = DEFAULT_CHUNK_SIZE,
                  fault: Fault | None = None, actor=None) -> dict:
    """Remove everything past retention and not held. Returns the run's receipt as a dict.

    Raises PurgeBusy when another purge holds the lock. `fault(step)` is a test hook called inside
    batches and between month steps; raising there simulates a worker dying at that point.
    """
    now = now or tz_now()
    actor = actor or PURGE_ACTOR
    holder = uuid.uuid4().hex
    if not lock_acquire(holder=holder):
        raise PurgeBusy(ANOTHER_PURGE_RUNNING)
    run = PurgeRun.objects.create(as_of=now, dry_run=dry_run, state={"months": {}})
    receipts: list[StepReceipt] = []
    try:
        ctx = PurgeContext(run=run, cutoffs=Cutoffs.at(now), dry_run=dry_run, chunk_size=chunk_size, fault=fault,
                           holder=holder, receipts=receipts)
        for step in STEPS:
            step(ctx)
    except Exception as exc:
        # Receipts of the steps that finished; the failed step's committed batches show up as less
        # work for the next run, which finishes the job.
        _receipts_write(run, receipts)
        run.status, run.finished_at = PurgeRun.Status.FAILED, tz_now()
        run.error = f"{type(exc).__name__} during {run.state.get('step', '?')}"[:300]
        run.save(update_fields=["status", "finished_at", "error", "state"])
        lock_release(holder=holder)
        raise
    with transaction.atomic():
        _receipts_write(run, receipts)
        run.status, run.finished_at = PurgeRun.Status.DONE, tz_now()
        run.save(update_fields=["status", "finished_at", "state"])
        audit_record(actor=actor, action="retention.purge_dry_run" if dry_run else "retention.purge",
                     target_type="purge_run", target_id=run.pk,
                     extra={"as_of": now.isoformat(), **{r.category: r.deleted for r in receipts}})
    lock_release(holder=holder)
    return purge_receipt_dict(run)


def _receipts_write(run: PurgeRun, receipts: list[StepReceipt]) -> None:
    PurgeReceipt.objects.bulk_create([
        PurgeReceipt(run=run, category=r.category, deleted=r.deleted, anonymised=r.anonymised, kept=r.kept,
                     cutoff=r.cutoff, duration_ms=r.duration_ms, dry_run=run.dry_run, details=r.details)
        for r in receipts])


def purge_daily(*, now: datetime | None = None) -> dict:
    """The beat job: purge, then a dry run as of tomorrow, so the DPO's page shows what the next run
    would remove."""
    now = now or tz_now()
    receipt = purge_expired(now=now)
    purge_expired(now=now + timedelta(days=1), dry_run=True)
    return receipt


def purge_receipt_dict(run: PurgeRun) -> dict:
    return {
        "run": run.pk, "as_of": run.as_of.isoformat(), "dry_run": run.dry_run, "status": run.status,
        "receipts": [
            {"category": r.category, "deleted": r.deleted, "anonymised": r.anonymised, "kept": r.kept,
             "cutoff": r.cutoff.isoformat() if r.cutoff else None, "duration_ms": r.duration_ms,
             "dry_run": r.dry_run, "details": r.details}
            for r in run.receipts.order_by("id")
        ],
    }
