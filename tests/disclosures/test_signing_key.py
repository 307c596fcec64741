"""The package signing key is made deliberately and on the record (disclosures/signing.py): the command shows
its public half for the authorities before any package, rotates it, and every key's making is audited with its
fingerprint; a package made before anyone ran the command is still signed, by a key that is audited too."""
from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils.timezone import now

from disclosures.models import PackageSigningKey
from disclosures.production import verify_zip
from disclosures.signing import published_keys
from tests.factories import make_cdr
from voipxs.models import AuditEntry

from .conftest import ALICE_NUMBER, OTHER
from .test_production import _zip

pytestmark = pytest.mark.django_db


def _command(*args: str) -> str:
    out = io.StringIO()
    call_command("package_signing_key", *args, stdout=out)
    return out.getvalue()


def _signed_by(data: bytes) -> str:
    import zipfile

    comment = zipfile.ZipFile(io.BytesIO(data)).comment.decode()
    return comment.split(" ed25519:")[1].split(":")[0]


def test_before_any_key_the_command_says_to_make_one():
    assert "No signing key yet: make one with --new" in _command()
    assert not PackageSigningKey.objects.exists()


def test_new_makes_a_key_shows_its_public_half_only_and_audits_it():
    text = _command("--new")
    key = PackageSigningKey.objects.get()
    assert f"New signing key {key.fingerprint}" in text
    assert f"public key (hex): {key.public_key}" in text and "BEGIN PUBLIC KEY" in text
    assert key.private_key not in text and "PRIVATE" not in text
    entry = AuditEntry.objects.get(action="package_signing_key.create")
    assert entry.actor == "system:manage:package_signing_key"
    assert entry.extra == {"fingerprint": key.fingerprint, "replaces": None}
    assert key.private_key not in str(entry.extra)


def test_packages_are_signed_with_the_newest_key_and_older_packages_still_verify(
        legal1, legal2, legal3, authority, alice):
    make_cdr(account=alice, src=ALICE_NUMBER, dst=OTHER, started_at=now() - timedelta(days=1))
    _command("--new")
    first = PackageSigningKey.objects.get()
    _, _, old_package = _zip(legal1, legal2, legal3, authority)
    assert _signed_by(old_package) == first.fingerprint

    text = _command("--new")  # rotation
    second = PackageSigningKey.objects.exclude(pk=first.pk).get()
    assert f"Signing key {second.fingerprint}" in text and f"older key {first.fingerprint}" in text
    rotation = AuditEntry.objects.get(action="package_signing_key.create", extra__fingerprint=second.fingerprint)
    assert rotation.extra["replaces"] == first.fingerprint
    assert set(published_keys()) == {first.fingerprint, second.fingerprint}
    assert verify_zip(old_package) == []  # the old key stays published for what it signed


def test_a_package_before_any_key_is_still_signed_and_the_key_audited(legal1, legal2, legal3, authority, alice):
    make_cdr(account=alice, src=ALICE_NUMBER, dst=OTHER, started_at=now() - timedelta(days=1))
    _, _, data = _zip(legal1, legal2, legal3, authority)
    key = PackageSigningKey.objects.get()
    assert _signed_by(data) == key.fingerprint and verify_zip(data) == []
    entry = AuditEntry.objects.get(action="package_signing_key.create")
    assert entry.actor == "system:package_signing_first_use" and entry.extra["fingerprint"] == key.fingerprint
