"""Key rotation reaches the files of delivered packages not yet deleted (GDPR art. 32; README "Key rotation"):
after `rotate_keys` and the removal of the old key, as the rotation's procedure says, the package still downloads
byte for byte as it did; before, `rotate_keys` left them under the old key, and removing it made every package of
the last DISCLOSURE_PACKAGE_RETENTION_DAYS unreadable. Each file is sealed anew in chunks, in a transaction of its
own: a failure half-way leaves it under the old key, readable, and the next run does it."""
from __future__ import annotations

import base64
import gc
import hashlib
import io
import os
import threading
import time
import tracemalloc
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.utils.timezone import now
from rest_framework.test import APIClient

from disclosures.models import Package, PackageFile
from disclosures.production import package_output_problems, package_zip
from disclosures.rotation import _file_reseal
from disclosures.stored import StoredFile, package_file_aad
from tests.factories import make_cdr, verified_client
from voipxs.models import AuditEntry
from voipxs.privacy import crypto
from voipxs.privacy.crypto import STREAM_CHUNK
from voipxs.privacy.registry import rotators
from voipxs.privacy.rotation import ROTATION_ACTION

from .conftest import ALICE_NUMBER, OTHER, receive, to_state
from .test_package_streaming import _status_kb

pytestmark = pytest.mark.django_db

KEY_B = base64.urlsafe_b64encode(b"package-rotation-key-B-32-bytes!").decode()
KEY_C = base64.urlsafe_b64encode(b"package-rotation-key-C-32-bytes!").decode()
LABEL = "disclosures.PackageFile"


@pytest.fixture
def package(legal1, legal2, legal3, bare, alice):
    """A package produced, checked and stored under the present key (A)."""
    make_cdr(account=alice, src=ALICE_NUMBER, dst=OTHER, started_at=now() - timedelta(days=1))
    req = to_state(receive(legal1, bare), "checked", intake=legal1, approvers=[legal2, legal3])
    return Package.objects.get(request=req)


@pytest.fixture
def key_a(settings):
    return list(settings.FIELD_ENCRYPTION_KEYS)[0]


def _kids(package: Package) -> list[bytes]:
    """The key id each stored file's ciphertext names, in id order."""
    return [bytes(c)[1:5] for c in package.files.order_by("id").values_list("content_enc", flat=True)]


def _described(package: Package) -> list[tuple]:
    return list(package.files.order_by("id").values_list("name", "sha256", "size"))


def _rotate_keys() -> str:
    out = io.StringIO()
    call_command("rotate_keys", stdout=out)
    return out.getvalue()


def _last_audit() -> AuditEntry:
    return AuditEntry.objects.filter(action=ROTATION_ACTION, target_id=LABEL).order_by("pk").last()


