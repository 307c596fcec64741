"""Celery tasks of accounts (the data-subject workflow, accounts/dsr/): ids in, one service each.

Task names are written out: beat (voipxs/settings.py) and queued messages name them, so they stay the
same wherever the code lives.
"""
from __future__ import annotations

from celery import shared_task

from voipxs.exceptions import ApplicationError
from voipxs.privacy.purposes import SystemActor

from .ciot.services import ciot_sync, ciot_sync_stale_check
from .dsr.export import dsr_export_build, dsr_exports_requeue
from .dsr.extension_notice import ExtensionNoticeMailError, extension_notice_send, extension_notices_requeue
from .dsr.policy import PolicyNoticeMailError, policy_notice_email_batch, policy_notices_requeue
from .dsr.reminders import breach_clocks_remind, dsr_deadlines_remind, restriction_ends_remind
from .dsr.restriction_mail import (
    RestrictionNoticeMailError, restriction_continuation_notice_send, restriction_lift_notice_send,
    restriction_notices_requeue,
)
from .services.sign_in import api_tokens_expired_delete, sessions_expired_delete
from .support.services import (
    SupportNoticeMailError, support_itemisation_notice_send, support_itemisation_notices_requeue,
)

REMINDER_ACTOR = SystemActor("dpo_reminders")


@shared_task(name="accounts.tasks.dsr_export_build_task")
def dsr_export_build_task(export_id: int) -> None:
    dsr_export_build(export_id=export_id)


@shared_task(name="accounts.tasks.dsr_exports_requeue_task", ignore_result=True)
def dsr_exports_requeue_task() -> int:
    """Beat, every 5 minutes: send again the exports whose task never arrived (the broker was down)."""
    return len(dsr_exports_requeue())


@shared_task(name="accounts.tasks.api_tokens_expired_delete_task", ignore_result=True)
def api_tokens_expired_delete_task() -> int:
    """Beat, daily: expired API tokens go (a call with one is refused anyway)."""
    return api_tokens_expired_delete()


@shared_task(name="accounts.tasks.sessions_expired_delete_task", ignore_result=True)
def sessions_expired_delete_task() -> int:
    """Beat, hourly: expired browser sessions go (a page with one is signed out anyway)."""
    return sessions_expired_delete()


@shared_task(name="accounts.tasks.policy_notice_email_task", bind=True, max_retries=5)
def policy_notice_email_task(self, version_id: int, after_user_id: int) -> None:
    """One batch per run; the next batch is queued with the cursor (user pk), so no task runs long. A batch
    delivered twice mails nobody twice; one whose next task is lost is sent again by the reaper (below). A batch
    the mail server refused part-way is retried (1, 2, 4, ... minutes on) from the last person it mailed."""
    try:
        cursor = policy_notice_email_batch(version_id=version_id, after_user_id=after_user_id)
    except PolicyNoticeMailError as exc:
        raise self.retry(args=(version_id, exc.cursor), exc=exc, countdown=60 * 2 ** self.request.retries) from None
    if cursor is not None:
        policy_notice_email_task.delay(version_id, cursor)


@shared_task(name="accounts.tasks.dsr_deadlines_remind_task")
def dsr_deadlines_remind_task() -> dict:
    return {"reminded": dsr_deadlines_remind(actor=REMINDER_ACTOR)}


@shared_task(name="accounts.tasks.breach_clocks_remind_task")
def breach_clocks_remind_task() -> dict:
    return {"reminded": breach_clocks_remind(actor=REMINDER_ACTOR)}


@shared_task(name="accounts.tasks.ciot_sync_task", ignore_result=True)
def ciot_sync_task() -> dict:
    """Beat, hourly: deliver the CIOT subscriber file; a failure is logged and alerted by the service."""
    try:
        run = ciot_sync()
    except ApplicationError:  # the previous run is still going: this hour's snapshot would be the same
        return {"skipped": "running"}
    return {"run": run.pk, "status": run.status}


@shared_task(name="accounts.tasks.ciot_sync_stale_check_task", ignore_result=True)
def ciot_sync_stale_check_task() -> dict:
    """Beat, hourly: alert once when no CIOT sync has succeeded for longer than its schedule allows."""
    return {"alerted": ciot_sync_stale_check()}


@shared_task(name="accounts.tasks.support_itemisation_notice_task", autoretry_for=(SupportNoticeMailError,),
             retry_backoff=60, max_retries=5)
def support_itemisation_notice_task(user_id: int) -> bool:
    """After support changed a customer's itemised bills: tell the customer by e-mail (retried while the
    mail server refuses; the error names the user id only)."""
    return support_itemisation_notice_send(user_id=user_id)


@shared_task(name="accounts.tasks.restriction_lift_notice_task", autoretry_for=(RestrictionNoticeMailError,),
             retry_backoff=60, max_retries=5)
def restriction_lift_notice_task(user_id: int) -> bool:
    """The DPO asked to tell the person that their restriction (GDPR art. 18) will be lifted: e-mail them and
    record when, which the lift waits for (retried while the mail server refuses; the error names the user id)."""
    return restriction_lift_notice_send(user_id=user_id)


@shared_task(name="accounts.tasks.restriction_continuation_notice_task",
             autoretry_for=(RestrictionNoticeMailError,), retry_backoff=60, max_retries=5)
def restriction_continuation_notice_task(user_id: int) -> bool:
    """The DPO moved the end date of a restriction the person was told would be lifted: e-mail them that it
    continues (retried while the mail server refuses; the error names the user id only)."""
    return restriction_continuation_notice_send(user_id=user_id)


@shared_task(name="accounts.tasks.dsr_extension_notice_task", autoretry_for=(ExtensionNoticeMailError,),
             retry_backoff=60, max_retries=5)
def dsr_extension_notice_task(request_id: int) -> bool:
    """The DPO extended a privacy request (GDPR art. 12(3)): e-mail the person the reason and the new deadline
    (retried while the mail server refuses; the error names the user id only)."""
    return extension_notice_send(request_id=request_id)


@shared_task(name="accounts.tasks.person_notices_requeue_task")
def person_notices_requeue_task() -> dict:
    """Beat: send again the e-mails to a person still waiting after TASK_RESEND_AFTER_SECONDS (support's change
    of their itemised bills, the coming lift of their restriction or that it continues, the extension of their
    request), and the rest of a policy-change e-mail that stopped: the broker was down or lost the task."""
    return {"itemisation": support_itemisation_notices_requeue(), "restriction": restriction_notices_requeue(),
            "extension": extension_notices_requeue(), "policy": policy_notices_requeue()}


@shared_task(name="accounts.tasks.restriction_ends_remind_task")
def restriction_ends_remind_task() -> dict:
    """Beat, daily: e-mail the DPOs about restrictions past their last day and not lifted (once each)."""
    return {"reminded": restriction_ends_remind(actor=REMINDER_ACTOR)}
