"""Key rotation of the hold table: held CDR numbers are encrypted under the master keys (they must
outlive their month key), so `rotate_keys` re-encrypts them under the newest key through this rotator."""
from __future__ import annotations

from django.db import transaction

from voipxs.privacy import crypto

from .models import HeldCdr

_FIELDS = ("src_enc", "dst_enc", "caller_name_enc", "technical_enc")


def held_cdr_rotate(*, batch_size: int = 500, dry_run: bool = False) -> dict:
    scanned = rotated = undecryptable = 0
    last_id = 0
    while True:
        with transaction.atomic():
            rows = list(HeldCdr.objects.select_for_update().filter(id__gt=last_id).order_by("id")[:batch_size])
            if not rows:
                break
            for row in rows:
                scanned += 1
                aad = f"heldcdr:{row.cdr_id}".encode()
                changed = []
                for name in _FIELDS:
                    token = getattr(row, name)
                    if token is None or not crypto.needs_rotation(bytes(token)):
                        continue
                    try:
                        plain = crypto.decrypt_bytes(bytes(token), aad=aad)
                    except crypto.DecryptionError:
                        undecryptable += 1
                        continue
                    setattr(row, name, crypto.encrypt_bytes(plain, aad=aad))
                    changed.append(name)
                if changed:
                    rotated += 1
                    if not dry_run:
                        row.save(update_fields=changed)
            last_id = rows[-1].id
    return {"scanned": scanned, "rotated": rotated, "undecryptable": undecryptable}
