"""How a note's text is encrypted. A note lives as long as its call, and is as readable as its call's numbers:

- under the call's month key (traffic.keys), like the call's numbers, while the call is in traffic_cdr: the
  month's shred (its key destroyed) leaves no readable copy of the note anywhere, backups included;
- under the master key, bound to the call's id, once the call's month was dropped and the call kept in the hold
  table (retention_heldcdr's numbers are sealed the same way): such a note is re-sealed in the transaction that
  drops the month, before the key goes (traffic.services.annotations.cdr_annotations_month_drop), and rotates
  with the master keys (`cdr_annotation_rotate`, a `rotate_keys` rotator).

Nothing here logs or raises with the text in it."""
from __future__ import annotations

from datetime import datetime

from voipxs.privacy import crypto
from voipxs.privacy.rotation import rotate_bound

from ..keys import MonthKeyDestroyed, MonthKeyMissing, month_cipher
from ..partitions import month_start
from .models import CdrAnnotation


def _aad(cdr_id: int) -> bytes:
    return f"cdrnote:{cdr_id}".encode()


def note_seal(text: str, *, started_at: datetime) -> bytes:
    """The text under the month key of a call that started at `started_at` (the key exists: the call's
    numbers were sealed with it)."""
    return month_cipher(month_start(started_at)).encrypt(text)


def note_seal_kept(text: str, *, cdr_id: int) -> bytes:
    """The text of a note on a call kept in the hold table: under the master key, bound to the call."""
    return crypto.encrypt_bytes(text.encode(), aad=_aad(cdr_id))


def note_open(token: bytes | memoryview, *, cdr_id: int, started_at: datetime, kept: bool) -> str | None:
    """The text, or None when its month's key is gone (the month was purged: the note no longer exists
    anywhere). A token that does not decrypt under a live key raises (never returns ciphertext)."""
    if kept:
        return crypto.decrypt_bytes(bytes(token), aad=_aad(cdr_id)).decode()
    try:
        return month_cipher(month_start(started_at)).decrypt(bytes(token))
    except (MonthKeyDestroyed, MonthKeyMissing):
        return None


def note_reseal_kept(token: bytes | memoryview, *, cdr_id: int, cipher: crypto.DataKeyCipher) -> bytes:
    """A month-key token re-sealed under the master key (its call is kept beyond its month's key)."""
    return note_seal_kept(cipher.decrypt(bytes(token)), cdr_id=cdr_id)


def cdr_annotation_rotate(*, batch_size: int = 500, dry_run: bool = False) -> dict:
    """`rotate_keys`: re-encrypt the notes of kept calls (master key) under the newest key. A month-key note
    needs nothing: month keys are re-wrapped by traffic.keys.month_key_rewrap. Counts only."""
    return rotate_bound(CdrAnnotation.objects.filter(kept_at__isnull=False), ("text_enc",),
                        aad=lambda note: _aad(note.cdr_id), batch_size=batch_size, dry_run=dry_run)