class PackageRotationTests:
    def test_a_package_sealed_under_the_old_key_downloads_identically_once_that_key_is_gone(
            self, package, key_a, settings, legal1):
        expected, described, files = package_zip(package), _described(package), package.files.count()
        assert files >= 4
        settings.FIELD_ENCRYPTION_KEYS = [KEY_B, key_a]  # a new key first, the old one after it

        out = _rotate_keys()

        assert f"{LABEL}: scanned {files}, rotated {files}" in out
        assert set(_kids(package)) == {crypto.key_id(base64.urlsafe_b64decode(KEY_B))}
        assert _described(package) == described  # what the authority got, unchanged
        entry = _last_audit()
        assert (entry.purpose, entry.actor, entry.target_type) == ("security", "system:rotate_keys", "model")
        assert entry.extra == {"scanned": files, "rotated": files, "undecryptable": 0, "dry_run": False}
        assert f"{LABEL}: scanned {files}, rotated 0" in _rotate_keys()  # nothing left

        settings.FIELD_ENCRYPTION_KEYS = [KEY_B]  # the old key removed
        assert package_zip(package) == expected
        assert package_output_problems(package) == []
        api = APIClient()
        verified_client(api, legal1)
        r = api.get(f"/api/v1/staff/disclosures/requests/{package.request_id}/package/")
        assert r.status_code == 200 and b"".join(r.streaming_content) == expected

    def test_a_file_rotated_since_it_was_listed_is_left_alone(self, package, key_a, settings):
        """As when two runs overlap: the file is looked at again once locked."""
        file = package.files.order_by("id").first()
        settings.FIELD_ENCRYPTION_KEYS = [KEY_B, key_a]
        assert _file_reseal(file.pk, dry_run=False) is True
        rotated = bytes(PackageFile.objects.get(pk=file.pk).content_enc)

        assert _file_reseal(file.pk, dry_run=False) is False
        assert bytes(PackageFile.objects.get(pk=file.pk).content_enc) == rotated

    def test_a_dry_run_counts_the_files_and_changes_none(self, package, key_a, settings):
        before = list(package.files.order_by("id").values_list("content_enc", flat=True))
        files = len(before)
        settings.FIELD_ENCRYPTION_KEYS = [KEY_B, key_a]

        assert rotators()[LABEL](dry_run=True) == {"scanned": files, "rotated": files, "undecryptable": 0}

        assert [bytes(c) for c in package.files.order_by("id").values_list("content_enc", flat=True)] == [
            bytes(c) for c in before]
        assert _last_audit().extra == {"scanned": files, "rotated": files, "undecryptable": 0, "dry_run": True}

    def test_a_failure_half_way_through_a_file_leaves_it_readable_under_the_old_key_for_the_next_run(
            self, package, key_a, settings, monkeypatch):
        expected, described, files = package_zip(package), _described(package), package.files.count()
        settings.FIELD_ENCRYPTION_KEYS = [KEY_B, key_a]
        kid_a, kid_b = (crypto.key_id(base64.urlsafe_b64decode(k)) for k in (key_a, KEY_B))
        second = package.files.order_by("id").values_list("name", flat=True)[1]
        readinto, reads = StoredFile.readinto, []

        def crash(self, buffer):  # the process dies after the first chunk of the second file was sealed anew
            reads.append(self.name)
            if self.name == second and reads.count(second) > 1:
                raise RuntimeError("simulated crash")
            return readinto(self, buffer)
        monkeypatch.setattr(StoredFile, "readinto", crash)

        with pytest.raises(RuntimeError):
            _rotate_keys()

        assert _kids(package)[:3] == [kid_b, kid_a, kid_a]  # the first done, the second as it was
        assert _last_audit().extra == {"scanned": 2, "rotated": 1, "undecryptable": 0, "dry_run": False,
                                       "failed": "RuntimeError"}
        monkeypatch.setattr(StoredFile, "readinto", readinto)
        with StoredFile(package, second, aad=package_file_aad(package.pk, second)) as old:
            old.drain()
            assert old.matches()
        if connection.vendor == "postgresql":  # the half-written new ciphertext went with the rollback
            with connection.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM pg_largeobject_metadata")
                assert cursor.fetchone() == (0,)

        assert f"{LABEL}: scanned {files}, rotated {files - 1}" in _rotate_keys()
        settings.FIELD_ENCRYPTION_KEYS = [KEY_B]
        assert package_zip(package) == expected and _described(package) == described

    def test_a_file_no_configured_key_opens_is_counted_left_as_it_is_and_fails_the_command(self, package, key_a,
                                                                                             settings):
        file = package.files.order_by("id").first()
        settings.FIELD_ENCRYPTION_KEYS = [KEY_C]
        foreign = crypto.encrypt_bytes(b"{}", aad=package_file_aad(package.pk, file.name))
        PackageFile.objects.filter(pk=file.pk).update(content_enc=foreign)
        settings.FIELD_ENCRYPTION_KEYS = [KEY_B, key_a]
        files = package.files.count()

        with pytest.raises(CommandError, match="decrypt with none of the configured keys"):
            _rotate_keys()

        assert bytes(PackageFile.objects.get(pk=file.pk).content_enc) == foreign
        assert _last_audit().extra == {"scanned": files, "rotated": files - 1, "undecryptable": 1,
                                       "dry_run": False}


