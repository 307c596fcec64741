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
from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time as dtime, timedelta, timezone as dt_timezone
from typing import Any, Callable

from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils.timezone import now as tz_now

from traffic.keys import month_cipher, month_key_destroy
from traffic.models import Cdr, CdrTechnical, Invoice, MonthKey
from traffic.partitions import add_months, cdr_partition_months, month_start, partition_name, partitioning_enabled
from voipxs.privacy import crypto
from voipxs.privacy.audit import audit_record
from voipxs.privacy.purposes import SystemActor
from voipxs.privacy.registry import purgers

from .models import Category, HeldCdr, LegalHold, PurgeLock, PurgeReceipt, PurgeRun
from .selectors import legal_holds_active, retention_policy_at

logger = logging.getLogger(__name__)

PURGE_ACTOR = SystemActor("purge_expired")
DEFAULT_CHUNK_SIZE = 10_000
LOCK_LEASE = timedelta(minutes=40)
ANOTHER_PURGE_RUNNING = "Another purge is running; this run did nothing."
# Invoices whose calls may go once the dispute window has passed: nothing is owed or contested.
SETTLED_STATUSES = (Invoice.Status.PAID, Invoice.Status.VOID)
# Defaults used when a category has no policy row (never in a migrated database; a safety net).
_FALLBACK_PERIODS = {Category.CDR_UNBILLED: (3, 0), Category.CDR_TECHNICAL: (0, 30), Category.INVOICE: (84, 0)}

Fault = Callable[[str], None]


class PurgeBusy(Exception):
    """Another purge holds the lock."""


# --- time ---------------------------------------------------------------------------------------------

def shift_months(moment: datetime, months: int) -> datetime:
    """`moment` moved by whole calendar months, the day clamped to the target month's length."""
    first = add_months(date(moment.year, moment.month, 1), months)
    last_day = (add_months(first, 1) - timedelta(days=1)).day
    return moment.replace(year=first.year, month=first.month, day=min(moment.day, last_day))


def _period_cutoff(category: str, now: datetime) -> datetime:
    policy = retention_policy_at(category=category, at=now)
    months, days = (policy.period_months, policy.period_days) if policy else _FALLBACK_PERIODS[category]
    return shift_months(now, -months) - timedelta(days=days)


def _month_bounds(month: date) -> tuple[datetime, datetime]:
    lower = datetime.combine(month, dtime.min, tzinfo=dt_timezone.utc)
    return lower, datetime.combine(add_months(month, 1), dtime.min, tzinfo=dt_timezone.utc)


@dataclass
class Cutoffs:
    now: datetime
    today: date
    unbilled: datetime  # unbilled calls that started before this go
    technical: datetime  # technical identifiers of calls that started before this go
    invoice: datetime  # invoices issued before this go
    billed_grace_days: int  # days after the dispute window ends (policy cdr_billed, default 0)
    holds: dict[str, list[LegalHold]] = field(default_factory=dict)

    @classmethod
    def at(cls, now: datetime) -> "Cutoffs":
        billed = retention_policy_at(category=Category.CDR_BILLED, at=now)
        return cls(now=now, today=now.astimezone(dt_timezone.utc).date(),
                   unbilled=_period_cutoff(Category.CDR_UNBILLED, now),
                   technical=_period_cutoff(Category.CDR_TECHNICAL, now),
                   invoice=_period_cutoff(Category.INVOICE, now),
                   billed_grace_days=billed.period_days if billed else 0)


# --- what stays -------------------------------------------------------------------------------------------

def _settled_and_out(c: Cutoffs) -> Q:
    last_protected_day = c.today - timedelta(days=c.billed_grace_days)
    return Q(status__in=SETTLED_STATUSES, dispute_window_ends__lt=last_protected_day)


