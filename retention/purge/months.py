"""Whole-month removal on PostgreSQL: which months may go, copying the rows that must stay to the
hold table, detaching the month's partitions and destroying its data key (the shred), and dropping
the detached tables afterwards (the reclaim).

A month is shredded in ONE transaction: lock the month's partitions, copy the rows that must stay into
retention_heldcdr (re-encrypted under the master key, idempotent through a unique key), detach the
partitions, rename them out of the way and destroy the month's data key (the notes on its calls go with them;
a kept call's note is re-sealed under the master key and stays with its copy). Either all of it happens or
none. From its commit the month is unreadable everywhere: no row of it is left in traffic_cdr, and
the detached tables, the dumps and the month-key backup (re-taken when the key changes) hold only
ciphertext under a key that no longer exists. Dropping the detached tables, which gives their files
back to the file system and costs time per MB on some disks, is a second step (`reclaim_month`), one
transaction per month; a run that dies in between leaves tables that are already unreadable, and the
next run drops them (`detached_months`).
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Callable

from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils.timezone import now as tz_now

from traffic.keys import month_cipher, month_key_destroy
from traffic.models import Cdr, CdrTechnical, Invoice, MonthKey
from traffic.partitions import cdr_partition_months, partition_name, partitioning_enabled
from traffic.services.annotations import cdr_annotations_month_drop
from voipxs.privacy import crypto
from voipxs.privacy.audit import audit_record
from voipxs.privacy.purposes import RETENTION_PURPOSE

from ..models import Category, HeldCdr, PurgedMonth, PurgeRun
from .chunks import Fault, fast_commit
from .rules import CALL_HOLD_CATEGORIES, PURGE_ACTOR, SETTLED_STATUSES, Cutoffs, held_q, month_bounds

DETACHED_PREFIX = "retention_detached_"


@dataclass
class MonthDrop:
    month: str
    rows: int
    technical_rows: int
    kept: int
    ms: int = 0  # lock, copy what stays, detach, destroy the key, commit: the time to unrecoverable
    shredded_at: str | None = None  # ISO 8601: the key's destruction, in the commit that detached the month
    reclaimed_at: str | None = None  # ISO 8601: the DROP of its detached tables; None until then


def droppable_months(c: Cutoffs) -> list[date]:
    """Months whose calls are all past retention by time: the whole month is older than the unbilled
    and technical periods and no invoice of the month is still inside its dispute window. What must
    stay of them (holds, unpaid or disputed invoices, a decided dispute's appeal period) is copied to
    the hold table first."""
    if not partitioning_enabled():
        return []
    candidates = [m for m in cdr_partition_months("traffic_cdr")
                  if month_bounds(m)[1] <= c.unbilled and month_bounds(m)[1] <= c.technical]
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
        # Reviewed: `table` is a partition name derived from a month, never input.
        cursor.execute(f'SELECT count(*) FROM "{table}"')  # nosec B608
        return int(cursor.fetchone()[0])


def _kept_ids(table: str, c: Cutoffs, *, lower: datetime, upper: datetime) -> list[int]:
    """Ids of the rows of one month partition that must stay (same rules as `keep_q`), as a UNION of
    index scans: cost follows the kept rows and the protected invoices, not the rows of the month."""
    last_protected_day = c.billed_kept_before
    # Reviewed (this query): `table` is a partition name derived from a month and `column` one of three
    # names below, never input; every value is a bound parameter.
    # An empty calls_kept_until (none is made any more; see rules.py) protects: NOT (x < NULL) is NULL, not
    # true, so it is named on its own.
    parts = [f"""SELECT id FROM "{table}" WHERE invoice_id = ANY(ARRAY(
        SELECT id FROM traffic_invoice WHERE calls_kept_until IS NULL
        OR NOT (status = ANY(%s) AND calls_kept_until < %s)))"""]  # nosec B608
    params: list[Any] = [list(SETTLED_STATUSES), last_protected_day]
    if upper > c.unbilled:  # never for a droppable month; kept for symmetry with keep_q
        parts.append(f'SELECT id FROM "{table}" WHERE invoice_id IS NULL AND started_at >= %s')  # nosec B608
        params.append(c.unbilled)
    holds = {h.pk: h for category in CALL_HOLD_CATEGORIES for h in c.holds_on(category)}
    for hold in holds.values():
        start = max(lower, hold.window_start) if hold.window_start else lower
        end = min(upper, hold.window_end) if hold.window_end else upper
        if start >= end:
            continue
        for column, values in (("account_id", hold.account_ids), ("src_index", hold.number_indexes),
                               ("dst_index", hold.number_indexes)):
            if values:
                parts.append(f'SELECT id FROM "{table}" WHERE {column} = ANY(%s) '  # nosec B608
                             'AND started_at >= %s AND started_at < %s')
                params.extend([list(values), start, end])
    with connection.cursor() as cursor:
        cursor.execute(" UNION ".join(parts), params)
        return [row[0] for row in cursor.fetchall()]


def _held_token(cipher: Any, cdr_id: int, token: Any) -> bytes | None:
    """A month-key token of a CDR re-encrypted under the master key, to outlive the month's key."""
    if token is None:
        return None
    plain = cipher.decrypt(bytes(token))
    return crypto.encrypt_bytes(plain.encode(), aad=f"heldcdr:{cdr_id}".encode())


def _copy_to_hold(rows: QuerySet, c: Cutoffs, month: date) -> int:
    if not rows.exists():
        return 0
    cipher = month_cipher(month)
    tech_hold = held_q(c, Category.CDR_TECHNICAL)
    tech_ids = set(rows.filter(tech_hold).values_list("id", flat=True)) if tech_hold is not None else set()
    technical = {t.cdr_id: t.payload_enc for t in CdrTechnical.objects.filter(cdr_id__in=tech_ids)} if tech_ids else {}
    copies = []
    for cdr in rows.iterator(chunk_size=2000):
        copies.append(HeldCdr(
            cdr_id=cdr.id, started_at=cdr.started_at, source_id=cdr.source_id, unique_id=cdr.unique_id,
            fingerprint=cdr.fingerprint, import_batch_id=cdr.import_batch_id, account_id=cdr.account_id,
            contractor_id=cdr.contractor_id, direction=cdr.direction, disposition=cdr.disposition,
            answered_at=cdr.answered_at, duration=cdr.duration, billsec=cdr.billsec,
            src_enc=_held_token(cipher, cdr.id, cdr.src_enc), dst_enc=_held_token(cipher, cdr.id, cdr.dst_enc),
            src_index=cdr.src_index, dst_index=cdr.dst_index,
            caller_name_enc=_held_token(cipher, cdr.id, cdr.caller_name_enc),
            account_code=cdr.account_code, flags=cdr.flags, rating=cdr.rating, zone=cdr.zone, price=cdr.price,
            invoice_id=cdr.invoice_id, restricted_at=cdr.restricted_at,
            technical_enc=_held_token(cipher, cdr.id, technical.get(cdr.id)),
        ))
    # Idempotent: the (cdr_id, started_at) unique key makes a rerun insert nothing twice.
    HeldCdr.objects.bulk_create(copies, batch_size=1000, ignore_conflicts=True)
    return len(copies)


def detached_tables(month: date | None = None) -> list[str]:
    """Tables a purge detached (and shredded) but has not dropped yet: the reclaim step drops them."""
    if not partitioning_enabled():
        return []
    pattern = DETACHED_PREFIX + ("%" if month is None else f"%_y{month.year:04d}m{month.month:02d}")
    with connection.cursor() as cursor:
        cursor.execute("SELECT relname FROM pg_class WHERE relkind = 'r' AND relname LIKE %s ORDER BY relname",
                       [pattern.replace("_", "\\_")])
        return [row[0] for row in cursor.fetchall()]


def detached_months() -> dict[date, list[str]]:
    """The detached tables still to drop, per month, oldest first: this run's and a dead run's alike."""
    months: dict[date, list[str]] = {}
    for name in detached_tables():
        suffix = name.rsplit("_", 1)[-1]  # y2026m05
        months.setdefault(date(int(suffix[1:5]), int(suffix[6:8]), 1), []).append(name)
    return dict(sorted(months.items()))


def reclaim_month(month: date, names: list[str], *, before_commit: Callable[[str], None] | None = None,
                  fault: Fault | None = None) -> str:
    """The reclaim, its own transaction: DROP the month's detached tables (PostgreSQL unlinks their files
    at the commit) and note when on the month's PurgedMonth row. It holds no lock on traffic_cdr, and the
    month was unreadable before it began. Returns the moment, ISO 8601."""
    with transaction.atomic():
        fast_commit()
        with connection.cursor() as cursor:
            for name in names:
                cursor.execute(f'DROP TABLE IF EXISTS "{name}"')
        moment = tz_now()
        PurgedMonth.objects.filter(month=month, reclaimed_at__isnull=True).update(reclaimed_at=moment)
        if before_commit is not None:
            before_commit(moment.isoformat())  # the receipts commit with the drop they record
        if fault is not None:
            fault("month:dropped")
    return moment.isoformat()


def _detach(cursor: Any, *, month: date, tech_exists: bool) -> None:
    """Detach the month's partitions and rename them out of the way, inside the caller's transaction."""
    # Deferred FK checks of rows written earlier in this same transaction (only ever the case
    # inside a test's transaction) would block the DETACH; check them now instead.
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    for parent, exists in (("traffic_cdr", True), ("traffic_cdrtechnical", tech_exists)):
        if exists:
            part = partition_name(parent, month)
            cursor.execute(f'ALTER TABLE {parent} DETACH PARTITION "{part}"')
            cursor.execute(f'ALTER TABLE "{part}" RENAME TO "{DETACHED_PREFIX}{part}"')


def _shred(month: date, run: PurgeRun) -> str:
    """Destroy the month's key inside the detaching transaction and note it on the month's row."""
    key = month_key_destroy(month=month, actor=PURGE_ACTOR)
    moment = key.destroyed_at or tz_now()
    PurgedMonth.objects.update_or_create(month=month, defaults={
        "method": PurgedMonth.Method.DETACHED, "shredded_at": moment, "reclaimed_at": None, "run": run})
    return moment.isoformat()


def shred_month(month: date, c: Cutoffs, *, run: PurgeRun, dry_run: bool, fault: Fault | None,
                before_commit: Callable[[MonthDrop], None] | None = None) -> MonthDrop:
    """One transaction: lock the month, copy what stays to the hold table, detach the month's partitions,
    rename them out of the way and destroy the month's key. The reclaim (`reclaim_month`) drops them."""
    lower, upper = month_bounds(month)
    cdr_part, tech_part = partition_name("traffic_cdr", month), partition_name("traffic_cdrtechnical", month)
    tech_exists = month in cdr_partition_months("traffic_cdrtechnical")
    started = time.monotonic()
    with transaction.atomic():
        if not dry_run:
            fast_commit()
            with connection.cursor() as cursor:
                # The partitioned tables first, then the month's partitions: the order in which a page's
                # query takes them. Locking the partition first deadlocked with a page that had begun
                # (it held the parent and waited for the partition; the DETACH needs the parent). Pages
                # now wait for this short transaction instead. `ONLY`: not every partition of the table.
                cursor.execute("LOCK TABLE ONLY traffic_cdr IN ACCESS EXCLUSIVE MODE")
                if tech_exists:
                    cursor.execute("LOCK TABLE ONLY traffic_cdrtechnical IN ACCESS EXCLUSIVE MODE")
                # No insert may slip into the month between the copy and the detach.
                cursor.execute(f'LOCK TABLE "{cdr_part}" IN ACCESS EXCLUSIVE MODE')
                if tech_exists:
                    cursor.execute(f'LOCK TABLE "{tech_part}" IN ACCESS EXCLUSIVE MODE')
        rows = _partition_rows(cdr_part)
        tech_rows = _partition_rows(tech_part) if tech_exists else 0
        kept_ids = _kept_ids(cdr_part, c, lower=lower, upper=upper)
        kept_qs = Cdr.objects.filter(started_at__gte=lower, started_at__lt=upper, id__in=kept_ids)
        if dry_run:
            kept = kept_qs.count()
            return MonthDrop(month=f"{month:%Y-%m}", rows=rows - kept, technical_rows=tech_rows, kept=kept)
        kept = _copy_to_hold(kept_qs, c, month)
        # Notes on the month's calls: a kept call's note stays with it (re-sealed under the master key, like
        # its numbers), the others go, before the key does.
        notes = cdr_annotations_month_drop(month=month, kept_ids=set(kept_ids))
        if fault is not None:
            fault("month:copied")
        with connection.cursor() as cursor:
            _detach(cursor, month=month, tech_exists=tech_exists)
        audit_record(actor=PURGE_ACTOR, action="retention.month_drop", purpose=RETENTION_PURPOSE,
                     target_type="cdr_month", target_id=f"{month:%Y-%m}",
                     extra={"rows": rows - kept, "kept": kept, "technical": tech_rows, "notes": notes["deleted"],
                            "notes_kept": notes["kept"]})
        # The shred: from this commit on the month is unreadable, its detached tables and every backup
        # included. Its rows are out of traffic_cdr and what had to stay is in the hold table, so no row
        # that must remain readable depends on the key.
        result = MonthDrop(month=f"{month:%Y-%m}", rows=rows - kept, technical_rows=tech_rows, kept=kept,
                           shredded_at=_shred(month, run))
        if before_commit is not None:
            before_commit(result)  # the run's step state and receipt commit with the shred they record
    result.ms = int((time.monotonic() - started) * 1000)
    return result


def emptied_months_with_keys(c: Cutoffs, *, remaining_cdrs: Callable[[QuerySet], QuerySet] | None = None,
                             remaining_technical: Callable[[QuerySet], QuerySet] | None = None) -> list[date]:
    """Months whose key is still live although the whole month is expired and no row of it is left:
    emptied by batches (partial months; every month on SQLite). A month detached whole lost its key in
    the detaching transaction (`shred_month`)."""
    months = []
    for key in MonthKey.objects.filter(wrapped_key__isnull=False).order_by("month"):
        lower, upper = month_bounds(key.month)
        if upper > c.unbilled or upper > c.technical:
            continue
        cdrs = Cdr.objects.filter(started_at__gte=lower, started_at__lt=upper)
        technical = CdrTechnical.objects.filter(started_at__gte=lower, started_at__lt=upper)
        if remaining_cdrs is not None and remaining_technical is not None:  # dry run: what the batches leave
            cdrs, technical = remaining_cdrs(cdrs), remaining_technical(technical)
        if cdrs.exists() or technical.exists() or detached_tables(key.month):
            continue
        months.append(key.month)
    return months
