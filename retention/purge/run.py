# The daily purge: removes what is past its retention period and not held, and says what it removed.
#
# Why this design is safe (deleting personal data is irreversible, so every step errs toward keeping):
# - What stays is decided by positive rules that protect rows (an invoice that is unpaid, disputed or
#   not past its calls_kept_until: its dispute window, or a decided dispute's appeal period (an upheld
#   one's is also its last day to reissue); an unbilled call younger than its period; an active legal hold); a row
#   is removed only if no rule protects it. An unknown invoice state protects its calls.
# - Batched deletes run one transaction per batch (like zulip's run_archiving_in_chunks) and select
#   each batch afresh from the database, so a run that dies inside a batch loses only that batch's
#   uncommitted work and the next run simply continues; nothing is computed from a stale list.
# - A whole month on PostgreSQL is shredded in ONE transaction: lock the month's partitions, copy the
#   rows that must stay into retention_heldcdr (re-encrypted under the master key, idempotent through
#   a unique key), detach the partitions and destroy the month's data key. Either all of it happens or
#   none; from its commit the month is unreadable, backups included (months.py). Dropping the detached
#   tables (the reclaim) is a later step, one transaction per month, and the next run drops whatever
#   a run that died after its shred left. A month emptied by batches loses its key once no row of it is
#   left, in a later step that the next run repeats. The key is never destroyed while a row of its
#   month is still in traffic_cdr or traffic_cdrtechnical. Notes on calls (GDPR art. 16) go with their
#   calls: in the same batch, in the month's shred (a kept call's note stays with it), never after them.
# - Two purges never run at once: a lease row taken with one conditional UPDATE (atomic on PostgreSQL
#   and SQLite) and renewed with every committed batch and step; a dead worker's lease runs out
#   PURGE_LEASE_SECONDS after its last batch, and the next run (or the reaper) takes over and marks
#   the dead run failed (lock.py, runs.py).
# - Receipts are written as the run goes, each batch's counts in the batch's own transaction, so a
#   killed run's receipts are exactly what it removed (runs.py). Receipts and audit entries hold
#   counts, cutoffs and month names, never data.
# - A dry run walks the same decisions with the same querysets and only counts. It takes no lease, so
#   a running purge never blocks it.
# - Month drops and key destructions commit with synchronous_commit off (PostgreSQL still flushes a
#   commit that drops files): a crash can only lose whole recent transactions, in order, and the next
#   run redoes them, so durability of each purge commit is not needed for safety.
#
# The run is a loop over STEPS, named functions in the order they run, each taking the one
# PurgeContext they share (the run row, the cutoffs, the dry-run flag, the lease's holder, the months
# the first step dropped). The rules live in rules.py, the lease in lock.py, the run rows and receipts
# in runs.py, the batches in chunks.py, the month drops in months.py.
from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any, Callable

from django.db import transaction
from django.db.models import QuerySet
from django.utils.timezone import now as tz_now

from traffic.keys import month_key_destroy
from traffic.models import Cdr, CdrTechnical, Invoice
from traffic.partitions import cdr_partition_months, month_start
from traffic.services.annotations import cdr_annotations_delete, cdr_annotations_month_forget
from voipxs.privacy.registry import purgers

from ..models import Category, HeldCdr, PurgedMonth, PurgeRun
from .call_ids import step_cdr_call_ids
from .chunks import DEFAULT_CHUNK_SIZE, Fault, fast_commit, run_in_chunks
from .held import step_held_technical
from .lock import lease_release, lease_renew
from .months import (MonthDrop, detached_months, droppable_months, emptied_months_with_keys, reclaim_month,
                     shred_month)
from .rules import (PURGE_ACTOR, SETTLED_STATUSES, Cutoffs, exclude_held, expired_q, held_q, hold_account_ids, keep_q,
                    months_excluded, settled_invoice_ids)
from .runs import Receipt, purge_receipt_dict, run_fail, run_finish, run_start

CDR_CATEGORIES = (Category.CDR_BILLED, Category.CDR_UNBILLED)