def protected_invoice_ids(c: Cutoffs) -> QuerySet:
    """Invoices whose calls must stay: not settled (open, disputed, anything unknown), or settled and
    still inside the dispute window. A paid invoice's calls go the day after its window ends."""
    return Invoice.objects.exclude(_settled_and_out(c)).values("id")


def settled_invoice_ids(c: Cutoffs, *, window_ended_since: date | None = None) -> QuerySet | list[int]:
    """Invoices whose calls may go. `window_ended_since` bounds the set on PostgreSQL: an invoice whose
    window ended before the oldest month that still has a partition can have no call left (a call
    precedes its invoice's window end), so the daily run does not probe every invoice of 7 years.
    On PostgreSQL the ids are a list, so the CDR query is an index scan per partition
    (`invoice_id = ANY(...)`) rather than a join the planner might answer with a sequential scan."""
    qs = Invoice.objects.filter(_settled_and_out(c))
    if window_ended_since is not None:
        qs = qs.filter(dispute_window_ends__gte=window_ended_since)
    if partitioning_enabled():
        return list(qs.values_list("id", flat=True))
    return qs.values("id")


def _hold_q(hold: LegalHold) -> Q:
    who = Q(pk__in=[])
    if hold.account_ids:
        who |= Q(account_id__in=hold.account_ids)
    if hold.number_indexes:
        who |= Q(src_index__in=hold.number_indexes) | Q(dst_index__in=hold.number_indexes)
    when = Q()
    if hold.window_start:
        when &= Q(started_at__gte=hold.window_start)
    if hold.window_end:
        when &= Q(started_at__lt=hold.window_end)
    return who & when


def _holds(c: Cutoffs, category: str) -> list[LegalHold]:
    if category not in c.holds:  # read once per run and category
        c.holds[category] = legal_holds_active(at=c.now, category=category)
    return c.holds[category]


def held_q(c: Cutoffs, category: str) -> Q | None:
    """Rows (of Cdr or HeldCdr: same field names) under an active hold on `category`; None if none."""
    holds = _holds(c, category)
    if not holds:
        return None
    q = _hold_q(holds[0])
    for hold in holds[1:]:
        q |= _hold_q(hold)
    return q


def expired_q(c: Cutoffs, category: str, *, settled_ids: QuerySet | list[int] | None = None) -> Q:
    """Rows past retention by the time rules alone (holds are applied separately)."""
    if category == Category.CDR_BILLED:
        return Q(invoice_id__in=settled_ids if settled_ids is not None else settled_invoice_ids(c))
    # Unbilled: no invoice refers to the call. Billing invoices each month in the next one, so a call
    # without an invoice after the period (3 months) was free, failed, unrated or never billed.
    return Q(invoice_id__isnull=True, started_at__lt=c.unbilled)


def keep_q(c: Cutoffs) -> Q:
    """Rows of a fully expired month that must still be kept (copied to the hold table)."""
    q = Q(invoice_id__in=protected_invoice_ids(c)) | Q(invoice_id__isnull=True, started_at__gte=c.unbilled)
    hq = held_q(c, Category.CDR_BILLED)
    hq_unbilled = held_q(c, Category.CDR_UNBILLED)
    for extra in (hq, hq_unbilled):
        if extra is not None:
            q |= extra
    return q


def _exclude_held(qs: QuerySet, c: Cutoffs, category: str) -> QuerySet:
    hq = held_q(c, category)
    return qs.exclude(hq) if hq is not None else qs


# --- the lock ---------------------------------------------------------------------------------------------

def _lock_acquire(holder: str) -> bool:
    PurgeLock.objects.get_or_create(pk=1)
    moment = tz_now()
    taken = (PurgeLock.objects.filter(pk=1).filter(Q(held_until__isnull=True) | Q(held_until__lt=moment))
             .update(holder=holder, held_until=moment + LOCK_LEASE))
    return taken == 1


def _lock_renew(holder: str) -> None:
    PurgeLock.objects.filter(pk=1, holder=holder).update(held_until=tz_now() + LOCK_LEASE)


