"""The package's ZIP is written to a temporary file, one stored file decrypted at a time, instead of being put
together in memory (production.package_zip_open): the bytes, and so the seal, the signature and every SHA-256 on
record, are exactly those of the in-memory build it replaced (kept below as it was, to compare with). The file is
in memory while small, and beyond that an unnamed file (mode 0600) in PRIVATE_FILES_DIR/package-spool that is gone
once closed; the download streams it (FileResponse) and closes it."""
from __future__ import annotations

import ctypes
import gc
import hashlib
import io
import os
import resource
import stat
import time
import tracemalloc
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.signals import request_finished
from django.db import close_old_connections
from django.http import FileResponse
from django.urls import reverse
from django.utils.timezone import now
from rest_framework.test import APIClient

from disclosures import production
from disclosures.models import Package, PackageFile
from disclosures.production import ZIP_DIGEST_PREFIX, package_zip, package_zip_open, verify_zip, zip_bytes
from disclosures.selectors import Row, scope_of
from disclosures.signing import seal_signature
from tests.factories import make_cdr, verified_client
from voipxs.privacy.crypto import DecryptionError, decrypt_bytes, encrypt_bytes

from .conftest import ALICE_NUMBER, OTHER, receive, to_state

pytestmark = pytest.mark.django_db


# The in-memory build as it was before the streaming one, kept verbatim to prove the bytes did not change.
def _old_package_files(package: Package) -> dict[str, bytes]:
    files = {}
    for f in package.files.order_by("name"):
        data = decrypt_bytes(bytes(f.content_enc), aad=f"disclosure-package:{package.pk}:{f.name}".encode())
        if hashlib.sha256(data).hexdigest() != f.sha256:
            raise AssertionError(f"stored file {f.name} does not match its hash")
        files[f.name] = data
    return files


def _old_zip_bytes(files: dict[str, bytes], *, sign: bool = True) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, files[name])
    body = buf.getvalue()
    digest = hashlib.sha256(body[:-2]).hexdigest().encode()
    comment = ZIP_DIGEST_PREFIX + digest + (seal_signature(digest) if sign else b"")
    return body[:-2] + len(comment).to_bytes(2, "little") + comment


def _streamed(response) -> bytes:
    return b"".join(response.streaming_content)


def _spool_dir() -> Path:
    return Path(settings.PRIVATE_FILES_DIR) / "package-spool"


@pytest.fixture
def checked_bare(legal1, legal2, legal3, bare, alice):
    t = now()
    make_cdr(account=alice, src=ALICE_NUMBER, dst=OTHER, started_at=t - timedelta(days=1))
    make_cdr(account=alice, src=ALICE_NUMBER, dst="=cmd|' /C calc'!A0", started_at=t - timedelta(days=2))
    make_cdr(src=OTHER, dst=ALICE_NUMBER, started_at=t - timedelta(days=3), direction="in")
    return to_state(receive(legal1, bare), "checked", intake=legal1, approvers=[legal2, legal3])


