"""Key rotation of the hold table: held CDR numbers are encrypted under the master keys (they must
outlive their month key), so `rotate_keys` re-encrypts them under the newest key through this rotator."""
from __future__ import annotations

from voipxs.privacy.rotation import rotate_bound

from .models import HeldCdr

_FIELDS = ("src_enc", "dst_enc", "caller_name_enc", "technical_enc")


def held_cdr_rotate(*, batch_size: int = 500, dry_run: bool = False) -> dict:
    return rotate_bound(HeldCdr.objects.all(), _FIELDS, aad=lambda row: f"heldcdr:{row.cdr_id}".encode(),
                        batch_size=batch_size, dry_run=dry_run)
