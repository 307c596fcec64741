from __future__ import annotations

from celery import shared_task

from .privacy.audit import audit_seal as _audit_seal


@shared_task(name="voipxs.tasks.audit_seal", ignore_result=True)
def audit_seal() -> int:
    return _audit_seal()
