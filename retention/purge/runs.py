"""The purge's run rows and receipts: a run starts (taking the lease and failing the runs whose worker
died), writes its receipts as it goes, and ends done or failed; the reaper fails runs whose worker died
when no purge comes to take over.

Receipts are written as the run goes, not at its end: a step opens its PurgeReceipt row when it begins
and adds its counts in the same transaction as the work they count (a batch's deletes, a month's detach,
the destruction of month keys). So the receipts of a run killed at any point are exactly what it did,
and marking it failed afterwards only sets its status and writes the audit entry. The registered
purgers of other apps (step_registered_purgers) commit their own work and write their own audit
entries; their receipt is filled in right after they return, so a kill in between loses that count.

Which runs are dead: a real run holds the lease (lock.py) for as long as it lives, so once the lease is
free or ran out, every real run still `running` has lost its worker. A dry run takes no lease; it beats
a heart (PurgeRun.heartbeat_at) at every step, and one silent for a lease has lost its worker.
"""
from __future__ import annotations

import logging
import time
import uuid
from datetime import datetime

from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils.timezone import now as tz_now

from voipxs.privacy.audit import audit_record
from voipxs.privacy.purposes import RETENTION_PURPOSE

from ..models import PurgeReceipt, PurgeRun
from .lock import (LEASE_LOST, PurgeBusy, PurgeLeaseLost, lease_expires_at, lease_release, lease_renew, lease_take,
                   purge_lease)
from .rules import PURGE_ACTOR

logger = logging.getLogger(__name__)

RUN_ABANDONED = "Worker stopped during {step} (no heartbeat for a lease); the next run finishes the job."
RUN_FAILED_ACTION = "retention.purge_failed"


class Receipt:
    """One step's PurgeReceipt row, written as the step goes (see the module's docstring)."""

    def __init__(self, run: PurgeRun, *, category: str, cutoff: datetime | None = None,
                 details: dict | None = None) -> None:
        self.started = time.monotonic()
        self.row = PurgeReceipt.objects.create(run=run, category=category, cutoff=cutoff, dry_run=run.dry_run,
                                               details=details or {})

    def add(self, *, deleted: int = 0, kept: int = 0, anonymised: int = 0, details: dict | None = None) -> None:
        """Counts of work done in the caller's transaction: they commit, or roll back, with it."""
        fields: dict = {"deleted": F("deleted") + deleted, "kept": F("kept") + kept,
                        "anonymised": F("anonymised") + anonymised}
        if details is not None:
            fields["details"] = details
        PurgeReceipt.objects.filter(pk=self.row.pk).update(**fields)

    def close(self, **totals) -> None:
        """The step's end: its duration and totals (what `add` summed, or what a dry run counted)."""
        totals["duration_ms"] = int((time.monotonic() - self.started) * 1000)
        PurgeReceipt.objects.filter(pk=self.row.pk).update(**totals)


def run_counts(run: PurgeRun) -> dict[str, int]:
    """What the run's receipts say it removed (and anonymised, where it did), per category (counts only: audit
    entries carry these)."""
    counts = {}
    for category, deleted, anonymised in PurgeReceipt.objects.filter(run=run).order_by("id").values_list(
            "category", "deleted", "anonymised"):
        counts[category] = deleted
        if anonymised:
            counts[f"{category}_anonymised"] = anonymised
    return counts


@transaction.atomic
def run_start(*, as_of: datetime, dry_run: bool) -> tuple[PurgeRun, str]:
    """A new run and the lease's holder id ("" for a dry run, which reads and takes no lease). A real run
    takes the lease, and in the same transaction fails the runs it orphaned; raises PurgeBusy while a
    live purge holds the lease."""
    moment = tz_now()
    holder = "" if dry_run else uuid.uuid4().hex
    if not dry_run:
        if not lease_take(holder=holder, at=moment):
            raise PurgeBusy(expires_at=lease_expires_at())
        for dead in runs_orphaned(at=moment, lease_free=True):
            run_fail(run=dead, error=RUN_ABANDONED.format(step=dead.state.get("step", "?")), at=moment)
    run = PurgeRun.objects.create(as_of=as_of, dry_run=dry_run, heartbeat_at=moment, state={"months": {}})
    return run, holder


