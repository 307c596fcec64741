"""Key rotation of values sealed under the master keys with associated data bound to their row (the hold
table's numbers, notes on kept calls): `rotate_keys`' own walk (voipxs/management/commands/rotate_keys.py)
decrypts without associated data, so the apps that seal this way register a rotator built on `rotate_bound`.
Counts only, never a value."""
from __future__ import annotations

from typing import Callable

from django.db import transaction
from django.db.models import Model, QuerySet

from . import crypto


def rotate_bound(rows: QuerySet, fields: tuple[str, ...], *, aad: Callable[[Model], bytes], batch_size: int,
                 dry_run: bool) -> dict:
    """Re-encrypt `fields` of `rows` (in id order, one transaction per batch, rows locked) that an older key
    sealed, under the newest key with the same associated data `aad(row)`. Returns {"scanned": rows,
    "rotated": rows with a value rotated, "undecryptable": values no configured key opens}."""
    scanned = rotated = undecryptable = 0
    last_id = 0
    while True:
        with transaction.atomic():
            batch = list(rows.select_for_update().filter(id__gt=last_id).order_by("id")[:batch_size])
            if not batch:
                break
            for row in batch:
                scanned += 1
                bound, changed = aad(row), []
                for name in fields:
                    token = getattr(row, name)
                    if token is None or not crypto.needs_rotation(bytes(token)):
                        continue
                    try:
                        plain = crypto.decrypt_bytes(bytes(token), aad=bound)
                    except crypto.DecryptionError:
                        undecryptable += 1
                        continue
                    setattr(row, name, crypto.encrypt_bytes(plain, aad=bound))
                    changed.append(name)
                if changed:
                    rotated += 1
                    if not dry_run:
                        row.save(update_fields=changed)
            last_id = batch[-1].id
    return {"scanned": scanned, "rotated": rotated, "undecryptable": undecryptable}