def _lock_release(holder: str) -> None:
    PurgeLock.objects.filter(pk=1, holder=holder).update(holder="", held_until=None)


# --- batched deletes ----------------------------------------------------------------------------------------

def run_in_chunks(*, select: Callable[[], QuerySet], delete: Callable[[list[int]], int], chunk_size: int,
                  label: str, fault: Fault | None = None, on_batch: Callable[[], None] | None = None) -> int:
    """Delete what `select()` returns, `chunk_size` rows per transaction, until a batch finds nothing.

    Each batch re-selects, so a batch lost to a crash is picked up again by this or the next run.
    """
    total = 0
    while True:
        started = time.monotonic()
        with transaction.atomic():
            ids = list(select().values_list("id", flat=True)[:chunk_size])
            if not ids:
                break
            deleted = delete(ids)
            if fault is not None:
                fault(f"batch:{label}")  # tests raise here: the batch's deletes roll back
        total += deleted
        logger.info("purge %s: deleted %s rows in %.2fs", label, deleted, time.monotonic() - started)
        if on_batch is not None:
            on_batch()
    return total


def _delete_cdrs(ids: list[int]) -> int:
    CdrTechnical.objects.filter(cdr_id__in=ids).delete()
    return Cdr.objects.filter(id__in=ids).delete()[0]


# --- month drops (PostgreSQL) -----------------------------------------------------------------------------------

def droppable_months(c: Cutoffs) -> list[date]:
    """Months whose calls are all past retention by time: the whole month is older than the unbilled
    and technical periods and no invoice of the month is still inside its dispute window. What must
    stay of them (holds, unpaid or disputed invoices) is copied to the hold table first."""
    if not partitioning_enabled():
        return []
    candidates = [m for m in cdr_partition_months("traffic_cdr")
                  if _month_bounds(m)[1] <= c.unbilled and _month_bounds(m)[1] <= c.technical]
    in_window = set(Invoice.objects.filter(period__in=candidates, dispute_window_ends__gte=c.today)
                    .values_list("period", flat=True).distinct())
    return [m for m in candidates if m not in in_window]


