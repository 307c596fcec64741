"""Field encryption, blind indexes and month data keys: `cryptography` behind plain functions.

Ciphertext layout (bytes): VERSION (1) | key id (4) | nonce (12) | AES-256-GCM ciphertext+tag.
The key id is the first 4 bytes of SHA-256 of the key, so any listed key can decrypt its own rows
and rotation only has to prepend a new key to FIELD_ENCRYPTION_KEYS (see `rotate_keys`).

A wrong or missing key raises `DecryptionError`; nothing here ever returns ciphertext or None for
a value that does not decrypt. Error messages never contain the plaintext or the ciphertext.
"""
from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import os
from typing import Any, Callable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

VERSION = 1
_HEADER = 1 + 4 + 12


class CryptoError(Exception):
    """Base of every failure in this module."""


class DecryptionError(CryptoError):
    """The value does not decrypt with any configured key (wrong key, tampered, or not ours)."""


class KeyConfigurationError(CryptoError):
    """A key is missing or malformed."""


def _decode_key(text: str, *, name: str) -> bytes:
    try:
        key = base64.urlsafe_b64decode(text.strip().encode())
    except (ValueError, TypeError) as exc:
        raise KeyConfigurationError(f"{name} is not urlsafe base64") from exc
    if len(key) != 32:
        raise KeyConfigurationError(f"{name} must decode to 32 bytes, got {len(key)}")
    return key


def key_id(key: bytes) -> bytes:
    return hashlib.sha256(key).digest()[:4]


@functools.lru_cache(maxsize=8)
def _keyring(raw: tuple[str, ...]) -> tuple[tuple[bytes, AESGCM], ...]:
    if not raw or not any(k.strip() for k in raw):
        raise KeyConfigurationError("FIELD_ENCRYPTION_KEYS is empty")
    return tuple(
        (key_id(key), AESGCM(key))
        for key in (_decode_key(k, name="FIELD_ENCRYPTION_KEYS") for k in raw if k.strip())
    )


def keyring() -> tuple[tuple[bytes, AESGCM], ...]:
    """(key id, cipher) pairs, newest first."""
    return _keyring(tuple(settings.FIELD_ENCRYPTION_KEYS))


@functools.lru_cache(maxsize=4)
def _blind_key(raw: str) -> bytes:
    return _decode_key(raw, name="BLIND_INDEX_KEY")


def _derived(purpose: bytes) -> bytes:
    """A sub-key of BLIND_INDEX_KEY for one purpose (HKDF), so each use has its own key."""
    return _derived_cached(settings.BLIND_INDEX_KEY, purpose)


@functools.lru_cache(maxsize=16)
def _derived_cached(raw: str, purpose: bytes) -> bytes:
    return HKDF(algorithm=SHA256(), length=32, salt=None, info=b"voipxs:" + purpose).derive(_blind_key(raw))


# --- encrypt / decrypt ---------------------------------------------------------------------------

def encrypt_bytes(plaintext: bytes, *, aad: bytes = b"") -> bytes:
    kid, cipher = keyring()[0]
    nonce = os.urandom(12)
    return bytes([VERSION]) + kid + nonce + cipher.encrypt(nonce, plaintext, aad or None)


def decrypt_bytes(token: bytes, *, aad: bytes = b"") -> bytes:
    token = bytes(token)
    if len(token) < _HEADER + 16 or token[0] != VERSION:
        raise DecryptionError("not a VoIPXS ciphertext")
    kid, nonce, body = token[1:5], token[5:17], token[17:]
    for candidate_id, cipher in keyring():
        if candidate_id == kid:
            try:
                return cipher.decrypt(nonce, body, aad or None)
            except InvalidTag as exc:
                raise DecryptionError("ciphertext failed authentication (tampered or wrong key)") from exc
    raise DecryptionError("no configured key matches this ciphertext's key id")


def encrypt_str(value: str) -> bytes:
    return encrypt_bytes(value.encode("utf-8"))


def decrypt_str(token: bytes) -> str:
    return decrypt_bytes(token).decode("utf-8")


def needs_rotation(token: bytes) -> bool:
    """True when the value was written under an older key than the newest one."""
    return bytes(token[1:5]) != keyring()[0][0]


# --- blind index -----------------------------------------------------------------------------------

@functools.lru_cache(maxsize=65536)
def _blind_index_cached(raw_key: str, domain: str, value: str) -> str:
    return _indexer(raw_key, domain)(value)


