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
import io
import os
from typing import Any, BinaryIO, Callable, Iterator

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

VERSION = 1
_HEADER = 1 + 4 + 12
_TAG = 16
STREAM_CHUNK = 1 << 20  # what encrypt_stream and DecryptingReader handle at a time


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
    # A view, not bytes(token)[17:]: a large token (a disclosure package's file) is not copied twice first. As
    # bytes ("B"): psycopg2 hands out bytea as a view of characters ("c"), whose items are not numbers.
    view = memoryview(token).cast("B")
    if len(view) < _HEADER + _TAG or view[0] != VERSION:
        raise DecryptionError("not a VoIPXS ciphertext")
    kid, nonce = bytes(view[1:5]), bytes(view[5:17])
    for candidate_id, cipher in keyring():
        if candidate_id == kid:
            try:
                return cipher.decrypt(nonce, view[_HEADER:], aad or None)
            except InvalidTag as exc:
                raise DecryptionError("ciphertext failed authentication (tampered or wrong key)") from exc
    raise DecryptionError("no configured key matches this ciphertext's key id")


# --- large values in chunks ------------------------------------------------------------------------
# The same layout as encrypt_bytes, made and read with AES-GCM's streaming form (cryptography's Cipher with
# modes.GCM: the ciphertext of update() calls plus the tag is exactly AESGCM.encrypt's output), so that a value
# of hundreds of megabytes needs one chunk of plaintext in memory, not the whole of it beside its ciphertext.

@functools.lru_cache(maxsize=8)
def _key_bytes(raw: tuple[str, ...]) -> dict[bytes, bytes]:
    keys = (_decode_key(k, name="FIELD_ENCRYPTION_KEYS") for k in raw if k.strip())
    return {key_id(key): key for key in keys}


def _aes_key(kid: bytes) -> bytes:
    keyring()  # the same refusal of a missing or malformed key as everywhere else
    key = _key_bytes(tuple(settings.FIELD_ENCRYPTION_KEYS)).get(kid)
    if key is None:
        raise DecryptionError("no configured key matches this ciphertext's key id")
    return key


def encrypt_chunks(source: BinaryIO, size: int, *, aad: bytes = b"") -> Iterator[bytes]:
    """`encrypt_bytes`' token of the `size` bytes `source` holds from where it stands, in pieces (its header, the
    ciphertext of one STREAM_CHUNK of plaintext at a time, the tag): joined, they are a token like any other."""
    kid = keyring()[0][0]
    nonce = os.urandom(12)
    encryptor = Cipher(algorithms.AES(_aes_key(kid)), modes.GCM(nonce)).encryptor()
    if aad:
        encryptor.authenticate_additional_data(aad)
    yield bytes([VERSION]) + kid + nonce
    left = size
    while left:
        chunk = source.read(min(STREAM_CHUNK, left))
        if not chunk:
            raise CryptoError("the source ended before its size")
        yield encryptor.update(chunk)  # GCM: as many bytes out as in
        left -= len(chunk)
    if source.read(1):
        raise CryptoError("the source holds more than its size")
    encryptor.finalize()
    yield encryptor.tag


def encrypt_stream(source: BinaryIO, size: int, *, aad: bytes = b"") -> bytearray:
    """`encrypt_chunks` joined in one buffer of the token's size (what a BinaryField stores): no copy of the
    plaintext, nor of the token."""
    token = bytearray(_HEADER + size + _TAG)
    at = 0
    for piece in encrypt_chunks(source, size, aad=aad):
        token[at:at + len(piece)] = piece
        at += len(piece)
    return token


class DecryptingReader(io.RawIOBase):
    """The plaintext of a token (encrypt_bytes' or encrypt_chunks'), read in chunks: neither the token nor the
    plaintext is copied whole. `token` is bytes-like (read through a view), or anything with len() and slicing
    that returns bytes (a value the database hands out in pieces). `size` is the plaintext's length. The tag can
    only be checked at the end: the read that reaches it raises DecryptionError when the token was changed or made
    with another key, so what came before is unauthenticated until a read has returned b"" (keep it private until
    then)."""

    def __init__(self, token, *, aad: bytes = b"") -> None:
        view = memoryview(token).cast("B") if isinstance(token, (bytes, bytearray, memoryview)) else token
        head = bytes(view[:_HEADER]) if len(view) >= _HEADER + _TAG else b""
        if not head or head[0] != VERSION:
            raise DecryptionError("not a VoIPXS ciphertext")
        mode = modes.GCM(head[5:17], bytes(view[len(view) - _TAG:]))
        self._decryptor = Cipher(algorithms.AES(_aes_key(head[1:5])), mode).decryptor()
        if aad:
            self._decryptor.authenticate_additional_data(aad)
        self._token = view
        self.size = len(view) - _HEADER - _TAG
        self._at = 0
        self._forged = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        count = min(len(buffer), self.size - self._at, STREAM_CHUNK)
        if count <= 0:
            self._authenticate()
            return 0
        start = _HEADER + self._at
        buffer[:count] = self._decryptor.update(self._token[start:start + count])
        self._at += count
        return count

    def _authenticate(self) -> None:
        if self._decryptor is not None:
            decryptor, self._decryptor = self._decryptor, None
            try:
                decryptor.finalize()
            except InvalidTag:
                self._forged = True
        if self._forged:  # every read at the end says so, not only the first
            raise DecryptionError("ciphertext failed authentication (tampered or wrong key)")

    def close(self) -> None:
        self._token = memoryview(b"")  # lets go of the token
        super().close()


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


def audit_head_key() -> bytes:
    """MAC key of the audit log's head witness (audit_head.py), a file outside the database."""
    return _derived(b"audit-head")


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