def _partition_rows(table: str) -> int:
    """Rows of a partition: the planner's estimate for big ones (kept by autovacuum/ANALYZE, so the cost
    does not grow with the month), an exact count for small or never-analysed ones."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = %s", [table])
        row = cursor.fetchone()
        if row is None:
            return 0
        if row[0] >= 100_000:
            return int(row[0])
        cursor.execute(f'SELECT count(*) FROM "{table}"')
        return int(cursor.fetchone()[0])


def _kept_ids(table: str, c: Cutoffs, *, lower: datetime, upper: datetime) -> list[int]:
    """Ids of the rows of one month partition that must stay (same rules as `keep_q`), as a UNION of
    index scans: cost follows the kept rows and the protected invoices, not the rows of the month."""
    last_protected_day = c.today - timedelta(days=c.billed_grace_days)
    parts = [f"""SELECT id FROM "{table}" WHERE invoice_id = ANY(ARRAY(
        SELECT id FROM traffic_invoice WHERE NOT (status = ANY(%s) AND dispute_window_ends < %s)))"""]
    params: list[Any] = [list(SETTLED_STATUSES), last_protected_day]
    if upper > c.unbilled:  # never for a droppable month; kept for symmetry with keep_q
        parts.append(f'SELECT id FROM "{table}" WHERE invoice_id IS NULL AND started_at >= %s')
        params.append(c.unbilled)
    holds = {h.pk: h for category in (Category.CDR_BILLED, Category.CDR_UNBILLED) for h in _holds(c, category)}
    for hold in holds.values():
        start = max(lower, hold.window_start) if hold.window_start else lower
        end = min(upper, hold.window_end) if hold.window_end else upper
        if start >= end:
            continue
        for column, values in (("account_id", hold.account_ids), ("src_index", hold.number_indexes),
                               ("dst_index", hold.number_indexes)):
            if values:
                parts.append(f'SELECT id FROM "{table}" WHERE {column} = ANY(%s) AND started_at >= %s AND started_at < %s')
                params.extend([list(values), start, end])
    with connection.cursor() as cursor:
        cursor.execute(" UNION ".join(parts), params)
        return [row[0] for row in cursor.fetchall()]


def _copy_to_hold(rows: QuerySet, c: Cutoffs, month: date) -> int:
    if not rows.exists():
        return 0
    cipher = month_cipher(month)
    tech_hold = held_q(c, Category.CDR_TECHNICAL)
    tech_ids = set(rows.filter(tech_hold).values_list("id", flat=True)) if tech_hold is not None else set()
    technical = {t.cdr_id: t.payload_enc for t in CdrTechnical.objects.filter(cdr_id__in=tech_ids)} if tech_ids else {}
    copies = []

    def enc(cdr_id: int, token: Any) -> bytes | None:
        if token is None:
            return None
        plain = cipher.decrypt(bytes(token))
        return crypto.encrypt_bytes(plain.encode(), aad=f"heldcdr:{cdr_id}".encode())

    for cdr in rows.iterator(chunk_size=2000):
        copies.append(HeldCdr(
            cdr_id=cdr.id, started_at=cdr.started_at, source_id=cdr.source_id, unique_id=cdr.unique_id,
            fingerprint=cdr.fingerprint, import_batch_id=cdr.import_batch_id, account_id=cdr.account_id,
            contractor_id=cdr.contractor_id, direction=cdr.direction, disposition=cdr.disposition,
            answered_at=cdr.answered_at, duration=cdr.duration, billsec=cdr.billsec,
            src_enc=enc(cdr.id, cdr.src_enc), dst_enc=enc(cdr.id, cdr.dst_enc), src_index=cdr.src_index,
            dst_index=cdr.dst_index, caller_name_enc=enc(cdr.id, cdr.caller_name_enc),
            account_code=cdr.account_code, flags=cdr.flags, rating=cdr.rating, zone=cdr.zone, price=cdr.price,
            invoice_id=cdr.invoice_id, restricted_at=cdr.restricted_at,
            technical_enc=enc(cdr.id, technical.get(cdr.id)),
        ))
    # Idempotent: the (cdr_id, started_at) unique key makes a rerun insert nothing twice.
    HeldCdr.objects.bulk_create(copies, batch_size=1000, ignore_conflicts=True)
    return len(copies)


@dataclass
class MonthDrop:
    month: str
    rows: int
    technical_rows: int
    kept: int
    ms: int = 0
    detach_ms: int = 0  # lock, copy what stays, detach: the month is out of traffic_cdr
    drop_ms: int = 0  # DROP of the detached tables: the files go back to the file system


def _fast_commit() -> None:
    """Commit this transaction without waiting for the WAL flush. Safe here because every purge step is
    idempotent: a crash can only lose whole recent transactions (never part of one, never out of order),
    and the next run redoes what was lost. It saves a disk flush per month, which on small disks is
    most of a month's cost."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")


DETACHED_PREFIX = "retention_detached_"


def _detached_tables(month: date | None = None) -> list[str]:
    """Tables a purge detached but has not dropped yet (a run died in between): dropped by the next run."""
    if not partitioning_enabled():
        return []
    pattern = DETACHED_PREFIX + ("%" if month is None else f"%_y{month.year:04d}m{month.month:02d}")
    with connection.cursor() as cursor:
        cursor.execute("SELECT relname FROM pg_class WHERE relkind = 'r' AND relname LIKE %s ORDER BY relname",
                       [pattern.replace("_", "\\_")])
        return [row[0] for row in cursor.fetchall()]


