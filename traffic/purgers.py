"""What the traffic app hands the daily purge (registered in traffic/apps.py with
voipxs.privacy.registry.register_purger, one receipt each): customers' call export files, kept
CALL_EXPORT_HOURS after they are ready (traffic.services.call_exports).

CDRs, their technical identifiers and invoices are purged by retention itself (it knows the policies
and the holds), and stored CDR uploads and click-to-call set-up records (which legal holds keep) by
retention/purgers.py.
"""
from __future__ import annotations

from datetime import datetime

from .services.call_exports import call_exports_delete_expired

CALL_EXPORTS = "call_export"  # receipt category


def call_exports_purge(*, now: datetime, dry_run: bool = False) -> dict:
    """Call export files and their rows past their expiry (a day), whatever their state."""
    return {"deleted": call_exports_delete_expired(before=now, dry_run=dry_run)}