class PackageStreamingTests:
    def test_the_streamed_zip_is_byte_for_byte_the_one_the_in_memory_build_made(self, checked_bare):
        package = Package.objects.get(request=checked_bare)
        old = _old_zip_bytes(_old_package_files(package))
        fh, digest = package_zip_open(package)
        with fh:
            assert fh.tell() == 0
            new = fh.read()
        assert new == old and digest == hashlib.sha256(old).hexdigest()
        assert package_zip(package) == old
        assert verify_zip(new) == []

    def test_it_stays_identical_and_private_when_the_zip_goes_to_disk(self, checked_bare, monkeypatch):
        package = Package.objects.get(request=checked_bare)
        old = _old_zip_bytes(_old_package_files(package))
        monkeypatch.setattr(production, "ZIP_SPOOL_BYTES", 256)  # far below this package: it goes to disk
        fh, digest = package_zip_open(package)
        with fh:
            info = os.fstat(fh.fileno())
            assert stat.S_ISREG(info.st_mode) and stat.S_IMODE(info.st_mode) == 0o600
            assert info.st_nlink == 0  # unnamed: nothing to find, or to leave behind if the process dies
            assert list(_spool_dir().iterdir()) == []
            assert stat.S_IMODE(_spool_dir().stat().st_mode) == 0o700
            assert fh.read() == old and digest == hashlib.sha256(old).hexdigest()
        assert fh.closed and list(_spool_dir().iterdir()) == []

    def test_a_stored_file_of_many_chunks_streams_into_the_same_bytes(self, checked_bare, monkeypatch):
        package = Package.objects.get(request=checked_bare)
        big = b"".join(os.urandom(1000) + b"1,2026-01-01T00:00:00Z,+31205550101\r\n" * 300 for _ in range(300))
        assert len(big) > 3 * production._CHUNK
        PackageFile.objects.filter(package=package, name="calls.csv").update(
            content_enc=encrypt_bytes(big, aad=production._aad(package.pk, "calls.csv")),
            sha256=hashlib.sha256(big).hexdigest(), size=len(big))
        monkeypatch.setattr(production, "ZIP_SPOOL_BYTES", 256)
        old = _old_zip_bytes(_old_package_files(package))
        fh, digest = package_zip_open(package)
        with fh:
            assert fh.read() == old and digest == hashlib.sha256(old).hexdigest()

    @pytest.mark.parametrize("damage", ["hash", "byte"])
    def test_a_stored_file_that_is_not_what_was_stored_stops_the_zip_and_leaves_nothing(self, checked_bare,
                                                                                         monkeypatch, damage):
        package = Package.objects.get(request=checked_bare)
        monkeypatch.setattr(production, "ZIP_SPOOL_BYTES", 256)
        made = []
        spool = production._spool
        monkeypatch.setattr(production, "_spool", lambda: made.append(spool()) or made[-1])
        stored = PackageFile.objects.get(package=package, name="calls.json")
        if damage == "hash":
            PackageFile.objects.filter(pk=stored.pk).update(sha256="0" * 64)
        else:
            broken = bytearray(bytes(stored.content_enc))
            broken[20] ^= 1
            PackageFile.objects.filter(pk=stored.pk).update(content_enc=bytes(broken))
        with pytest.raises((production.ScopeViolation, DecryptionError)):
            package_zip_open(package)
        assert len(made) == 1 and made[0].closed and list(_spool_dir().iterdir()) == []

    @pytest.mark.parametrize("sign", [True, False])
    def test_zip_bytes_matches_the_old_build_for_empty_small_and_large_files(self, sign, legal1):
        files = {"empty.json": b"", "manifest.json": b'{"files": {}}',
                 "calls.csv": b"record_id,start_utc\n" + b"1,2026-01-01T00:00:00Z\n" * 50_000,
                 "random.bin": os.urandom(3 << 20)}  # incompressible, beyond the in-memory spool size
        assert zip_bytes(files, sign=sign) == _old_zip_bytes(files, sign=sign)
        assert zip_bytes({}, sign=sign) == _old_zip_bytes({}, sign=sign)

    def test_the_page_streams_the_zip_and_closes_its_file_once_sent(self, client, legal2, checked_bare,
                                                                     monkeypatch):
        monkeypatch.setattr(production, "ZIP_SPOOL_BYTES", 256)
        expected = package_zip(Package.objects.get(request=checked_bare))
        made = []
        spool = production._spool
        monkeypatch.setattr(production, "_spool", lambda: made.append(spool()) or made[-1])
        r = verified_client(client, legal2).get(reverse("disclosures:download", args=[checked_bare.pk]))
        assert r.status_code == 200 and isinstance(r, FileResponse)
        assert r["Content-Type"] == "application/zip" and r["Cache-Control"] == "no-store"
        assert r["Content-Disposition"] == f'attachment; filename="disclosure-{checked_bare.pk}.zip"'
        assert int(r["Content-Length"]) == len(expected)
        assert _streamed(r) == expected and verify_zip(expected) == []
        # As the test client does around a request: closing the response sends request_finished, whose
        # close_old_connections would close the test's own database connection (PostgreSQL).
        request_finished.disconnect(close_old_connections)
        try:
            r.close()
        finally:
            request_finished.connect(close_old_connections)
        assert len(made) == 1 and made[0].closed and list(_spool_dir().iterdir()) == []

    def test_the_api_streams_the_same_zip(self, legal1, checked_bare):
        api = APIClient()
        verified_client(api, legal1)
        r = api.get(f"/api/v1/staff/disclosures/requests/{checked_bare.pk}/package/")
        assert r.status_code == 200 and r.streaming and r["Content-Type"] == "application/zip"
        body = _streamed(r)
        assert body == _old_zip_bytes(_old_package_files(Package.objects.get(request=checked_bare)))
        zf = zipfile.ZipFile(io.BytesIO(body))
        assert b"'=cmd" in zf.read("calls.csv") and zf.comment.startswith(b"sha256:")

    def test_verify_zip_reads_a_file_as_it_reads_bytes(self, checked_bare, tmp_path):
        data = package_zip(Package.objects.get(request=checked_bare))
        path = tmp_path / "p.zip"
        path.write_bytes(data)
        with path.open("rb") as fh:
            assert verify_zip(fh) == []
        tampered = bytearray(data)
        tampered[len(data) // 2] ^= 1
        path.write_bytes(bytes(tampered))
        with path.open("rb") as fh:
            assert verify_zip(fh) == verify_zip(bytes(tampered)) != []


def _synthetic_rows(count: int) -> list[Row]:
    start = now().replace(microsecond=0) - timedelta(days=20)
    return [Row(cdr_id=i, started_at=start + timedelta(seconds=i), answered_at=None, duration=60 + i % 600,
                billsec=55 + i % 600, direction="out" if i % 3 else "in", disposition="answered",
                src=f"+3169999{i % 10_000:04d}", dst=f"+3120555{(i * 7) % 10_000:04d}", src_index="s", dst_index="d",
                account_id=None, call=f"c{i}") for i in range(count)]


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(field)


def _peaks(step) -> tuple[int, int, int, float]:
    """(peak traced memory in bytes, growth of the resident set's peak over the resident set before, in kB, as
    /proc's VmHWM and as getrusage's ru_maxrss say it, seconds untraced) of `step`, run twice: untraced (resident
    set; the peak is reset to the present first, Linux's clear_refs 5, after freed memory went back to the system),
    then traced."""
    gc.collect()
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    Path("/proc/self/clear_refs").write_text("5")
    before = _status_kb("VmRSS")
    started = time.perf_counter()
    step()
    seconds = time.perf_counter() - started
    rss = _status_kb("VmHWM") - before
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    gc.collect()
    tracemalloc.start()
    try:
        step()
        return tracemalloc.get_traced_memory()[1], rss, maxrss, seconds
    finally:
        tracemalloc.stop()


@pytest.mark.skipif(not os.environ.get("PACKAGE_MEMORY_ROWS"),
                    reason="a measurement, not a check: PACKAGE_MEMORY_ROWS=200000 runs it (minutes)")
class PackageMemoryTests:
    def test_peak_memory_of_each_step_of_a_large_package(self, checked_bare, legal1, monkeypatch, capsys):
        """Prints, for a package of PACKAGE_MEMORY_ROWS synthetic calls, the peak memory of its build (on top of
        the rows, which the selector returns as a list), its output check, its ZIP as a download sends it, and the
        making of its envelope (.p7m). Uses only what every version of production.py had, to compare with one; the
        envelope is made and read back as the download does where stored.py can (the streamed one), else whole."""
        from disclosures import stored
        from disclosures.envelope import envelope_der
        from disclosures.models import PackageEnvelope

        from .certificates import police_recipient

        count = int(os.environ["PACKAGE_MEMORY_ROWS"])
        rows = _synthetic_rows(count)
        monkeypatch.setattr(production, "disclosure_scope_rows", lambda **_kw: (scope_of(checked_bare), rows))
        monkeypatch.setattr(production, "check_rows", lambda scope, rows: None)  # synthetic rows, not the scope's
        certificate = police_recipient().certificate_pem

        def build() -> None:
            Package.objects.filter(request=checked_bare).delete()
            production.build_package(request=checked_bare, actor=legal1)

        def download() -> None:
            fh, _digest = package_zip_open(Package.objects.get(request=checked_bare))
            with fh:
                while fh.read(1 << 16):  # as the response sends it
                    pass

        def envelope() -> None:
            package = Package.objects.get(request=checked_bare)
            fh, digest = package_zip_open(package)
            with fh:
                if not hasattr(stored, "stored_envelope_create"):  # an older tree: the envelope was made whole
                    envelope_der(fh.read(), certificate)
                    return
                from disclosures.envelope import envelope_chunks

                PackageEnvelope.objects.filter(package=package).delete()
                size = fh.seek(0, io.SEEK_END)
                fh.seek(0)
                made = stored.stored_envelope_create(package=package, recipient_sha256="0" * 64, zip_sha256=digest,
                                                     pieces=envelope_chunks(fh, size, certificate))
            with stored.stored_envelope_open(made) as served:  # as packages.package_delivery_file makes and serves it
                while served.read(1 << 16):
                    pass

        results = {"build": _peaks(build)}
        package = Package.objects.get(request=checked_bare)
        sizes = {f.name: f.size for f in package.files.all()}
        results["check"] = _peaks(lambda: production.package_output_problems(package))
        results["download"] = _peaks(download)
        results["envelope"] = _peaks(envelope)
        with capsys.disabled():
            print(f"\nMEASURE package of {count} calls, files {sizes} ({sum(sizes.values()):,} bytes)")
            for step, (traced, rss, maxrss, seconds) in results.items():
                print(f"MEASURE {step:>8}: traced peak {traced / 1e6:7.1f} MB, resident peak +{rss / 1e3:7.1f} MB "
                      f"(ru_maxrss +{maxrss / 1e3:7.1f} MB), {seconds:5.1f} s untraced")
        assert production.package_output_problems(package) == []
        # No step holds more than about one file's ciphertext (SQLite takes and returns a value whole; PostgreSQL
        # not even that); the whole-file build needed three to five times the largest file.
        assert all(results[step][0] < 1.5 * max(sizes.values()) for step in ("build", "check", "download", "envelope"))