def _drop_detached(names: list[str], fault: Fault | None = None) -> None:
    """Step two of a month drop, its own transaction: giving the files back to the file system costs
    time in proportion to their size on some disks (online discard), so it does not hold the lock
    that step one needs on traffic_cdr."""
    if not names:
        return
    with transaction.atomic():
        _fast_commit()
        with connection.cursor() as cursor:
            for name in names:
                cursor.execute(f'DROP TABLE IF EXISTS "{name}"')
        if fault is not None:
            fault("month:dropped")


def _drop_month(month: date, c: Cutoffs, *, dry_run: bool, fault: Fault | None,
                before_commit: Callable[[MonthDrop], None] | None = None) -> MonthDrop:
    """Step one, one transaction: lock the month, copy what stays to the hold table, detach the month's
    partitions and rename them out of the way. Step two (`_drop_detached`) drops them."""
    lower, upper = _month_bounds(month)
    cdr_part, tech_part = partition_name("traffic_cdr", month), partition_name("traffic_cdrtechnical", month)
    tech_exists = month in cdr_partition_months("traffic_cdrtechnical")
    started = time.monotonic()
    with transaction.atomic():
        if not dry_run:
            _fast_commit()
            with connection.cursor() as cursor:
                # No insert may slip into the month between the copy and the detach.
                cursor.execute(f'LOCK TABLE "{cdr_part}" IN ACCESS EXCLUSIVE MODE')
                if tech_exists:
                    cursor.execute(f'LOCK TABLE "{tech_part}" IN ACCESS EXCLUSIVE MODE')
        rows = _partition_rows(cdr_part)
        tech_rows = _partition_rows(tech_part) if tech_exists else 0
        kept_qs = Cdr.objects.filter(started_at__gte=lower, started_at__lt=upper,
                                     id__in=_kept_ids(cdr_part, c, lower=lower, upper=upper))
        if dry_run:
            kept = kept_qs.count()
            return MonthDrop(month=f"{month:%Y-%m}", rows=rows - kept, technical_rows=tech_rows, kept=kept)
        kept = _copy_to_hold(kept_qs, c, month)
        if fault is not None:
            fault("month:copied")
        with connection.cursor() as cursor:
            # Deferred FK checks of rows written earlier in this same transaction (only ever the case
            # inside a test's transaction) would block the DETACH; check them now instead.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            for parent, part, exists in (("traffic_cdr", cdr_part, True), ("traffic_cdrtechnical", tech_part, tech_exists)):
                if exists:
                    cursor.execute(f'ALTER TABLE {parent} DETACH PARTITION "{part}"')
                    cursor.execute(f'ALTER TABLE "{part}" RENAME TO "{DETACHED_PREFIX}{part}"')
        audit_record(actor=PURGE_ACTOR, action="retention.month_drop", target_type="cdr_month",
                     target_id=f"{month:%Y-%m}", extra={"rows": rows - kept, "kept": kept, "technical": tech_rows})
        result = MonthDrop(month=f"{month:%Y-%m}", rows=rows - kept, technical_rows=tech_rows, kept=kept)
        if before_commit is not None:
            before_commit(result)  # the run's step state commits with the detach it records
    result.detach_ms = int((time.monotonic() - started) * 1000)
    dropping = time.monotonic()
    _drop_detached(_detached_tables(month), fault)
    result.drop_ms = int((time.monotonic() - dropping) * 1000)
    return result


def _emptied_months_with_keys(c: Cutoffs, *, remaining_cdrs: Callable[[QuerySet], QuerySet] | None = None,
                              remaining_technical: Callable[[QuerySet], QuerySet] | None = None) -> list[date]:
    """Months whose key is still live although the whole month is expired and no row of it is left:
    dropped on PostgreSQL (maybe by a run that died before destroying the key) or emptied by batches."""
    months = []
    for key in MonthKey.objects.filter(wrapped_key__isnull=False).order_by("month"):
        lower, upper = _month_bounds(key.month)
        if upper > c.unbilled or upper > c.technical:
            continue
        cdrs = Cdr.objects.filter(started_at__gte=lower, started_at__lt=upper)
        technical = CdrTechnical.objects.filter(started_at__gte=lower, started_at__lt=upper)
        if remaining_cdrs is not None and remaining_technical is not None:  # dry run: what the batches leave
            cdrs, technical = remaining_cdrs(cdrs), remaining_technical(technical)
        if cdrs.exists() or technical.exists() or _detached_tables(key.month):
            continue
        months.append(key.month)
    return months


