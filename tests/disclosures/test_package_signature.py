"""The package is signed (LEGAL.md section 5, row 19): its seal, a SHA-256 in the ZIP comment, could be
recomputed by whoever changed the file; the Ed25519 signature of it needs our key, and the recipient checks it
with the public key it gets with the package."""
from __future__ import annotations

import hashlib
import io
import zipfile
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils.timezone import now

from disclosures.models import PackageSigningKey
from disclosures.production import verify_zip, zip_bytes
from disclosures.signing import fingerprint
from tests.factories import make_cdr, verified_client

from .conftest import ALICE_NUMBER, OTHER
from .test_production import _zip

pytestmark = pytest.mark.django_db


def _verify(path, *keys: str) -> tuple[bool, str]:
    out, err = io.StringIO(), io.StringIO()
    args = [arg for key in keys for arg in ("--public-key", key)]
    try:
        call_command("verify_package", str(path), *args, stdout=out, stderr=err)
    except CommandError:
        return False, err.getvalue()
    return True, out.getvalue()


def _changed_body(data: bytes, change) -> bytes:
    """The archive's bytes before its comment once `change(files)` has altered its files."""
    zf = zipfile.ZipFile(io.BytesIO(data))
    files = {n: zf.read(n) for n in zf.namelist()}
    change(files)
    body = zip_bytes(files, sign=False)
    return body[:-2 - len(zipfile.ZipFile(io.BytesIO(body)).comment)]


def _forged(data: bytes) -> bytes:
    """What someone without our key can do: change a file and seal the archive again with a fresh SHA-256,
    signed by a key of their own."""
    def change(files: dict[str, bytes]) -> None:
        files["calls.csv"] = files["calls.csv"].replace(b"+3120", b"+3130", 1)

    body = _changed_body(data, change)
    forger = Ed25519PrivateKey.generate()
    raw = forger.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    digest = hashlib.sha256(body).hexdigest()
    comment = f"sha256:{digest} ed25519:{fingerprint(raw)}:{forger.sign(bytes.fromhex(digest)).hex()}".encode()
    return body + len(comment).to_bytes(2, "little") + comment


class PackageSignatureTests:
    def test_the_recipient_verifies_the_package_with_the_key_shown_on_the_request_page(
            self, client, legal1, legal2, legal3, authority, alice, tmp_path):
        make_cdr(account=alice, src=ALICE_NUMBER, dst=OTHER, started_at=now() - timedelta(days=1))
        req, _, data = _zip(legal1, legal2, legal3, authority)
        key = PackageSigningKey.objects.get()
        page = verified_client(client, legal1).get(reverse("disclosures:detail", args=[req.pk])).content.decode()
        assert key.public_key in page and "BEGIN PUBLIC KEY" in page
        path = tmp_path / "p.zip"
        path.write_bytes(data)
        ok, text = _verify(path, key.public_key)
        assert ok and "signed by our key" in text

    def test_a_package_resealed_without_our_key_fails(self, legal1, legal2, legal3, authority, alice, tmp_path):
        make_cdr(account=alice, src=ALICE_NUMBER, dst=OTHER, started_at=now() - timedelta(days=1))
        _, _, data = _zip(legal1, legal2, legal3, authority)
        ours = PackageSigningKey.objects.get().public_key
        forged = _forged(data)
        # Its seal matches its bytes: only the signature gives it away (checked in-house against our keys too).
        problems = verify_zip(forged)
        assert "archive: bytes differ from the sealed archive" not in problems
        assert any(p.startswith("archive: signed with a key this check was not given") for p in problems)
        path = tmp_path / "forged.zip"
        path.write_bytes(forged)
        ok, text = _verify(path, ours)
        assert not ok and "signed with a key this check was not given" in text
        unsigned = tmp_path / "unsigned.zip"
        zf = zipfile.ZipFile(io.BytesIO(data))
        unsigned.write_bytes(zip_bytes({n: zf.read(n) for n in zf.namelist()}, sign=False))
        ok, text = _verify(unsigned, ours)
        assert not ok and "archive: not signed" in text

    def test_a_signature_copied_onto_a_changed_archive_fails(self, legal1, legal2, legal3, authority, alice):
        make_cdr(account=alice, src=ALICE_NUMBER, dst=OTHER, started_at=now() - timedelta(days=1))
        _, _, data = _zip(legal1, legal2, legal3, authority)
        comment = zipfile.ZipFile(io.BytesIO(data)).comment
        body = _changed_body(data, lambda files: files.update({"calls.csv": files["calls.csv"] + b"\n"}))
        digest = hashlib.sha256(body).hexdigest().encode()
        signature = comment[comment.index(b" ed25519:"):]  # ours, of the genuine seal
        seal = b"sha256:" + digest + signature
        problems = verify_zip(body + len(seal).to_bytes(2, "little") + seal)
        assert "archive: the signature does not match its seal (changed after signing, or not signed by us)" in problems