@dataclass
class PurgeContext:
    """What the steps share. Each step reads the cutoffs and flags and writes its receipt (runs.py);
    step_cdr_months leaves the months it dropped (a dry run: would drop) for the later steps."""

    run: PurgeRun
    cutoffs: Cutoffs
    dry_run: bool
    chunk_size: int
    fault: Fault | None
    holder: str  # the lease's holder id (lock.py); "" for a dry run, which takes no lease
    months: list[date] = field(default_factory=list)
    # The month drop's receipt and its months (MonthDrop dicts): the reclaim adds each month's reclaimed_at.
    drop_receipt: Receipt | None = None
    drop_months: list[dict] = field(default_factory=list)
    # Invoices whose calls may go, read once per run by the first CDR step that needs them.
    settled_ids: QuerySet | list[int] | None = None

    def renew(self) -> None:
        """Inside the transaction of the work it vouches for: raises PurgeLeaseLost after a takeover."""
        if self.holder:
            lease_renew(holder=self.holder)

    def begin(self, step_name: str, *, category: str | None = None, cutoff: datetime | None = None,
              details: dict | None = None) -> Receipt | None:
        """Note the step on the run row (a failure names it), beat the run's heart, renew the lease and
        open the step's receipt (if it has a category): one commit, no flush wait."""
        with transaction.atomic():
            fast_commit()
            self.run.state["step"] = step_name
            self.run.heartbeat_at = tz_now()
            self.run.save(update_fields=["state", "heartbeat_at"])
            self.renew()
            return Receipt(self.run, category=category, cutoff=cutoff, details=details) if category else None

    def record_drop(self, receipt: Receipt, months: list[dict], result: MonthDrop) -> None:
        """shred_month's before_commit: the run's step state and the receipt's counts commit with the
        detach and the key destruction they record."""
        self.run.state["step"] = f"month {result.month}"
        self.run.state["months"][result.month] = ["copied", "detached", "key_destroyed"]
        self.run.save(update_fields=["state"])
        months.append(result.__dict__)
        receipt.add(deleted=result.rows, kept=result.kept, details={"months": months})
        self.renew()

    def record_reclaim(self, receipt: Receipt, reclaimed: list[dict], month: str, moment: str) -> None:
        """reclaim_month's before_commit: both receipts say when the month's files went, with the DROP."""
        self.run.state["step"] = f"reclaim {month}"
        self.run.state["months"].setdefault(month, []).append("reclaimed")
        self.run.save(update_fields=["state"])
        reclaimed.append({"month": month, "reclaimed_at": moment})
        receipt.add(details={"months": reclaimed})
        mine = [m for m in self.drop_months if m["month"] == month]
        if self.drop_receipt is not None and mine:  # shredded by this run: its drop receipt says it too
            mine[0]["reclaimed_at"] = moment
            self.drop_receipt.add(details={"months": self.drop_months})
        self.renew()

    def months_skipped(self) -> list[date]:
        """Months the batch steps leave out: in a dry run, those step_cdr_months counted as dropped."""
        return self.months if self.dry_run else []

    def remove(self, *, select: Callable[[], QuerySet], delete: Callable[[list[int]], int], label: str,
               receipt: Receipt, chunk_size: int | None = None) -> int:
        """What `select()` finds: counted in a dry run, deleted in batches otherwise, each batch's count
        added to `receipt` and the lease renewed in the batch's own transaction."""
        if self.dry_run:
            return select().count()

        def record(deleted: int) -> None:
            receipt.add(deleted=deleted)
            self.renew()

        return run_in_chunks(select=select, delete=delete, label=label, fault=self.fault, record=record,
                             chunk_size=self.chunk_size if chunk_size is None else chunk_size)


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
    """A void invoice stays as long as the corrected one that replaces it (Invoice.replaces, PROTECT): it goes
    in a later batch or run, once its successor has."""
    return Invoice.objects.filter(issued_at__lt=cutoffs.invoice, status__in=SETTLED_STATUSES).exclude(
        account_id__in=held_accounts).exclude(replaced_by__isnull=False)


def _delete_cdrs(ids: list[int]) -> int:
    CdrTechnical.objects.filter(cdr_id__in=ids).delete()
    deleted = Cdr.objects.filter(id__in=ids).delete()[0]
    cdr_annotations_delete(cdr_ids=ids)  # after the calls: a note written meanwhile held its call's row
    return deleted


def _delete_technical(ids: list[int]) -> int:
    return CdrTechnical.objects.filter(id__in=ids).delete()[0]


def _delete_held(ids: list[int]) -> int:
    cdr_ids = list(HeldCdr.objects.filter(id__in=ids).values_list("cdr_id", flat=True))
    deleted = HeldCdr.objects.filter(id__in=ids).delete()[0]
    cdr_annotations_delete(cdr_ids=cdr_ids)  # the kept call's notes go with it
    return deleted


def _delete_invoices(ids: list[int]) -> int:
    return Invoice.objects.filter(id__in=ids).delete()[1].get("traffic.Invoice", 0)


# --- the steps, in the order they run --------------------------------------------------------------------------