def blind_index(value: str, *, domain: str) -> str:
    """HMAC-SHA256 (hex) of an already normalised value, for exact lookups on encrypted columns.

    `domain` separates uses ("phone", "email"), so equal strings in different roles do not match.
    Cached per value: ingest indexes each distinct number once.
    """
    return _blind_index_cached(settings.BLIND_INDEX_KEY, domain, value)


def blind_indexer(domain: str) -> Callable[[str], str]:
    """`blind_index` of one domain as a plain function, without its cache: for a caller that keeps its
    own cache of distinct values (ingest meets each number once, so the shared cache only costs there)."""
    return _indexer(settings.BLIND_INDEX_KEY, domain)


@functools.lru_cache(maxsize=16)
def _indexer(raw_key: str, domain: str) -> Callable[[str], str]:
    """HMAC-SHA256 under the domain's key, set up once: each value then costs a copy of the keyed HMAC
    state and one short update (1.1 µs), where hmac.new/hmac.digest key it anew for every value (1.6 µs)."""
    keyed = hmac.new(_derived_cached(raw_key, b"blind-index:" + domain.encode()), digestmod=hashlib.sha256)
    copy = keyed.copy

    def index(value: str) -> str:
        digest = copy()
        digest.update(value.encode("utf-8"))
        return digest.hexdigest()
    return index


def pseudonym(kind: str, pk: object) -> str:
    """A stable pseudonymous id for the audit log ("user:42" → "u_3fa1…"), unlinkable without the key."""
    key = _derived(b"pseudonym")
    digest = hmac.new(key, f"{kind}:{pk}".encode(), hashlib.sha256).hexdigest()[:20]
    return f"{kind[:1]}_{digest}"


def audit_chain_key() -> bytes:
    return _derived(b"audit-chain")


def audit_anchor_key() -> bytes:
    """MAC key of the audit log's trim anchors: a sibling of the chain key, never the same bytes."""
    return _derived(b"audit-anchor")


# --- month data keys (crypto-shredding) ---------------------------------------------------------------

def new_data_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


def wrap_data_key(data_key: bytes, *, label: str) -> bytes:
    """Encrypt a data key under the newest master key; `label` (e.g. "cdr:2026-05") is bound as AAD."""
    return encrypt_bytes(data_key, aad=label.encode())


def unwrap_data_key(wrapped: bytes, *, label: str) -> bytes:
    return decrypt_bytes(wrapped, aad=label.encode())


class DataKeyCipher:
    """AES-GCM under one data key (one calendar month of CDRs). Same layout as field ciphertext."""

    __slots__ = ("_cipher", "_kid")

    def __init__(self, data_key: bytes) -> None:
        self._cipher = AESGCM(data_key)
        self._kid = key_id(data_key)

    def encrypt(self, plaintext: str) -> bytes:
        nonce = os.urandom(12)
        return bytes([VERSION]) + self._kid + nonce + self._cipher.encrypt(nonce, plaintext.encode(), None)

    def bulk_parts(self) -> tuple[Any, bytes]:
        """For a bulk writer that draws its own nonces (traffic.ingest.month_crypto): the AES-GCM
        `encrypt(nonce, data, aad)` and the header `VERSION | key id` that precedes `nonce | ciphertext`,
        so that what it writes reads back with `decrypt` like any other token of this key."""
        return self._cipher.encrypt, bytes([VERSION]) + self._kid

    def reader(self, *, null: Any = "") -> Callable[[Any], Any]:
        """`decrypt` as one plain function for a loop over many tokens of this key, a NULL field (None)
        reading as `null`: the same checks and errors in fewer steps, for the readers that decrypt
        hundreds of thousands of fields in a row (the data-subject export)."""
        decrypt, kid = self._cipher.decrypt, self._kid

        def read(token: Any) -> Any:
            if token is None:
                return null
            token = bytes(token)
            if len(token) < _HEADER + 16 or token[0] != VERSION or token[1:5] != kid:
                raise DecryptionError("ciphertext does not belong to this data key")
            try:
                return decrypt(token[5:17], token[17:], None).decode()
            except InvalidTag as exc:
                raise DecryptionError("ciphertext failed authentication (tampered or wrong key)") from exc
        return read

    def decrypt(self, token: bytes) -> str:
        token = bytes(token)
        if len(token) < _HEADER + 16 or token[0] != VERSION or token[1:5] != self._kid:
            raise DecryptionError("ciphertext does not belong to this data key")
        try:
            return self._cipher.decrypt(token[5:17], token[17:], None).decode()
        except InvalidTag as exc:
            raise DecryptionError("ciphertext failed authentication (tampered or wrong key)") from exc
