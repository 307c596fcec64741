"""Small purgers retention registers (retention/apps.py) for data whose writes live elsewhere: the daily
purge runs each in step_registered_purgers and writes a receipt for its category. Retention decides
when (it knows the policies); the module that owns the data does the deleting.

Failed sign-in records (login name, IP address, user agent) and the stored CDR files of failed imports
are technical identifiers, so both go after the cdr_technical period, like the CDRs' own. Click-to-call
set-up records go after 30 days (the register's period), except those a legal hold on calls covers.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from accounts.services.sign_in import login_attempts_delete
from traffic.services.call_setup import call_setups_delete
from traffic.services.imports import cdr_import_uploads_delete
from voipxs.privacy.audit import audit_trim

from .models import Category
from .purge.rules import CALL_HOLD_CATEGORIES, PURGE_ACTOR, period_cutoff
from .selectors import legal_holds_active, retention_policy_at

LOGIN_ATTEMPTS = "login_attempts"  # receipt category of the failed sign-in records
CDR_UPLOADS = "cdr_uploads"  # receipt category of stored CDR files of failed or stuck imports
CALL_SETUPS = "call_setup"  # receipt category of click-to-call set-up records
CALL_SETUP_DAYS = 30  # the register's retention of set-up records (voipxs/privacy/purposes.py CALL_SETUP)


def audit_log_purge(*, now: datetime, dry_run: bool) -> dict:
    """The daily purge's audit-log step: entries older than the audit_log policy's period go behind an
    anchor (voipxs.privacy.audit.audit_trim). Without a policy in force nothing goes."""
    if retention_policy_at(category=Category.AUDIT_LOG, at=now) is None:
        return {"deleted": 0, "skipped": "no audit_log policy in force"}
    return audit_trim(before=period_cutoff(Category.AUDIT_LOG, now), dry_run=dry_run)


def login_attempts_purge(*, now: datetime, dry_run: bool = False) -> dict:
    """Failed sign-in records older than the cdr_technical period."""
    cutoff = period_cutoff(Category.CDR_TECHNICAL, now)
    deleted = login_attempts_delete(before=cutoff, dry_run=dry_run, actor=PURGE_ACTOR)
    return {"deleted": deleted, "cutoff": cutoff.isoformat()}


def cdr_uploads_purge(*, now: datetime, dry_run: bool) -> dict:
    """Stored uploads of failed or never-started imports: a raw CDR file carries technical identifiers
    (SIP call-ids, channels, addresses), so it goes after the cdr_technical period like those do."""
    cutoff = period_cutoff(Category.CDR_TECHNICAL, now)
    return {"deleted": cdr_import_uploads_delete(before=cutoff, dry_run=dry_run, actor=PURGE_ACTOR),
            "cutoff": cutoff.isoformat()}


def call_setups_purge(*, now: datetime, dry_run: bool = False) -> dict:
    """Click-to-call set-up records after 30 days (the call itself, if it happened, is a CDR), except those a
    legal hold on calls covers (its accounts' or numbers' in its window), as the calls themselves stay."""
    cutoff = now - timedelta(days=CALL_SETUP_DAYS)
    holds = {hold.pk: hold for category in CALL_HOLD_CATEGORIES
             for hold in legal_holds_active(at=now, category=category)}
    held = [{"account_ids": h.account_ids, "number_indexes": h.number_indexes, "window_start": h.window_start,
             "window_end": h.window_end} for h in holds.values()]
    return {**call_setups_delete(before=cutoff, dry_run=dry_run, held=held), "cutoff": cutoff.isoformat()}
