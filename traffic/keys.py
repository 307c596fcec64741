"""Month data keys for CDR numbers (crypto-shredding).

Each calendar month (UTC) of CDRs has its own AES-256 data key, stored wrapped by the newest master
key in `MonthKey` with the label "cdr:YYYY-MM" bound as AAD (a wrapped key cannot be swapped to
another month). Destroying the key (`month_key_destroy`) makes every copy of that month's numbers
unreadable, including copies in backups of the CDR tables.

Unwrapped keys are cached per process for a short time, so ingest and portal reads unwrap each
month once; the cache forgets a destroyed month at once in this process and within
`_CACHE_SECONDS` in every other.
"""
from __future__ import annotations

import time
from datetime import date

from django.db import IntegrityError, transaction
from django.utils.timezone import now

from voipxs.privacy import crypto
from voipxs.privacy.audit import audit_record
from voipxs.privacy.purposes import RETENTION_PURPOSE
from voipxs.privacy.rotation import rotation_recorded

from .models import MonthKey
from .partitions import month_start

_CACHE_SECONDS = 60.0
_cache: dict[date, tuple[float, crypto.DataKeyCipher]] = {}


class MonthKeyDestroyed(crypto.DecryptionError):
    """The month was purged: its key is gone and its numbers can never be read again."""


class MonthKeyMissing(crypto.DecryptionError):
    """No key was ever made for this month (no CDRs were written for it)."""


def _label(month: date) -> str:
    return f"cdr:{month.year:04d}-{month.month:02d}"


def month_cipher(month: date, *, create: bool = False) -> crypto.DataKeyCipher:
    """The cipher of `month` (first day of a month). With create=True a missing key is made."""
    hit = _cache.get(month)
    if hit is not None and hit[0] > time.monotonic():
        return hit[1]
    row = MonthKey.objects.filter(month=month).first()
    if row is None:
        if not create:
            raise MonthKeyMissing(f"no data key for {month:%Y-%m}")
        row = _month_key_create(month)
    if row.wrapped_key is None:
        month_key_forget(month=month)
        raise MonthKeyDestroyed(f"the data key of {month:%Y-%m} was destroyed when the month was purged")
    cipher = crypto.DataKeyCipher(crypto.unwrap_data_key(bytes(row.wrapped_key), label=_label(month)))
    # A key made in a transaction that is still open may yet be rolled back; caching it would let
    # this process encrypt rows under a key that no longer exists. Cache it once it has committed.
    if month not in _uncommitted:
        _cache[month] = (time.monotonic() + _CACHE_SECONDS, cipher)
    return cipher


def month_key_wrapped(month: date) -> bytes:
    """The month's key as stored (wrapped by a master key): what a preparing process of an import
    (traffic.ingest.parallel) is handed, so no unwrapped key ever crosses a pipe."""
    wrapped = MonthKey.objects.filter(month=month).values_list("wrapped_key", flat=True).first()
    if wrapped is None:
        raise MonthKeyMissing(f"no live data key for {month:%Y-%m}")
    return bytes(wrapped)


def month_cipher_unwrapped(month: date, wrapped: bytes) -> crypto.DataKeyCipher:
    """The cipher of a wrapped month key (`month_key_wrapped`), without a query."""
    return crypto.DataKeyCipher(crypto.unwrap_data_key(wrapped, label=_label(month)))


def month_keys_forget() -> None:
    """Drop every cached month key of this process: the database behind them changed (a test's or a
    benchmark's fresh database, a restored backup)."""
    _cache.clear()


def month_key_forget(*, month: date) -> None:
    """Drop `month`'s unwrapped key from this process's cache: its key was destroyed, or (the importer)
    it was made in a transaction that was rolled back, so the next use reads the table again."""
    _cache.pop(month, None)


# Months whose key this process created in a transaction that has not committed (yet). A rollback
# leaves the month here, which only costs this process its cache for that month.
_uncommitted: set[date] = set()


def _month_key_create(month: date) -> MonthKey:
    wrapped = crypto.wrap_data_key(crypto.new_data_key(), label=_label(month))
    try:
        # A savepoint, so that losing the race to a concurrent importer does not spoil the caller's transaction.
        with transaction.atomic():
            key = MonthKey.objects.create(month=month, wrapped_key=wrapped)
    except IntegrityError:
        return MonthKey.objects.get(month=month)
    if transaction.get_connection().in_atomic_block:
        _uncommitted.add(month)
        transaction.on_commit(lambda: _uncommitted.discard(month))
    return key


@transaction.atomic
def month_key_destroy(*, month: date, actor=None) -> MonthKey:
    """Irreversibly destroy the month's data key. Callers must have removed or copied (re-encrypted
    under another month's key or the hold table's) every row that has to stay."""
    key, _ = MonthKey.objects.select_for_update().get_or_create(month=month, defaults={"wrapped_key": None})
    if key.wrapped_key is not None or key.destroyed_at is None:
        key.wrapped_key, key.destroyed_at = None, now()
        key.save(update_fields=["wrapped_key", "destroyed_at"])
        # Only the retention purge destroys a month's key (its period is over): crypto-shredding is its deletion.
        audit_record(actor=actor, action="month_key.destroy", purpose=RETENTION_PURPOSE, target_type="month_key",
                     target_id=month.isoformat())
    month_key_forget(month=month)
    transaction.on_commit(lambda: month_key_forget(month=month))
    return key


def month_key_rewrap(*, batch_size: int = 100, dry_run: bool = False) -> dict:
    """Re-wrap live month keys under the newest master key (a `rotate_keys` rotator). Counts only, in its
    audit entry too (voipxs.privacy.rotation.rotation_recorded)."""
    with rotation_recorded(MonthKey._meta.label, dry_run=dry_run) as counts:
        counts.update(scanned=0, rotated=0)
        for key in MonthKey.objects.filter(wrapped_key__isnull=False).iterator(chunk_size=batch_size):
            counts["scanned"] += 1
            wrapped = bytes(key.wrapped_key)
            if not crypto.needs_rotation(wrapped):
                continue
            counts["rotated"] += 1
            if not dry_run:
                data_key = crypto.unwrap_data_key(wrapped, label=_label(key.month))
                key.wrapped_key = crypto.wrap_data_key(data_key, label=_label(key.month))
                key.save(update_fields=["wrapped_key"])
    return dict(counts)


def decrypt_number(token: bytes | memoryview | None, *, started_at) -> str:
    """Decrypt a CDR number field (src_enc, dst_enc, caller_name_enc) with its month's key. One field
    at a time; a reader of many rows uses `traffic.selectors.cdr_reader.CallDecryptor`."""
    if token is None:
        return ""
    return month_cipher(month_start(started_at)).decrypt(bytes(token))