@pytest.mark.postgres  # SQLite takes and returns a value whole (stored.py)
class PackageRotationMemoryTests:
    SIZE = 48 << 20

    def test_a_large_file_is_sealed_anew_without_being_in_memory_whole(self, package, key_a, settings, capsys):
        name, aad, digest = _large_calls_csv(package, self.SIZE)
        settings.FIELD_ENCRYPTION_KEYS = [KEY_B, key_a]
        gc.collect()
        Path("/proc/self/clear_refs").write_text("5")  # the resident set's peak reset to the present
        before = _status_kb("VmRSS")
        tracemalloc.start()
        started = time.perf_counter()
        try:
            counts = rotators()[LABEL]()
            traced, seconds = tracemalloc.get_traced_memory()[1], time.perf_counter() - started
        finally:
            tracemalloc.stop()
        resident = (_status_kb("VmHWM") - before) * 1024
        with capsys.disabled():
            print(f"\nMEASURE rotation of a {self.SIZE >> 20} MB file: traced peak {traced / 1e6:.1f} MB, "
                  f"resident peak +{resident / 1e6:.1f} MB, {seconds:.1f} s traced")
        assert counts["rotated"] == package.files.count()
        assert traced < self.SIZE / 4 and resident < self.SIZE / 2  # about 7 MB, whatever the size

        settings.FIELD_ENCRYPTION_KEYS = [KEY_B]
        with StoredFile(package, name, aad=aad) as again:
            again.drain()
            assert again.matches() and again.size == self.SIZE
        assert PackageFile.objects.get(package=package, name=name).sha256 == digest


def _large_calls_csv(package: Package, size: int) -> tuple[str, bytes, str]:
    """calls.csv replaced by `size` random bytes sealed under the present key: (name, its aad, its SHA-256)."""
    big = os.urandom(size)
    name, digest = "calls.csv", hashlib.sha256(big).hexdigest()
    aad = package_file_aad(package.pk, name)
    PackageFile.objects.filter(package=package, name=name).update(
        content_enc=crypto.encrypt_bytes(big, aad=aad), sha256=digest, size=len(big))
    return name, aad, digest


@pytest.mark.postgres  # SQLite reads a value whole, in one statement (and its flush meets the audit log's trigger)
@pytest.mark.django_db(transaction=True)
def test_a_read_under_way_is_not_cut_by_a_rotation_of_its_file(package, key_a, settings):
    """A download reads a file in slices, one statement each: a rotation that replaced the value in between would
    make it fail at the tag. The read's lock (stored._hold) makes the rotation wait for the read's transaction."""
    name, aad, _digest = _large_calls_csv(package, 3 * STREAM_CHUNK)
    files = package.files.count()
    settings.FIELD_ENCRYPTION_KEYS = [KEY_B, key_a]
    first_slice_read, carry_on, results = threading.Event(), threading.Event(), {}

    def read() -> None:
        try:
            with transaction.atomic(), StoredFile(package, name, aad=aad) as plain:
                plain.read(STREAM_CHUNK)
                first_slice_read.set()
                carry_on.wait(10)
                plain.drain()
                results["read"] = plain.matches()
        except Exception as exc:  # noqa: BLE001 - reported to the test's thread
            results["read"] = type(exc).__name__
        finally:
            first_slice_read.set()
            connection.close()

    def rotate() -> None:
        try:
            results["rotated"] = rotators()[LABEL]()["rotated"]
        finally:
            connection.close()

    reader, rotation = threading.Thread(target=read), threading.Thread(target=rotate)
    reader.start()
    assert first_slice_read.wait(10)
    rotation.start()
    rotation.join(2)  # time enough to replace the value, if nothing held it back
    carry_on.set()
    reader.join(10)
    rotation.join(30)
    assert results == {"read": True, "rotated": files}
    settings.FIELD_ENCRYPTION_KEYS = [KEY_B]
    with StoredFile(package, name, aad=aad) as again:
        again.drain()
        assert again.matches()
