"""A package's stored values are read in slices, one statement each, under a shared advisory lock per row
(stored.py), which whatever replaces or deletes a value takes exclusively first: a key rotation and retention wait
for the reads under way, a read that waited for a rotation reads the new value, and readers do not wait for each
other. An advisory lock needs no privilege on the table, where the row lock it replaced (FOR KEY SHARE) needed
UPDATE: a role that may only read (a reporting replica's user, an auditor's) can read and download a package."""
from __future__ import annotations

import hashlib
import io
import threading
from contextlib import contextmanager
from datetime import timedelta
from typing import Callable, Iterator

import pytest
from django.db import connection, transaction
from django.utils.timezone import now

from disclosures.models import DisclosureRequest, Package, PackageDownload, PackageEnvelope, PackageFile
from disclosures.production import package_spooled, package_zip
from disclosures.rotation import _file_reseal
from disclosures.services import packages
from disclosures.services.jobs import disclosure_packages_purge
from disclosures.services.packages import disclosure_package_download
from disclosures.stored import StoredFile, package_file_aad, stored_envelope_copy
from tests.factories import make_cdr
from voipxs.models import AuditEntry
from voipxs.privacy.crypto import STREAM_CHUNK

from .conftest import ALICE_NUMBER, OTHER, receive, to_state
from .test_envelope_streaming import _enlarge
from .test_package_rotation import KEY_B

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]  # SQLite reads a value whole, in one statement

NAME = "calls.csv"
SIZE = 3 * STREAM_CHUNK + 5  # a file, and so an envelope, of several slices
WAIT = 2  # seconds in which a step that was not held back would have ended


@pytest.fixture
def delivered(legal1, legal2, legal3, authority, alice) -> Package:
    """A package handed over (its retention started), its calls.csv and its envelope several slices long."""
    make_cdr(account=alice, src=ALICE_NUMBER, dst=OTHER, started_at=now() - timedelta(days=1))
    req = to_state(receive(legal1, authority), "checked", intake=legal1, approvers=[legal2, legal3])
    _enlarge(Package.objects.get(request=req), SIZE)
    to_state(req, "delivered", intake=legal1, approvers=[])
    return Package.objects.get(request=req)


def _read(package: Package) -> bool:
    """calls.csv read to its end in a transaction of its own: whether it is the content stored."""
    with transaction.atomic(), StoredFile(package, NAME, aad=package_file_aad(package.pk, NAME)) as plain:
        plain.drain()
        return plain.matches()


def _read_paused(package: Package, paused: threading.Event, carry_on: threading.Event) -> bool:
    """As _read, but once its first slice is read it says so (`paused`) and waits to be let on (`carry_on`)."""
    with transaction.atomic(), StoredFile(package, NAME, aad=package_file_aad(package.pk, NAME)) as plain:
        plain.read(STREAM_CHUNK)
        paused.set()
        carry_on.wait(10)
        plain.drain()
        return plain.matches()


def _started(results: dict, key: str, step: Callable[[], object]) -> threading.Thread:
    """`step` running on a thread (a connection) of its own; its result, or the name of what it raised, goes into
    results[key]."""
    def run() -> None:
        try:
            results[key] = step()
        except Exception as exc:  # noqa: BLE001 - reported to the test's thread
            results[key] = type(exc).__name__
        finally:
            connection.close()
    thread = threading.Thread(target=run)
    thread.start()
    return thread


class _Paused(io.BytesIO):
    """A file that, once its first piece is written, says so and waits to be let on."""

    def __init__(self, paused: threading.Event, carry_on: threading.Event) -> None:
        super().__init__()
        self._paused, self._carry_on = paused, carry_on

    def write(self, piece) -> int:
        written = super().write(piece)
        if not self._paused.is_set():
            self._paused.set()
            self._carry_on.wait(10)
        return written


