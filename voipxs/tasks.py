from __future__ import annotations

from celery import shared_task

from .privacy.audit import audit_seal as _audit_seal


@shared_task(name="voipxs.tasks.audit_seal", ignore_result=True)
def audit_seal() -> int:
    return _audit_seal()


@shared_task(name="voipxs.tasks.audit_verify", ignore_result=True)
def audit_verify() -> bool:
    """Daily: walk the whole chain and record the outcome in the log (voipxs/privacy/audit_check.py)."""
    from .privacy.audit_check import audit_chain_check

    return audit_chain_check()[1] is None


@shared_task(name="voipxs.tasks.beat_heartbeat", ignore_result=True)
def beat_heartbeat() -> None:
    """Beat, every minute: record that the periodic jobs run; the DPO's and administrators' page says when not."""
    from .ops import beat_heartbeat_record

    beat_heartbeat_record()