# --- the run ------------------------------------------------------------------------------------------------

@dataclass
class _Step:
    category: str
    cutoff: datetime | None
    deleted: int = 0
    anonymised: int = 0
    kept: int = 0
    details: dict = field(default_factory=dict)
    duration_ms: int = 0


def _months_excluded(qs: QuerySet, months: list[date]) -> QuerySet:
    for month in months:
        lower, upper = _month_bounds(month)
        qs = qs.exclude(started_at__gte=lower, started_at__lt=upper)
    return qs


def purge_expired(*, now: datetime | None = None, dry_run: bool = False, chunk_size: int = DEFAULT_CHUNK_SIZE,
                  fault: Fault | None = None, actor=None) -> dict:
    """Remove everything past retention and not held. Returns the run's receipt as a dict.

    Raises PurgeBusy when another purge holds the lock. `fault(step)` is a test hook called inside
    batches and between month steps; raising there simulates a worker dying at that point.
    """
    now = now or tz_now()
    actor = actor or PURGE_ACTOR
    holder = uuid.uuid4().hex
    if not _lock_acquire(holder):
        raise PurgeBusy(ANOTHER_PURGE_RUNNING)
    run = PurgeRun.objects.create(as_of=now, dry_run=dry_run, state={"months": {}})
    steps: list[_Step] = []
    try:
        c = Cutoffs.at(now)
        _run_steps(run, c, steps, dry_run=dry_run, chunk_size=chunk_size, fault=fault,
                   renew=lambda: _lock_renew(holder))
    except Exception as exc:
        # Receipts of the steps that finished; the failed step's committed batches show up as less
        # work for the next run, which finishes the job.
        _receipts_write(run, steps, dry_run=dry_run)
        run.status, run.finished_at = PurgeRun.Status.FAILED, tz_now()
        run.error = f"{type(exc).__name__} during {run.state.get('step', '?')}"[:300]
        run.save(update_fields=["status", "finished_at", "error", "state"])
        _lock_release(holder)
        raise
    with transaction.atomic():
        _receipts_write(run, steps, dry_run=dry_run)
        run.status, run.finished_at = PurgeRun.Status.DONE, tz_now()
        run.save(update_fields=["status", "finished_at", "state"])
        audit_record(actor=actor, action="retention.purge_dry_run" if dry_run else "retention.purge",
                     target_type="purge_run", target_id=run.pk,
                     extra={"as_of": now.isoformat(), **{s.category: s.deleted for s in steps}})
    _lock_release(holder)
    return purge_receipt_dict(run)


def _receipts_write(run: PurgeRun, steps: list[_Step], *, dry_run: bool) -> None:
    PurgeReceipt.objects.bulk_create([
        PurgeReceipt(run=run, category=step.category, deleted=step.deleted, anonymised=step.anonymised, kept=step.kept,
                     cutoff=step.cutoff, duration_ms=step.duration_ms, dry_run=dry_run, details=step.details)
        for step in steps])


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


def _timed(step: _Step, started: float) -> _Step:
    step.duration_ms = int((time.monotonic() - started) * 1000)
    return step