def step_cdr_months(ctx: PurgeContext) -> None:
    """Whole months (PostgreSQL): copy what stays, detach and destroy the key, one transaction a month
    (the shred); step_month_reclaim drops the detached tables afterwards."""
    ctx.months = droppable_months(ctx.cutoffs)
    receipt = ctx.begin("cdr_month_drop", category="cdr_month_drop", cutoff=ctx.cutoffs.unbilled,
                        details={"months": []})
    ctx.drop_receipt, months = receipt, ctx.drop_months  # each month's MonthDrop, as the receipt's details
    deleted = kept = 0
    for month in ctx.months:
        result = shred_month(month, ctx.cutoffs, run=ctx.run, dry_run=ctx.dry_run, fault=ctx.fault,
                             before_commit=partial(ctx.record_drop, receipt, months))
        deleted, kept = deleted + result.rows, kept + result.kept
        if ctx.dry_run:
            months.append(result.__dict__)
        elif ctx.fault is not None:
            ctx.fault("month:shredded")  # committed: unreadable, its tables not dropped yet
    receipt.close(deleted=deleted, kept=kept, details={"months": months})  # with each month's timings


def step_month_reclaim(ctx: PurgeContext) -> None:
    """The files of shredded months back to the file system: the tables this run detached and any that a
    run which died after its shred left behind, one transaction per month."""
    receipt = ctx.begin("cdr_month_reclaim", category="cdr_month_reclaim", details={"months": []})
    reclaimed: list[dict] = []
    if ctx.dry_run:  # would reclaim: the months it shreds and what a dead run left
        pending = sorted({f"{m:%Y-%m}" for m in [*ctx.months, *detached_months()]})
        receipt.close(details={"months": [{"month": m} for m in pending]})
        return
    for month, names in detached_months().items():
        started = time.monotonic()
        reclaim_month(month, names, fault=ctx.fault,
                      before_commit=partial(ctx.record_reclaim, receipt, reclaimed, f"{month:%Y-%m}"))
        reclaimed[-1]["ms"] = int((time.monotonic() - started) * 1000)  # the DROP and its commit (the unlinks)
        if ctx.fault is not None:
            ctx.fault("month:reclaimed")
    receipt.close(details={"months": reclaimed})


def _step_cdrs(ctx: PurgeContext, category: str) -> None:
    """Batched deletes of CDRs outside whole-month drops (partial months; every month on SQLite)."""
    details = {}
    if category == Category.CDR_BILLED:
        details["dispute_window_ended_before"] = ctx.cutoffs.billed_kept_before.isoformat()
    receipt = ctx.begin(category, category=category, details=details,
                        cutoff=ctx.cutoffs.unbilled if category == Category.CDR_UNBILLED else None)
    receipt.close(deleted=ctx.remove(select=partial(_select_cdrs, ctx, category), delete=_delete_cdrs,
                                     label=category, receipt=receipt))


def step_cdrs_billed(ctx: PurgeContext) -> None:
    """Calls of settled invoices whose keep-until (dispute window, appeal period) has passed."""
    _step_cdrs(ctx, Category.CDR_BILLED)


def step_cdrs_unbilled(ctx: PurgeContext) -> None:
    """Calls no invoice refers to, older than the unbilled period."""
    _step_cdrs(ctx, Category.CDR_UNBILLED)


def step_cdr_technical(ctx: PurgeContext) -> None:
    """Technical identifiers older than their period; the call's billing fields stay."""
    receipt = ctx.begin(Category.CDR_TECHNICAL, category=Category.CDR_TECHNICAL, cutoff=ctx.cutoffs.technical)
    receipt.close(deleted=ctx.remove(select=partial(_select_technical, ctx), delete=_delete_technical,
                                     label=Category.CDR_TECHNICAL, receipt=receipt))


def step_month_keys(ctx: PurgeContext) -> None:
    """Month keys: destroy the key of every expired month that the batches emptied (a month detached whole
    lost its key when it was detached). Never while a row remains."""
    receipt = ctx.begin("month keys", category="month_key", cutoff=ctx.cutoffs.unbilled)
    if ctx.dry_run:
        emptied = [m for m in emptied_months_with_keys(ctx.cutoffs, remaining_cdrs=partial(_remaining_cdrs, ctx),
                                                       remaining_technical=partial(_remaining_technical, ctx))
                   if m not in ctx.months]  # those step_cdr_months shreds with their detach
    else:
        emptied = emptied_months_with_keys(ctx.cutoffs)
    details = {"months": [f"{m:%Y-%m}" for m in emptied]}
    if not ctx.dry_run and emptied:
        with transaction.atomic():  # one commit for all keys, with their count; each destruction is idempotent
            fast_commit()
            for month in emptied:
                cdr_annotations_month_forget(month=month)  # none left, as a rule: each went with its call
                key = month_key_destroy(month=month, actor=PURGE_ACTOR)
                PurgedMonth.objects.update_or_create(month=month_start(month), defaults={
                    "method": PurgedMonth.Method.BATCHES, "shredded_at": key.destroyed_at, "run": ctx.run})
                ctx.run.state["months"].setdefault(f"{month:%Y-%m}", []).append("key_destroyed")
            ctx.run.save(update_fields=["state"])
            receipt.add(deleted=len(emptied), details=details)
            ctx.renew()
    receipt.close(deleted=len(emptied), details=details)


