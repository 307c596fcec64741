"""Celery tasks of the retention app: thin, they call the purge and return counts (JSON, never data)."""
from __future__ import annotations

from celery import shared_task

from .purge.lock import PurgeBusy
from .purge.run import purge_daily, purge_expired


@shared_task(name="retention.tasks.purge_expired_task")
def purge_expired_task(dry_run: bool = False) -> dict:
    """Daily at 03:00 Europe/Amsterdam (CELERY_BEAT_SCHEDULE): purge, then preview tomorrow's run.
    With dry_run=True (the DPO's refresh button) only count. Returns counts only (JSON, no data)."""
    try:
        receipt = purge_expired(dry_run=True) if dry_run else purge_daily()
    except PurgeBusy:
        return {"busy": True}
    return {"run": receipt["run"], "deleted": {r["category"]: r["deleted"] for r in receipt["receipts"]}}