def _run_steps(run: PurgeRun, c: Cutoffs, steps: list[_Step], *, dry_run: bool, chunk_size: int,
               fault: Fault | None, renew: Callable[[], None]) -> None:
    def mark(step_name: str) -> None:
        with transaction.atomic():  # progress note and lease renewal: one commit, no flush wait
            _fast_commit()
            run.state["step"] = step_name
            run.save(update_fields=["state"])
            renew()


    # 1. Whole months (PostgreSQL): copy what stays, detach and drop, then destroy the key.
    started = time.monotonic()
    months = droppable_months(c)
    drop = _Step(category="cdr_month_drop", cutoff=c.unbilled, details={"months": []})
    def record_drop(result: MonthDrop) -> None:
        run.state["step"] = f"month {result.month}"
        run.state["months"][result.month] = ["copied", "detached"]
        run.save(update_fields=["state"])
        renew()

    for month in months:
        month_started = time.monotonic()
        result = _drop_month(month, c, dry_run=dry_run, fault=fault, before_commit=record_drop)
        result.ms = int((time.monotonic() - month_started) * 1000)
        drop.deleted += result.rows
        drop.kept += result.kept
        drop.details["months"].append(result.__dict__)
        if not dry_run:
            run.state["months"][result.month].append("dropped")
        if not dry_run and fault is not None:
            fault("month:before_key")
    steps.append(_timed(drop, started))

    # 2. Batched deletes of CDRs outside whole-month drops (partial months; every month on SQLite).
    cdr_selects: list[Callable[[], QuerySet]] = []
    remaining_months = [m for m in cdr_partition_months("traffic_cdr") if dry_run or m not in months]
    settled_ids = settled_invoice_ids(c, window_ended_since=remaining_months[0] if remaining_months else None)
    for category in (Category.CDR_BILLED, Category.CDR_UNBILLED):
        started = time.monotonic()
        mark(category)

        def select(category: str = category) -> QuerySet:
            qs = Cdr.objects.filter(expired_q(c, category, settled_ids=settled_ids))
            return _exclude_held(_months_excluded(qs, months if dry_run else []), c, category)

        cdr_selects.append(select)
        step = _Step(category=category, cutoff=c.unbilled if category == Category.CDR_UNBILLED else None)
        if category == Category.CDR_BILLED:
            step.details["dispute_window_ended_before"] = (c.today - timedelta(days=c.billed_grace_days)).isoformat()
        if dry_run:
            step.deleted = select().count()
        else:
            step.deleted = run_in_chunks(select=select, delete=_delete_cdrs, chunk_size=chunk_size, label=category,
                                         fault=fault, on_batch=renew)
        steps.append(_timed(step, started))

    # 3. Technical identifiers older than their period; the call's billing fields stay.
    started = time.monotonic()
    mark(Category.CDR_TECHNICAL)
    tech_hold = held_q(c, Category.CDR_TECHNICAL)

    def select_technical() -> QuerySet:
        qs = _months_excluded(CdrTechnical.objects.filter(started_at__lt=c.technical), months if dry_run else [])
        if tech_hold is not None:
            qs = qs.exclude(cdr_id__in=Cdr.objects.filter(tech_hold).values("id"))
        if dry_run:  # the real run removes these with their CDR in step 2
            for cdr_select in cdr_selects:
                qs = qs.exclude(cdr_id__in=cdr_select().values("id"))
        return qs

    step = _Step(category=Category.CDR_TECHNICAL, cutoff=c.technical)
    if dry_run:
        step.deleted = select_technical().count()
    else:
        step.deleted = run_in_chunks(select=select_technical, chunk_size=chunk_size, label=Category.CDR_TECHNICAL,
                                     delete=lambda ids: CdrTechnical.objects.filter(id__in=ids).delete()[0],
                                     fault=fault, on_batch=renew)
    steps.append(_timed(step, started))

    # 3a. Tables detached by a run that died before dropping them.
    if not dry_run:
        mark("detached tables")
        _drop_detached(_detached_tables())

    # 3b. Month keys: destroy the key of every expired month that has no row left (dropped above, emptied
    # by the batches, or dropped by an earlier run that died before this step). Never while a row remains.
    started = time.monotonic()
    mark("month keys")
    if dry_run:
        def remaining_cdrs(qs: QuerySet) -> QuerySet:
            for cdr_select in cdr_selects:
                qs = qs.exclude(id__in=cdr_select().values("id"))
            return _months_excluded(qs, months)

        def remaining_technical(qs: QuerySet) -> QuerySet:
            qs = qs.exclude(id__in=select_technical().values("id"))
            for cdr_select in cdr_selects:  # removed with their CDR
                qs = qs.exclude(cdr_id__in=cdr_select().values("id"))
            return _months_excluded(qs, months)
    else:
        remaining_cdrs = remaining_technical = None
    emptied = _emptied_months_with_keys(c, remaining_cdrs=remaining_cdrs, remaining_technical=remaining_technical)
    if not dry_run and emptied:
        with transaction.atomic():  # one commit for all keys; each destruction is idempotent
            _fast_commit()
            for month in emptied:
                month_key_destroy(month=month, actor=PURGE_ACTOR)
                run.state["months"].setdefault(f"{month:%Y-%m}", []).append("key_destroyed")
            run.save(update_fields=["state"])
    steps.append(_timed(_Step(category="month_key", cutoff=c.unbilled, deleted=len(emptied),
                              details={"months": [f"{m:%Y-%m}" for m in emptied]}), started))

    # 4. The hold table: a copy goes once no hold and no open invoice needs it any more.
    started = time.monotonic()
    mark("held_cdr")

    def select_held() -> QuerySet:
        return HeldCdr.objects.exclude(keep_q(c))

    step = _Step(category="held_cdr", cutoff=None)
    if dry_run:
        step.deleted = select_held().count()
    else:
        step.deleted = run_in_chunks(select=select_held, chunk_size=chunk_size, label="held_cdr",
                                     delete=lambda ids: HeldCdr.objects.filter(id__in=ids).delete()[0],
                                     fault=fault, on_batch=renew)
    step.kept = HeldCdr.objects.count() - (step.deleted if dry_run else 0)
    steps.append(_timed(step, started))

    # 5. Invoices after 7 years (AWR art. 52), unless held (e.g. an invoice dispute in court).
    started = time.monotonic()
    mark(Category.INVOICE)
    inv_hold = _holds(c, Category.INVOICE)
    held_accounts = sorted({a for h in inv_hold for a in h.account_ids})

    def select_invoices() -> QuerySet:
        return Invoice.objects.filter(issued_at__lt=c.invoice, status__in=SETTLED_STATUSES).exclude(
            account_id__in=held_accounts)

    step = _Step(category=Category.INVOICE, cutoff=c.invoice)
    if dry_run:
        step.deleted = select_invoices().count()
    else:
        step.deleted = run_in_chunks(select=select_invoices, chunk_size=min(chunk_size, 1000), label=Category.INVOICE,
                                     delete=lambda ids: Invoice.objects.filter(id__in=ids).delete()[1].get(
                                         "traffic.Invoice", 0), fault=fault, on_batch=renew)
    steps.append(_timed(step, started))

    # 6. Categories other apps keep (DSR export files, disclosure packages, closed accounts).
    for category, purger in sorted(purgers().items()):
        started = time.monotonic()
        mark(category)
        result = purger(now=c.now, dry_run=dry_run) or {}
        cutoff = result.get("cutoff")  # a purger that counts from one moment says which (ISO 8601)
        steps.append(_timed(_Step(category=category, cutoff=datetime.fromisoformat(cutoff) if cutoff else None,
                                  deleted=int(result.get("deleted", 0)), anonymised=int(result.get("anonymised", 0)),
                                  kept=int(result.get("kept", 0)),
                                  details={k: v for k, v in result.items()
                                           if k not in {"deleted", "anonymised", "kept", "cutoff"}}), started))
