"""What the traffic app hands the daily purge (registered in traffic/apps.py with
voipxs.privacy.registry.register_purger, one receipt each): customers' call export files, kept
CALL_EXPORT_HOURS after they are ready (traffic.services.call_exports).

CDRs, their technical identifiers and invoices are purged by retention itself (it knows the policies
and the holds), and stored CDR uploads by retention/purgers.py.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from .services.call_exports import call_exports_delete_expired
from .services.call_setup import call_setups_delete

CALL_EXPORTS = "call_export"  # receipt category
CALL_SETUPS = "call_setup"  # receipt category
CALL_SETUP_DAYS = 30  # the register's retention of set-up records (voipxs/privacy/purposes.py CALL_SETUP)


def call_exports_purge(*, now: datetime, dry_run: bool = False) -> dict:
    """Call export files and their rows past their expiry (a day), whatever their state."""
    return {"deleted": call_exports_delete_expired(before=now, dry_run=dry_run)}


def call_setups_purge(*, now: datetime, dry_run: bool = False) -> dict:
    """Click-to-call set-up records after 30 days: the call itself, if it happened, is a CDR."""
    cutoff = now - timedelta(days=CALL_SETUP_DAYS)
    return {"deleted": call_setups_delete(before=cutoff, dry_run=dry_run), "cutoff": cutoff.isoformat()}