def run_finish(*, run: PurgeRun, holder: str, actor) -> None:
    """Done: status, audit entry (counts only) and the lease's release, in one commit. Raises
    PurgeLeaseLost if the run was failed meanwhile (its lease ran out and another run took over)."""
    with transaction.atomic():
        moment = tz_now()
        if holder:
            lease_renew(holder=holder)
        finished = PurgeRun.objects.filter(pk=run.pk, status=PurgeRun.Status.RUNNING).update(
            status=PurgeRun.Status.DONE, finished_at=moment, heartbeat_at=moment, state=run.state)
        if not finished:
            raise PurgeLeaseLost(LEASE_LOST)
        run.status, run.finished_at = PurgeRun.Status.DONE, moment
        audit_record(actor=actor, action="retention.purge_dry_run" if run.dry_run else "retention.purge",
                     purpose=RETENTION_PURPOSE, target_type="purge_run", target_id=run.pk,
                     extra={"as_of": run.as_of.isoformat(), **run_counts(run)})
        if holder:
            lease_release(holder=holder)


def run_fail(*, run: PurgeRun, error: str, at: datetime | None = None) -> bool:
    """Mark `run` failed unless it has already ended, with an audit entry of what its receipts say it
    did (counts only). False if it had ended (e.g. a stalled run that wakes after a takeover)."""
    moment = at or tz_now()
    with transaction.atomic():
        failed = PurgeRun.objects.filter(pk=run.pk, status=PurgeRun.Status.RUNNING).update(
            status=PurgeRun.Status.FAILED, finished_at=moment, error=error[:300])
        if not failed:
            return False
        run.status, run.finished_at, run.error = PurgeRun.Status.FAILED, moment, error[:300]
        audit_record(actor=PURGE_ACTOR, action=RUN_FAILED_ACTION, purpose=RETENTION_PURPOSE, target_type="purge_run",
                     target_id=run.pk,
                     extra={"as_of": run.as_of.isoformat(), "dry_run": run.dry_run, "step": run.state.get("step", ""),
                            **run_counts(run)})
    logger.warning("purge run %s failed: %s", run.pk, error)
    return True


def runs_orphaned(*, at: datetime, lease_free: bool) -> QuerySet[PurgeRun]:
    """Runs still `running` whose worker is gone: every real run once the lease is free or ran out
    (`lease_free`), and dry runs silent for a lease."""
    silent_since = at - purge_lease()
    silent = Q(heartbeat_at__lt=silent_since) | Q(heartbeat_at__isnull=True, started_at__lt=silent_since)
    dead = Q(dry_run=True) & silent
    if lease_free:
        dead |= Q(dry_run=False)
    return PurgeRun.objects.filter(dead, status=PurgeRun.Status.RUNNING).order_by("pk")


@transaction.atomic
def purge_runs_reap(*, at: datetime | None = None) -> list[int]:
    """The beat job (every 5 minutes): fail the runs whose worker died, so a killed purge shows as
    failed within minutes even when no purge comes to take over. It takes the lease for a moment, the
    way a new purge would, so it never races one; a live purge's lease it leaves alone. Returns the ids."""
    moment = at or tz_now()
    holder = f"reaper-{uuid.uuid4().hex}"
    lease_free = lease_take(holder=holder, at=moment)
    if lease_free:
        lease_release(holder=holder)  # the row stays locked until this transaction commits
    dead = list(runs_orphaned(at=moment, lease_free=lease_free))
    return [run.pk for run in dead if run_fail(run=run, error=RUN_ABANDONED.format(step=run.state.get("step", "?")),
                                                at=moment)]


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
