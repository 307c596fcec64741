"""Key rotation of values sealed under the master keys with associated data bound to their row (the hold
table's numbers, notes on kept calls): `rotate_keys`' own walk (voipxs/management/commands/rotate_keys.py)
decrypts without associated data, so the apps that seal this way register a rotator built on `rotate_bound`.
Counts only, never a value.

Every walk over a table decrypts what an older key sealed, so each leaves one audit entry ("keys.rotate",
purpose SECURITY: GDPR art. 32) with the table and its counts (`rotation_recorded`), also when it fails
half-way (the batches before the failure did commit) and on a dry run (which decrypts all the same).
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator

from django.db import transaction
from django.db.models import Model, QuerySet

from . import crypto
from .audit import audit_record
from .purposes import KEY_ROTATION_PURPOSE, SystemActor

ROTATION_ACTOR = SystemActor("rotate_keys", frozenset({KEY_ROTATION_PURPOSE}))
ROTATION_ACTION = "keys.rotate"


@contextmanager
def rotation_recorded(table: str, *, dry_run: bool) -> Iterator[dict]:
    """Around one table's walk: yields the dict its counts go in, and records them under KEY_ROTATION_PURPOSE
    when the walk ends, or with the exception's class name as "failed" when it raises (then re-raised)."""
    counts: dict = {}
    try:
        yield counts
    except Exception as exc:
        _record(table, {**counts, "failed": type(exc).__name__}, dry_run=dry_run)
        raise
    _record(table, counts, dry_run=dry_run)


def _record(table: str, counts: dict, *, dry_run: bool) -> None:
    audit_record(actor=ROTATION_ACTOR, action=ROTATION_ACTION, purpose=KEY_ROTATION_PURPOSE, target_type="model",
                 target_id=table, extra={**counts, "dry_run": dry_run})


def rotate_bound(rows: QuerySet, fields: tuple[str, ...], *, aad: Callable[[Model], bytes], batch_size: int,
                 dry_run: bool) -> dict:
    """Re-encrypt `fields` of `rows` (in id order, one transaction per batch, rows locked) that an older key
    sealed, under the newest key with the same associated data `aad(row)`. Returns {"scanned": rows,
    "rotated": rows with a value rotated, "undecryptable": values no configured key opens}."""
    with rotation_recorded(rows.model._meta.label, dry_run=dry_run) as counts:
        counts.update(scanned=0, rotated=0, undecryptable=0)
        last_id = 0
        while True:
            with transaction.atomic():
                batch = list(rows.select_for_update().filter(id__gt=last_id).order_by("id")[:batch_size])
                if not batch:
                    break
                for row in batch:
                    counts["scanned"] += 1
                    bound, changed = aad(row), []
                    for name in fields:
                        token = getattr(row, name)
                        if token is None or not crypto.needs_rotation(bytes(token)):
                            continue
                        try:
                            plain = crypto.decrypt_bytes(bytes(token), aad=bound)
                        except crypto.DecryptionError:
                            counts["undecryptable"] += 1
                            continue
                        setattr(row, name, crypto.encrypt_bytes(plain, aad=bound))
                        changed.append(name)
                    if changed:
                        counts["rotated"] += 1
                        if not dry_run:
                            row.save(update_fields=changed)
                last_id = batch[-1].id
    return dict(counts)