def step_held_cdrs(ctx: PurgeContext) -> None:
    """The hold table: a copy goes once no hold and no open invoice needs it any more."""
    receipt = ctx.begin("held_cdr", category="held_cdr")
    deleted = ctx.remove(select=partial(_select_held, ctx.cutoffs), delete=_delete_held, label="held_cdr",
                         receipt=receipt)
    receipt.close(deleted=deleted, kept=HeldCdr.objects.count() - (deleted if ctx.dry_run else 0))


def step_invoices(ctx: PurgeContext) -> None:
    """Invoices after 7 years (AWR art. 52), unless held (e.g. an invoice dispute in court)."""
    receipt = ctx.begin(Category.INVOICE, category=Category.INVOICE, cutoff=ctx.cutoffs.invoice)
    held_accounts = sorted(hold_account_ids(ctx.cutoffs.holds_on(Category.INVOICE)))  # named, or holding a named number
    receipt.close(deleted=ctx.remove(select=partial(_select_invoices, ctx.cutoffs, held_accounts),
                                     delete=_delete_invoices, label=Category.INVOICE, receipt=receipt,
                                     chunk_size=min(ctx.chunk_size, 1000)))


def step_registered_purgers(ctx: PurgeContext) -> None:
    """Categories other apps keep (DSR export files, disclosure packages, closed accounts), registered
    with voipxs.privacy.registry.register_purger: one receipt each, filled in when the purger returns
    (it commits its own work and writes its own audit entries)."""
    for category, purger in sorted(purgers().items()):
        receipt = ctx.begin(category, category=category)
        result: dict[str, Any] = purger(now=ctx.cutoffs.now, dry_run=ctx.dry_run) or {}
        cutoff = result.get("cutoff")  # a purger that counts from one moment says which (ISO 8601)
        receipt.close(cutoff=datetime.fromisoformat(cutoff) if cutoff else None,
                      deleted=int(result.get("deleted", 0)), anonymised=int(result.get("anonymised", 0)),
                      kept=int(result.get("kept", 0)),
                      details={k: v for k, v in result.items() if k not in {"deleted", "anonymised", "kept", "cutoff"}})


STEPS: tuple[Callable[[PurgeContext], None], ...] = (
    step_cdr_months,
    step_month_reclaim,
    step_cdrs_billed,
    step_cdrs_unbilled,
    step_cdr_technical,
    step_cdr_call_ids,
    step_month_keys,
    step_held_cdrs,
    step_held_technical,
    step_invoices,
    step_registered_purgers,
)


# --- the run ------------------------------------------------------------------------------------------------

def purge_expired(*, now: datetime | None = None, dry_run: bool = False, chunk_size: int = DEFAULT_CHUNK_SIZE,
                  fault: Fault | None = None, actor=None) -> dict:
    """Remove everything past retention and not held. Returns the run's receipt as a dict.

    Raises PurgeBusy when a live purge holds the lease (a dry run takes none and is never refused), and
    PurgeLeaseLost when this run's lease ran out and another run took over. `fault(step)` is a test hook
    called inside batches and between month steps; raising there simulates a worker dying at that point.
    """
    now = now or tz_now()
    run, holder = run_start(as_of=now, dry_run=dry_run)
    try:
        ctx = PurgeContext(run=run, cutoffs=Cutoffs.at(now), dry_run=dry_run, chunk_size=chunk_size, fault=fault,
                           holder=holder)
        for step in STEPS:
            step(ctx)
        run_finish(run=run, holder=holder, actor=actor or PURGE_ACTOR)
    except Exception as exc:
        # The receipts already say what the run did, each batch's counts committed with its deletes;
        # the next run finishes the job.
        PurgeRun.objects.filter(pk=run.pk, status=PurgeRun.Status.RUNNING).update(state=run.state)
        run_fail(run=run, error=f"{type(exc).__name__} during {run.state.get('step', '?')}")
        if holder:
            lease_release(holder=holder)
        raise
    return purge_receipt_dict(run)


def purge_daily(*, now: datetime | None = None) -> dict:
    """The beat job: purge, then a dry run as of tomorrow, so the DPO's page shows what the next run
    would remove."""
    now = now or tz_now()
    receipt = purge_expired(now=now)
    purge_expired(now=now + timedelta(days=1), dry_run=True)
    return receipt