@pytest.mark.django_db(transaction=True)
class ConcurrencyTests:
    def test_a_read_that_waited_for_a_rotation_reads_the_new_value_throughout(self, delivered, settings):
        pk = PackageFile.objects.get(package=delivered, name=NAME).pk
        settings.FIELD_ENCRYPTION_KEYS = [KEY_B, *settings.FIELD_ENCRYPTION_KEYS]
        resealed, carry_on, results = threading.Event(), threading.Event(), {}

        def rotate() -> bool:
            with transaction.atomic():  # the file sealed anew, not yet committed
                done = _file_reseal(pk, dry_run=False)
                resealed.set()
                carry_on.wait(10)
                return done

        rotation = _started(results, "rotated", rotate)
        assert resealed.wait(10)
        settings.FIELD_ENCRYPTION_KEYS = [KEY_B]  # only the new value opens now
        reader = _started(results, "read", lambda: _read(delivered))
        reader.join(WAIT)
        assert reader.is_alive()  # waiting for the rotation
        carry_on.set()
        rotation.join(10)
        reader.join(10)
        assert results == {"rotated": True, "read": True}

    def test_readers_do_not_wait_for_each_other(self, delivered):
        first_slice_read, carry_on, results = threading.Event(), threading.Event(), {}
        slow = _started(results, "slow", lambda: _read_paused(delivered, first_slice_read, carry_on))
        try:
            assert first_slice_read.wait(10)
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL lock_timeout = '5s'")  # an error, not a hang, if it waited
                assert _read(delivered)
        finally:
            carry_on.set()
            slow.join(10)
        assert results == {"slow": True}

    @pytest.mark.parametrize("what", ["file", "envelope"])
    def test_retention_waits_for_a_read_under_way_and_then_deletes(self, delivered, what):
        paused, carry_on, results = threading.Event(), threading.Event(), {}
        envelope = PackageEnvelope.objects.defer("content").get(package=delivered)

        def read() -> bool:
            if what == "file":
                return _read_paused(delivered, paused, carry_on)
            with transaction.atomic():
                copy = _Paused(paused, carry_on)
                stored_envelope_copy(envelope, copy)
                return hashlib.sha256(copy.getvalue()).hexdigest() == envelope.sha256

        reader = _started(results, "read", read)
        assert paused.wait(10)
        purge = _started(results, "purged", lambda: disclosure_packages_purge(now=now() + timedelta(days=3650)))
        purge.join(WAIT)
        assert purge.is_alive()  # waiting for the read
        carry_on.set()
        reader.join(10)
        purge.join(10)
        assert results == {"read": True, "purged": {"deleted": 1}}
        assert not PackageFile.objects.exists() and not PackageEnvelope.objects.exists()

    def test_retention_waits_for_a_download_under_way_and_neither_fails(self, delivered, legal2, monkeypatch):
        """The download holds its files' locks from the ZIP on; retention takes its locks before the package's row,
        which the download's record refers to: the other way round, each would wait for the other."""
        copy, paused, carry_on, results = packages.stored_envelope_copy, threading.Event(), threading.Event(), {}

        def copy_once_let_on(envelope, target) -> None:
            paused.set()
            carry_on.wait(10)
            copy(envelope, target)
        monkeypatch.setattr(packages, "stored_envelope_copy", copy_once_let_on)

        def download() -> str:
            _name, file = disclosure_package_download(actor=legal2, request=delivered.request)
            with file:  # read once the download's transaction has ended, as a response is
                return hashlib.sha256(file.read()).hexdigest()

        downloading = _started(results, "downloaded", download)
        assert paused.wait(10)
        purge = _started(results, "purged", lambda: disclosure_packages_purge(now=now() + timedelta(days=3650)))
        purge.join(WAIT)
        assert purge.is_alive()
        carry_on.set()
        downloading.join(10)
        purge.join(10)
        assert results == {"downloaded": delivered.request.delivery_sha256, "purged": {"deleted": 1}}
        assert PackageDownload.objects.get().sha256 == delivered.request.delivery_sha256


@pytest.fixture
def reader_role() -> str:
    """A role that may only read: SELECT on every table, nothing else. Created in the test's transaction, and gone
    with it; named after the test database, so that runs on other databases of the cluster do not meet."""
    name = f"{connection.settings_dict['NAME']}_reader"
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE ROLE "{name}" NOLOGIN')
        cursor.execute(f'GRANT SELECT ON ALL TABLES IN SCHEMA public TO "{name}"')
    return name


@contextmanager
def _as_role(name: str) -> Iterator[None]:
    """The block runs as `name` (in a savepoint: an error rolls the role back with it)."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f'SET LOCAL ROLE "{name}"')
        yield
        with connection.cursor() as cursor:
            cursor.execute("RESET ROLE")


def _grant(role: str, privilege: str, *models) -> None:
    tables = ", ".join(model._meta.db_table for model in models)
    with connection.cursor() as cursor:
        cursor.execute(f'GRANT {privilege} ON {tables} TO "{role}"')


class ReadOnlyRoleTests:
    def test_a_role_that_may_only_select_reads_the_files_the_zip_and_the_envelope(self, delivered, reader_role):
        expected = package_zip(delivered)
        envelope = PackageEnvelope.objects.defer("content").get(package=delivered)

        with _as_role(reader_role):
            with StoredFile(delivered, NAME, aad=package_file_aad(delivered.pk, NAME)) as plain:
                plain.drain()
                assert plain.matches() and plain.size == SIZE
            assert package_zip(delivered) == expected
            copy, _none = package_spooled(lambda fh: stored_envelope_copy(envelope, fh))
            with copy:
                assert hashlib.sha256(copy.read()).hexdigest() == envelope.sha256

    def test_the_download_needs_no_more_than_select_on_the_packages_tables(self, delivered, reader_role, legal2):
        """Granted only what the download itself writes (its record, the audit entry, its request's row lock; not the
        authority's row, which it reads)."""
        _grant(reader_role, "UPDATE", DisclosureRequest)
        _grant(reader_role, "INSERT", PackageDownload, AuditEntry)
        with connection.cursor() as cursor:
            cursor.execute(f'GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO "{reader_role}"')

        with _as_role(reader_role):
            name, file = disclosure_package_download(actor=legal2, request=delivered.request)
            with file:
                body = file.read()
        assert name.endswith(".p7m") and hashlib.sha256(body).hexdigest() == delivered.request.delivery_sha256
        assert PackageDownload.objects.get().sha256 == delivered.request.delivery_sha256
