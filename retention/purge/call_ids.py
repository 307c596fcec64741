"""Call ids that name a host, hashed once they are past the technical period (LEGAL.md section 5 row 1).

Since ingest stores an id that names a host (a SIP Call-ID "a84b4c76e66710@192.0.2.4": the caller's IP) as its
hash (traffic.ingest.rows.stored_id), such a host lives only in the call's technical row (CdrTechnical, kept
for the cdr_technical period). Rows stored before that still hold the clear id in unique_id or call_id, for as
long as the billing row is kept. This step rewrites them in place, as ingest would have stored them, once the
call is past the technical period (the cutoff the technical step uses): the same stored_id decides, so a later
re-push of the call finds the rewritten row (the same hash) and a call's legs stay grouped (call_id too).

- Candidates are chosen in SQL by cheap patterns ("@", two colons, three dots: a superset of what stored_id
  hashes) and confirmed with stored_id; batches walk the rows by id, so a candidate that stored_id keeps is
  read once per run, never again in the same run. A batch is one transaction with its receipt counts.
- A clash: a row with the hashed id, leg and start already exists in the source (the call was pushed again
  after the upgrade, and the two hashes being unequal it was not recognised as a duplicate). The two are one
  call; the one an invoice refers to stays (else the one stored first), rewritten to the hash, and the other
  goes with its technical row and notes, counted as deleted. If both were invoiced (billed twice), neither goes:
  the clear one takes its hash with its own id appended ("ci:…-123"), so no host is left and the key stays unique.
- A call under a legal hold on technical data keeps its clear id, as it keeps its technical row.
- Rows of the hold table (retention_heldcdr, copies of kept calls of shredded months) are rewritten too.
- Once a run has walked every row before its cutoff with no technical hold in force, no clear id can be left
  before that cutoff (ingest hashes whatever it stores now), so the next run starts there (the receipt's
  `done_before`): the daily run reads a day of calls, not seven years.
"""
from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Callable

from django.db import transaction
from django.db.models import Q, QuerySet

from traffic.ingest.rows import stored_id
from traffic.models import Cdr, CdrTechnical
from traffic.services.annotations import cdr_annotations_delete

from ..models import Category, HeldCdr, PurgeReceipt
from .rules import Cutoffs, held_q, months_excluded

if TYPE_CHECKING:
    from .run import PurgeContext

CATEGORY = "cdr_call_ids"
_FIELDS = ("unique_id", "call_id")


def _candidates(fields: tuple[str, ...]) -> Q:
    """A superset of the ids stored_id hashes: "@", two colons (IPv6), three dots (IPv4)."""
    q = Q()
    for name in fields:
        q |= (Q(**{f"{name}__contains": "@"}) | Q(**{f"{name}__regex": r":.*:"})
              | Q(**{f"{name}__regex": r"\..*\..*\."}))
    return q


def done_before() -> datetime | None:
    """Where the last complete walk stopped (its cutoff): no clear id is left before it."""
    receipt = (PurgeReceipt.objects.filter(category=CATEGORY, dry_run=False, details__has_key="done_before")
               .order_by("-id").first())
    return datetime.fromisoformat(receipt.details["done_before"]) if receipt else None


def cdr_candidates(c: Cutoffs, *, skip_months: list, since: datetime | None) -> QuerySet:
    """The CDRs past the technical period whose ids may name a host, not under a technical hold."""
    qs = Cdr.objects.filter(_candidates(_FIELDS), started_at__lt=c.technical)
    if since is not None:
        qs = qs.filter(started_at__gte=since)
    hold = held_q(c, Category.CDR_TECHNICAL)
    if hold is not None:
        qs = qs.exclude(hold)
    return months_excluded(qs, skip_months)


def held_candidates(c: Cutoffs) -> QuerySet:
    """The hold table's copies (no call_id, no leg) past the technical period, not under a technical hold."""
    qs = HeldCdr.objects.filter(_candidates(("unique_id",)), started_at__lt=c.technical)
    hold = held_q(c, Category.CDR_TECHNICAL)
    return qs if hold is None else qs.exclude(hold)


