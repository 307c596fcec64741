"""The package's signature: Ed25519 over the archive's SHA-256 seal, so that a recipient holding our public key
can tell the package left us as it is (LEGAL.md section 5, row 19). The seal alone is a bare SHA-256 in the ZIP
comment, which whoever changes the file can recompute; the signature needs the private key, kept encrypted in
the database (PackageSigningKey, re-encrypted by `rotate_keys` like every encrypted field).

The comment reads `sha256:<64 hex> ed25519:<key fingerprint, 16 hex>:<signature, 128 hex>`. The newest key
signs; older ones stay published for the packages they signed. The public key is on the request's page and
`verify_package --public-key HEX` checks a package against it anywhere.

A key is made deliberately, before the first package, with `manage.py package_signing_key --new` (which also
rotates it), so that its public half can reach the authorities ahead of any package; the first package made
without one makes one itself rather than go unsigned. Either way the making is in the audit log, with the
fingerprint and never the key.
"""
from __future__ import annotations

import hashlib
import re

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.db import transaction

from voipxs.privacy.audit import audit_record
from voipxs.privacy.purposes import Purpose, SystemActor

from . import problems as P
from .models import PackageSigningKey

FIRST_USE_ACTOR = SystemActor("package_signing_first_use")

SEAL = re.compile(rb"sha256:(?P<digest>[0-9a-f]{64})(?: ed25519:(?P<key>[0-9a-f]{16}):(?P<sig>[0-9a-f]{128}))?")
_RAW = serialization.Encoding.Raw, serialization.PublicFormat.Raw


def fingerprint(public_raw: bytes) -> str:
    return hashlib.sha256(public_raw).hexdigest()[:16]


def public_key_from_hex(text: str) -> tuple[str, Ed25519PublicKey]:
    """(fingerprint, key) of a raw public key written as 64 hex digits. Raises ValueError."""
    raw = bytes.fromhex(text.strip())
    return fingerprint(raw), Ed25519PublicKey.from_public_bytes(raw)


def published_keys() -> dict[str, Ed25519PublicKey]:
    """Every key that ever signed a package, by fingerprint."""
    return dict(public_key_from_hex(k) for k in PackageSigningKey.objects.values_list("public_key", flat=True))


def _newest() -> PackageSigningKey | None:
    return PackageSigningKey.objects.order_by("-created_at", "-pk").first()


@transaction.atomic
def signing_key_create(*, actor) -> PackageSigningKey:
    """A new signing key, which signs from now on (the older ones stay published). Audited with its
    fingerprint: when a key began and who made it is what a recipient's check of an old package may ask."""
    private = Ed25519PrivateKey.generate()
    public_raw = private.public_key().public_bytes(*_RAW)
    private_raw = private.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                        serialization.NoEncryption())
    replaces = _newest()
    key = PackageSigningKey.objects.create(fingerprint=fingerprint(public_raw), public_key=public_raw.hex(),
                                           private_key=private_raw.hex())
    audit_record(actor=actor, action="package_signing_key.create", purpose=Purpose.SECURITY,
                 target_type="package_signing_key", target_id=key.pk, extra={"fingerprint": key.fingerprint,
                                          "replaces": replaces.fingerprint if replaces else None})
    return key


def signing_key() -> PackageSigningKey:
    """The newest key; made here, audited, if none was made before the first package (two made at once are
    both valid: each signature names its key)."""
    return _newest() or signing_key_create(actor=FIRST_USE_ACTOR)


def seal_signature(digest_hex: bytes) -> bytes:
    """` ed25519:<fingerprint>:<signature>` of a seal's SHA-256 (its 64 hex digits), by the newest key."""
    key = signing_key()
    private = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(key.private_key))
    return f" ed25519:{key.fingerprint}:{private.sign(bytes.fromhex(digest_hex.decode())).hex()}".encode()


def signature_problem(match: re.Match, keys: dict[str, Ed25519PublicKey]) -> str | None:
    """Why a seal's signature does not vouch for it (None: it does)."""
    if match["sig"] is None:
        return P.problem(P.UNSIGNED)
    key = keys.get(match["key"].decode())
    if key is None:
        return P.problem(P.UNKNOWN_KEY, key=match["key"].decode())
    try:
        key.verify(bytes.fromhex(match["sig"].decode()), bytes.fromhex(match["digest"].decode()))
    except InvalidSignature:
        return P.problem(P.BAD_SIGNATURE)
    return None


def public_key_pem(key: PackageSigningKey) -> str:
    """The key as PEM (SubjectPublicKeyInfo), for a recipient's own tools (openssl pkeyutl -verify)."""
    public = Ed25519PublicKey.from_public_bytes(bytes.fromhex(key.public_key))
    return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def signing_public_key() -> tuple[PackageSigningKey, str] | None:
    """The key packages are signed with now and its PEM, for the request's page (None: nothing signed yet)."""
    key = _newest()
    return None if key is None else (key, public_key_pem(key))
