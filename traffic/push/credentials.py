"""The credential a switch pushes its CDRs with: username `push-<source>`, a random password shown once.

Only the SHA-256 of the password is stored. The password is 32 random bytes (256 bits): nothing can be
guessed from a fast hash of it, so a slow password hash (hundreds of milliseconds) would only cost every
push that time. A checked credential is remembered per process for CACHE_SECONDS, keyed on the hash,
so a replaced password stops working within that time.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time

from django.db import transaction

from voipxs.privacy.audit import audit_record
from voipxs.privacy.purposes import Purpose

from ..models import PushCredential, Source

CACHE_SECONDS = 30.0
_cache: dict[str, tuple[float, str, Source]] = {}  # username → (expires, password sha256, source)
_cache_lock = threading.Lock()


def _sha256(password: str) -> str:
    return hashlib.sha256(password.encode("utf-8", "surrogatepass")).hexdigest()


@transaction.atomic
def push_credential_create(*, source: Source, actor=None) -> tuple[str, str]:
    """A new push credential for `source` (replacing one it had). Returns (username, password); the
    password is not stored and cannot be shown again."""
    username = f"push-{source.name}"
    password = secrets.token_urlsafe(32)
    PushCredential.objects.update_or_create(source=source, defaults={
        "username": username, "password_sha256": _sha256(password)})
    audit_record(actor=actor, action="cdr_source.push_credential", purpose=Purpose.SECURITY, target_type="cdr_source",
                 target_id=source.pk, extra={"username": username})
    with _cache_lock:
        _cache.pop(username, None)
    return username, password


def push_source_for(username: str, password: str) -> Source | None:
    """The source this credential pushes for, or None when it is not one (unknown user, wrong password). A username
    with a NUL byte is none (no source's name holds one), and is not looked up: PostgreSQL text cannot hold NUL and
    the lookup failed the push with a 500 instead of its 401."""
    if "\x00" in username:
        return None
    digest = _sha256(password)
    with _cache_lock:
        hit = _cache.get(username)
    if hit is None or hit[0] < time.monotonic():
        credential = PushCredential.objects.select_related("source").filter(username=username).first()
        if credential is None:
            return None
        hit = (time.monotonic() + CACHE_SECONDS, credential.password_sha256, credential.source)
        with _cache_lock:
            _cache[username] = hit
    return hit[2] if hmac.compare_digest(hit[1], digest) else None
