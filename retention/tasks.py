"""Celery tasks of the retention app: thin, they call the purge and return counts (JSON, never data)."""
from __future__ import annotations

from celery import shared_task

from voipxs.privacy.purposes import SystemActor

from .backup.keyfile import month_keys_retake
from .purge.lock import PurgeBusy
from .purge.run import purge_daily, purge_expired
from .purge.runs import purge_runs_reap
from .services import legal_holds_expire


@shared_task(name="retention.tasks.purge_expired_task")
def purge_expired_task(dry_run: bool = False) -> dict:
    """Daily at 03:00 Europe/Amsterdam (CELERY_BEAT_SCHEDULE): purge, then preview tomorrow's run.
    With dry_run=True (the DPO's refresh button) only count; a dry run is never refused. Returns counts
    only (JSON, no data)."""
    try:
        receipt = purge_expired(dry_run=True) if dry_run else purge_daily()
    except PurgeBusy as exc:
        return {"busy": True, "lease_expires_at": exc.expires_at.isoformat() if exc.expires_at else None}
    return {"run": receipt["run"], "deleted": {r["category"]: r["deleted"] for r in receipt["receipts"]}}


@shared_task(name="retention.tasks.purge_runs_reap", ignore_result=True)
def purge_runs_reap_task() -> int:
    """Every 5 minutes (CELERY_BEAT_SCHEDULE): mark failed the purge runs whose worker died."""
    return len(purge_runs_reap())


@shared_task(name="retention.tasks.legal_holds_expire_task", ignore_result=True)
def legal_holds_expire_task() -> int:
    """Hourly (CELERY_BEAT_SCHEDULE): record the end of the holds whose expiry passed (audited)."""
    return len(legal_holds_expire(actor=SystemActor("hold_expiry")))


@shared_task(name="retention.tasks.backup_keys_retake_task")
def backup_keys_retake_task() -> dict:
    """Daily (CELERY_BEAT_SCHEDULE): take the month-key backup, with the list of erasures, again, so a retake
    that failed after an erasure or a month-key change lags a day at most (retention/backup/keyfile.py).
    Returns counts only (JSON, no data)."""
    return month_keys_retake()
