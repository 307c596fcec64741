"""Celery tasks of the data-subject workflow: ids in, one service each."""
from __future__ import annotations

from celery import shared_task

from voipxs.privacy.purposes import SystemActor

REMINDER_ACTOR = SystemActor("dpo_reminders")


@shared_task
def dsr_export_build_task(export_id: int) -> None:
    from .dsr import dsr_export_build

    dsr_export_build(export_id=export_id)


@shared_task
def policy_notice_email_task(version_id: int, after_user_id: int) -> None:
    """One batch per run; the next batch is queued with the cursor (user pk), so no task runs long."""
    from .policy import policy_notice_email_batch

    cursor = policy_notice_email_batch(version_id=version_id, after_user_id=after_user_id)
    if cursor is not None:
        policy_notice_email_task.delay(version_id, cursor)


@shared_task
def dsr_deadlines_remind_task() -> dict:
    from .reminders import dsr_deadlines_remind

    return {"reminded": dsr_deadlines_remind(actor=REMINDER_ACTOR)}


@shared_task
def breach_clocks_remind_task() -> dict:
    from .reminders import breach_clocks_remind

    return {"reminded": breach_clocks_remind(actor=REMINDER_ACTOR)}
