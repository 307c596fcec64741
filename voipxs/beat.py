"""Every periodic task of the project (Celery beat), each with its crontab.guru reading.

Kept apart from settings.py, which imports it as CELERY_BEAT_SCHEDULE: the list grows with every
reaper and reminder, and reads better as one table than in the middle of the settings.
"""
from __future__ import annotations

from celery.schedules import crontab

SCHEDULE: dict[str, dict] = {
    "retention-purge-expired": {
        "task": "retention.tasks.purge_expired_task",
        # "0 3 * * *": at 03:00 every day (CELERY_TIMEZONE Europe/Amsterdam), purge what is past retention
        "schedule": crontab(hour=3, minute=0),
    },
    "audit-seal": {
        "task": "voipxs.tasks.audit_seal",
        "schedule": 10.0,  # every 10 seconds: link freshly appended audit entries into the chain
    },
    "beat-heartbeat": {
        "task": "voipxs.tasks.beat_heartbeat",
        "schedule": 60.0,  # every minute: the staff pages show "periodic jobs last ran at ..., late" when it stops
    },
    "audit-verify": {
        "task": "voipxs.tasks.audit_verify",
        # "45 4 * * *": at 04:45 every day, walk the whole audit chain and record the outcome (DPO page)
        "schedule": crontab(minute="45", hour="4"),
    },
    "backup-keys-retake": {
        "task": "retention.tasks.backup_keys_retake_task",
        # "15 4 * * *": at 04:15 every day, take the month-key backup (month keys and erasures) again, so a
        # retake that failed after an erasure or a purge is caught up within a day (retention/backup/keyfile.py)
        "schedule": crontab(minute="15", hour="4"),
    },
    "cdr-partitions-ahead": {
        "task": "traffic.tasks.cdr_partitions_ahead",
        # "15 3 * * *": at 03:15 every day, create this month's and the next 3 months' CDR partitions
        "schedule": crontab(minute="15", hour="3"),
    },
    "disclosure-holds-release": {
        "task": "disclosures.tasks.disclosure_holds_release_task",
        # "30 3 * * *": at 03:30 every day, release the holds of requests closed long enough ago
        "schedule": crontab(minute="30", hour="3"),
    },
    "disclosure-deadlines": {
        "task": "disclosures.tasks.disclosure_deadlines_task",
        # "0 * * * *": at minute 0 of every hour, e-mail legal officers about requests due soon
        "schedule": crontab(minute="0"),
    },
    "disclosure-preservations": {
        "task": "disclosures.tasks.disclosure_preservations_task",
        # "20 * * * *": at minute 20 of every hour, end preservation orders past their term, remind of ending ones
        "schedule": crontab(minute="20"),
    },
    "disclosure-statutory-clocks": {
        "task": "disclosures.tasks.disclosure_statutory_clocks_task",
        # "*/15 * * * *": every 15 minutes, escalate EPOC/emergency answer times and late written orders
        "schedule": crontab(minute="*/15"),
    },
    # "10 * * * *": at minute 10 of every hour, record the end of legal holds whose expiry passed (audited)
    "legal-holds-expire": {"task": "retention.tasks.legal_holds_expire_task", "schedule": crontab(minute="10")},
    "dsr-deadline-reminders": {
        "task": "accounts.tasks.dsr_deadlines_remind_task",
        # "5 * * * *": at minute 5 of every hour, e-mail the DPOs about requests due soon or overdue
        "schedule": crontab(minute="5"),
    },
    "restriction-end-reminders": {
        "task": "accounts.tasks.restriction_ends_remind_task",
        # "30 7 * * *": at 07:30 every day, e-mail the DPOs about restrictions of processing (GDPR art. 18) not lifted
        # whose last day is within 7 days, and again once it has passed (once per stage and end date)
        "schedule": crontab(minute="30", hour="7"),
    },
    "breach-clock-reminders": {
        "task": "accounts.tasks.breach_clocks_remind_task",
        # "5 * * * *": at minute 5 of every hour, e-mail the DPOs about breach clocks ending or ended
        "schedule": crontab(minute="5"),
    },
    "disclosure-secrecy-reminders": {
        "task": "disclosures.tasks.disclosure_secrecy_reminders_task",
        # "0 8 * * *": at 08:00 every day, remind legal officers of notices whose secrecy order ended, of
        # withheld notices whose review date has come, and of draft notices left unsent (LEGAL.md row 18)
        "schedule": crontab(minute="0", hour="8"),
    },
    # "50 3 * * *": at 03:50 every day, delete expired API tokens (accounts.services.sign_in)
    "api-tokens-expired-delete": {"task": "accounts.tasks.api_tokens_expired_delete_task",
                                  "schedule": crontab(minute="50", hour="3")},
    # "20 * * * *": at 20 past every hour, delete expired browser sessions (accounts.services.sign_in)
    "sessions-expired-delete": {"task": "accounts.tasks.sessions_expired_delete_task",
                                "schedule": crontab(minute="20")},
    "cdr-imports-reap": {
        "task": "traffic.tasks.cdr_imports_reap",
        # "*/5 * * * *": every 5 minutes, mark imports whose worker stopped mid-run as failed (re-runnable)
        "schedule": crontab(minute="*/5"),
    },
    # "*/5 * * * *": every 5 minutes, mark purge runs whose worker died as failed (their lease ran out)
    "purge-runs-reap": {"task": "retention.tasks.purge_runs_reap", "schedule": crontab(minute="*/5")},
    # "*/5 * * * *": every 5 minutes, send again the builds of DSR exports still pending (the broker was down)
    "dsr-exports-requeue": {"task": "accounts.tasks.dsr_exports_requeue_task", "schedule": crontab(minute="*/5")},
    # "*/5 * * * *": every 5 minutes, send again e-mails to a person (support's itemisation change, a restriction's
    # coming lift, the rest of a policy-change e-mail) that waited longer than TASK_RESEND_AFTER_SECONDS
    "person-notices-requeue": {"task": "accounts.tasks.person_notices_requeue_task", "schedule": crontab(minute="*/5")},
    # "*/5 * * * *": every 5 minutes, send again the package builds of disclosure requests still producing
    "disclosure-productions-requeue": {"task": "disclosures.tasks.disclosure_productions_requeue_task",
                                       "schedule": crontab(minute="*/5")},
    "call-exports-reap": {
        "task": "traffic.tasks.call_exports_reap",  # fail call exports whose worker died, re-send unsent ones
        "schedule": crontab(minute="*/5"),  # "*/5 * * * *": every 5 minutes
    },
    "cdr-rate-pending": {
        "task": "traffic.tasks.cdr_rate_pending",
        # "40 * * * *": at minute 40 of every hour, rate calls still pending or unrated (so the 01:40 run
        # on the 1st comes before the 02:00 invoice run)
        "schedule": crontab(minute="40"),
    },
    "invoice-run": {
        "task": "traffic.tasks.invoice_run",
        # "0 2 1 * *": at 02:00 on the 1st of every month, invoice the month that just ended
        "schedule": crontab(minute="0", hour="2", day_of_month="1"),
    },
    "invoice-reissues-remind": {
        "task": "traffic.tasks.invoice_reissues_remind",
        # "10 8 * * *": at 08:10 every day, tell billing which void invoices to reissue before their calls go
        "schedule": crontab(minute="10", hour="8"),
    },
    "ciot-sync": {
        "task": "accounts.tasks.ciot_sync_task",
        # "20 * * * *": at minute 20 of every hour, deliver the CIOT subscriber file (Tw art. 13.4), so a
        # porting or a closure reaches the CIOT within the hour
        "schedule": crontab(minute="20"),
    },
    "ciot-sync-stale": {
        "task": "accounts.tasks.ciot_sync_stale_check_task",
        # "50 * * * *": at minute 50 of every hour, e-mail the DPOs and administrators once when no CIOT sync has
        # succeeded for 2 hours (the job stopped or hangs: no failed run says so)
        "schedule": crontab(minute="50"),
    },
}