def _rewrite_cdrs(rows: list[tuple]) -> tuple[int, int]:
    """Rewrite the batch's rows (id, source, unique_id, leg, started_at, call_id, invoice): (rewritten, deleted)."""
    rewritten, gone = 0, []
    for pk, source_id, uid, leg, started_at, call_id, invoice_id in rows:
        new_uid, new_call = stored_id(uid), stored_id(call_id) if call_id else ""
        if new_call == new_uid:
            new_call = ""  # the call is the record's own id: stored once, as ingest stores it
        if (new_uid, new_call) == (uid, call_id):
            continue
        if new_uid != uid:
            twin = (Cdr.objects.filter(source_id=source_id, unique_id=new_uid, leg=leg, started_at=started_at)
                    .values_list("id", "invoice_id").first())
            if twin is not None and twin[1] is not None and invoice_id is not None:
                # Both copies were billed: neither may go (an invoice refers to each; billing corrects the double
                # charge). This one keeps a hash of its own, so the host is gone and the key stays unique.
                new_uid = f"{new_uid}-{pk}"
            elif twin is not None:
                keep_twin = twin[1] is not None and invoice_id is None or (
                    (twin[1] is None) == (invoice_id is None) and twin[0] < pk)
                loser = pk if keep_twin else twin[0]
                _delete_cdr(loser, started_at)
                gone.append(loser)
                if keep_twin:
                    continue
        Cdr.objects.filter(id=pk, started_at=started_at).update(unique_id=new_uid, call_id=new_call)
        rewritten += 1
    return rewritten, len(gone)


def _delete_cdr(pk: int, started_at: datetime) -> None:
    CdrTechnical.objects.filter(cdr_id=pk).delete()
    Cdr.objects.filter(id=pk, started_at=started_at).delete()
    cdr_annotations_delete(cdr_ids=[pk])  # after the call, as the purge's batches do


def _rewrite_held(rows: list[tuple]) -> tuple[int, int]:
    rewritten = 0
    for pk, uid in rows:
        new_uid = stored_id(uid)
        if new_uid != uid:
            HeldCdr.objects.filter(id=pk).update(unique_id=new_uid)
            rewritten += 1
    return rewritten, 0


def _count_cdrs(rows: list[tuple]) -> tuple[int, int]:
    """A dry run: how many of the batch's rows would change (a clash's pair counted as one rewrite)."""
    return sum(1 for r in rows if stored_id(r[2]) != r[2] or (r[5] and stored_id(r[5]) != r[5])), 0


def _count_held(rows: list[tuple]) -> tuple[int, int]:
    return sum(1 for r in rows if stored_id(r[1]) != r[1]), 0


CDR_COLUMNS = ("id", "source_id", "unique_id", "leg", "started_at", "call_id", "invoice_id")
HELD_COLUMNS = ("id", "unique_id")
_CHANGES = {(CDR_COLUMNS, False): _rewrite_cdrs, (CDR_COLUMNS, True): _count_cdrs,
            (HELD_COLUMNS, False): _rewrite_held, (HELD_COLUMNS, True): _count_held}


def walk(select: Callable[[], QuerySet], columns: tuple[str, ...], *, dry_run: bool, chunk_size: int,
         record: Callable[[int, int], None]) -> tuple[int, int]:
    """Every row `select()` finds, by id, `chunk_size` per transaction; `record(rewritten, deleted)` runs
    last in each real batch's transaction. Returns the totals (a dry run's: what it would rewrite)."""
    change = _CHANGES[(columns, dry_run)]
    after, totals = 0, (0, 0)
    while True:
        with transaction.atomic():
            rows = list(select().filter(id__gt=after).order_by("id").values_list(*columns)[:chunk_size])
            if not rows:
                return totals
            after = rows[-1][0]
            counts = change(rows)
            if not dry_run:
                record(*counts)
        totals = (totals[0] + counts[0], totals[1] + counts[1])


def step_cdr_call_ids(ctx: PurgeContext) -> None:
    """Ids that name a host, past the technical period: hashed in place (see the module's docstring)."""
    c, since = ctx.cutoffs, done_before()
    receipt = ctx.begin(CATEGORY, category=CATEGORY, cutoff=c.technical)

    def record(rewritten: int, deleted: int) -> None:
        if ctx.fault is not None:
            ctx.fault(f"batch:{CATEGORY}")  # tests raise here: the batch's rewrites roll back
        receipt.add(deleted=deleted, anonymised=rewritten)
        ctx.renew()

    walked = partial(walk, dry_run=ctx.dry_run, chunk_size=ctx.chunk_size, record=record)
    cdrs = walked(partial(cdr_candidates, c, skip_months=ctx.months_skipped(), since=since), CDR_COLUMNS)
    held = walked(partial(held_candidates, c), HELD_COLUMNS)
    details = {}
    if not ctx.dry_run and not c.holds_on(Category.CDR_TECHNICAL):  # held rows are walked again next time
        details["done_before"] = max(c.technical, since or c.technical).isoformat()
    receipt.close(anonymised=cdrs[0] + held[0], deleted=cdrs[1], details=details)
