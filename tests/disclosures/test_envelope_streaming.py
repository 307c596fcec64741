"""The .p7m is written a chunk at a time (envelope.envelope_chunks) in the layout cryptography's PKCS7EnvelopeBuilder
gives it, goes into the database by COPY as it is made and comes back out a slice at a time (stored.py), so that
delivering a package holds neither the ZIP nor its envelope in memory. What the authority gets still opens with
`openssl cms -decrypt` and with envelope_open (verify_package --key) to the ZIP byte for byte. A download copies the
stored envelope into a temporary file of its own in its transaction, so that the response, sent after that
transaction, is the stored envelope whole even when retention deletes it meanwhile."""
from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.ciphers import algorithms
from cryptography.hazmat.primitives.serialization import pkcs7
from django.core.signals import request_finished
from django.db import close_old_connections
from django.urls import reverse
from django.utils.timezone import now

from disclosures import production
from disclosures.envelope import encrypted_size, envelope_chunks, envelope_der, envelope_open
from disclosures.models import Package, PackageDownload, PackageEnvelope, PackageFile
from disclosures.production import package_zip
from disclosures.services.jobs import disclosure_packages_purge
from disclosures.services.packages import disclosure_package_download
from tests.factories import make_cdr, verified_client
from voipxs.privacy.crypto import STREAM_CHUNK, encrypt_bytes

from .certificates import police_recipient
from .conftest import ALICE_NUMBER, OTHER, receive, to_state
from .test_package_streaming import _peaks

pytestmark = pytest.mark.django_db

# Around AES's 16-byte block (no data, one short of a block, one block: a whole block of padding, one over), and
# a ZIP of several chunks whose lengths take three bytes to write.
SIZES = [0, 15, 16, 17, 3 * STREAM_CHUNK + 5]


def _tree(data: bytes, at: int = 0, end: int | None = None, depth: int = 0) -> list[tuple[int, bytes, bytes]]:
    """The DER in `data` as (depth, tag and length as written, content of a primitive) in document order; raises
    AssertionError where a length runs past its parent or bytes are left over."""
    end = len(data) if end is None else end
    out = []
    while at < end:
        tag, first = data[at], data[at + 1]
        count = first & 0x7F if first & 0x80 else 0
        start = at + 2 + count
        length = int.from_bytes(data[at + 2:start], "big") if count else first
        assert start + length <= end, f"a length at byte {at} runs past its parent"
        constructed = tag & 0x20
        out.append((depth, data[at:start], b"" if constructed else data[start:start + length]))
        if constructed:
            out.extend(_tree(data, start, start + length, depth + 1))
        at = start + length
    assert at == end
    return out


def _random_parts(tree: list[tuple[int, bytes, bytes]]) -> list[tuple[int, bytes, bytes]]:
    """The tree with what each envelope draws anew blanked (the encrypted key and the IV, the only OCTET STRINGs;
    the encrypted content, [0] IMPLICIT): their tags and lengths stay, to compare."""
    return [(depth, head, b"" if head[0] in (0x04, 0x80) else content) for depth, head, content in tree]


def _builder(data: bytes, certificate) -> bytes:
    return (pkcs7.PKCS7EnvelopeBuilder().set_data(data).add_recipient(certificate)
            .set_content_encryption_algorithm(algorithms.AES256)
            .encrypt(serialization.Encoding.DER, [pkcs7.PKCS7Options.Binary]))


def _openssl_decrypt(envelope: Path, tmp_path: Path) -> bytes:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl binary is not installed: envelope_open (cryptography) is tested on its own")
    recipient = police_recipient()
    (tmp_path / "cert.pem").write_text(recipient.certificate_pem)
    (tmp_path / "key.pem").write_bytes(recipient.key_pem)
    out = tmp_path / "opened.zip"
    done = subprocess.run([openssl, "cms", "-decrypt", "-inform", "DER", "-in", str(envelope), "-recip",
                           str(tmp_path / "cert.pem"), "-inkey", str(tmp_path / "key.pem"), "-out", str(out)],
                          capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr.decode()
    return out.read_bytes()


class EnvelopeWriterTests:
    @pytest.mark.parametrize("size", SIZES)
    def test_it_has_the_builders_layout_byte_for_byte_but_for_key_iv_and_ciphertext(self, size):
        recipient = police_recipient()
        data = os.urandom(size)
        ours, theirs = envelope_der(data, recipient.certificate_pem), _builder(data, recipient.certificate)
        assert len(ours) == len(theirs)
        assert _random_parts(_tree(ours)) == _random_parts(_tree(theirs))
        content = [c for _d, head, c in _tree(ours) if head[0] == 0x80]
        assert [len(c) for c in content] == [encrypted_size(size)] and encrypted_size(size) % 16 == 0
        assert data == b"" or data[:16] not in ours  # encrypted, not copied

    @pytest.mark.parametrize("size", SIZES)
    def test_envelope_open_and_openssl_give_the_data_back_byte_for_byte(self, size, tmp_path):
        recipient = police_recipient()
        data = os.urandom(size)
        path = tmp_path / "x.p7m"
        with path.open("wb") as out:
            for piece in envelope_chunks(io.BytesIO(data), size, recipient.certificate_pem):
                assert len(piece) <= STREAM_CHUNK // 4 + 16  # a quarter chunk at a time, and the padding
                out.write(piece)
        envelope = path.read_bytes()
        assert envelope_open(envelope, private_key=recipient.key, certificate=recipient.certificate) == data
        assert _openssl_decrypt(path, tmp_path) == data

    def test_two_envelopes_of_the_same_data_differ(self):
        certificate = police_recipient().certificate_pem
        assert envelope_der(b"PK\x05\x06", certificate) != envelope_der(b"PK\x05\x06", certificate)

    def test_it_reads_only_the_size_given_and_refuses_a_source_that_ends_short(self):
        recipient = police_recipient()
        source = io.BytesIO(b"a" * 40 + b"not ours")
        envelope = b"".join(envelope_chunks(source, 40, recipient.certificate_pem))
        assert recipient.decrypt(envelope) == b"a" * 40 and source.read() == b"not ours"
        with pytest.raises(ValueError, match="8 bytes short"):
            b"".join(envelope_chunks(io.BytesIO(b"a" * 32), 40, recipient.certificate_pem))


@pytest.fixture
def checked(legal1, legal2, legal3, authority, alice):
    """A request of the police unit (the test certificate on file), its output checked: ready to hand over."""
    make_cdr(account=alice, src=ALICE_NUMBER, dst=OTHER, started_at=now() - timedelta(days=1))
    return to_state(receive(legal1, authority), "checked", intake=legal1, approvers=[legal2, legal3])


def _enlarge(package: Package, size: int) -> None:
    """calls.csv replaced by `size` incompressible bytes: the ZIP grows by about as much."""
    big = os.urandom(size)
    PackageFile.objects.filter(package=package, name="calls.csv").update(
        content_enc=encrypt_bytes(big, aad=production._aad(package.pk, "calls.csv")),
        sha256=hashlib.sha256(big).hexdigest(), size=size)


def _served(actor, request, into: Path) -> tuple[str, str]:
    """Download as the page does and write what it sends to `into` in FileResponse's blocks: (name, its SHA-256)."""
    name, file = disclosure_package_download(actor=actor, request=request)
    digest = hashlib.sha256()
    with file, into.open("wb") as out:
        while block := file.read(4096):
            digest.update(block)
            out.write(block)
    return name, digest.hexdigest()


class EnvelopeDeliveryTests:
    def test_the_page_sends_the_stored_envelope_with_its_length_and_it_opens_to_the_zip(self, client, legal2,
                                                                                         checked, tmp_path):
        zip_bytes = package_zip(Package.objects.get(request=checked))
        r = verified_client(client, legal2).get(reverse("disclosures:download", args=[checked.pk]))
        assert r.status_code == 200 and r["Content-Type"].startswith("application/pkcs7-mime")
        body = b"".join(r.streaming_content)
        request_finished.disconnect(close_old_connections)  # as in test_package_streaming: keep the test's connection
        try:
            r.close()
        finally:
            request_finished.connect(close_old_connections)
        envelope = PackageEnvelope.objects.get()
        assert int(r["Content-Length"]) == len(body) and hashlib.sha256(body).hexdigest() == envelope.sha256
        (tmp_path / "x.p7m").write_bytes(body)
        assert _openssl_decrypt(tmp_path / "x.p7m", tmp_path) == zip_bytes

    def test_a_download_is_the_whole_envelope_even_when_retention_deletes_it_before_it_is_sent(
            self, client, legal1, legal2, checked, tmp_path):
        """The response is sent after the view's transaction has ended: before, it read the envelope from the
        database as it went, and retention deleting it meanwhile cut the file short under a 200 and its length."""
        package = Package.objects.get(request=checked)
        _enlarge(package, 3 * STREAM_CHUNK + 5)  # an envelope of several slices
        delivered = to_state(checked, "delivered", intake=legal1, approvers=[])  # its retention starts
        zip_bytes = package_zip(package)
        r = verified_client(client, legal2).get(reverse("disclosures:download", args=[delivered.pk]))
        assert r.status_code == 200

        assert disclosure_packages_purge(now=now() + timedelta(days=3650)) == {"deleted": 1}
        assert not PackageEnvelope.objects.exists() and not PackageFile.objects.exists()
        body = b"".join(r.streaming_content)
        request_finished.disconnect(close_old_connections)  # as above
        try:
            r.close()
        finally:
            request_finished.connect(close_old_connections)

        recorded = PackageDownload.objects.get().sha256  # the record of this download
        assert int(r["Content-Length"]) == len(body) > 3 * STREAM_CHUNK
        assert hashlib.sha256(body).hexdigest() == recorded == delivered.delivery_sha256
        (tmp_path / "x.p7m").write_bytes(body)
        assert _openssl_decrypt(tmp_path / "x.p7m", tmp_path) == zip_bytes

    def test_a_stored_envelope_that_differs_from_its_sha256_is_not_handed_out_nor_recorded(self, legal2, checked):
        name, file = disclosure_package_download(actor=legal2, request=checked)
        file.close()
        stored = bytearray(PackageEnvelope.objects.values_list("content", flat=True).get())
        stored[-1] ^= 1  # one byte of the encrypted content
        PackageEnvelope.objects.update(content=bytes(stored))

        with pytest.raises(ValueError, match="SHA-256"):
            disclosure_package_download(actor=legal2, request=checked)
        assert name.endswith(".p7m") and PackageDownload.objects.count() == 1

    @pytest.mark.postgres
    def test_delivering_a_large_package_holds_neither_the_zip_nor_the_envelope_in_memory(self, legal1, checked,
                                                                                          monkeypatch, tmp_path):
        package = Package.objects.get(request=checked)
        size = 40 << 20
        _enlarge(package, size)
        monkeypatch.setattr(production, "ZIP_SPOOL_BYTES", 256)  # the ZIP on disk, as a large one is
        served = {}

        def deliver() -> None:
            PackageEnvelope.objects.filter(package=package).delete()  # made anew each time: the making is measured
            served["name"], served["sha256"] = _served(legal1, checked, tmp_path / "x.p7m")

        traced, rss_kb, _maxrss, _seconds = _peaks(deliver)
        envelope = PackageEnvelope.objects.defer("content").get(package=package)
        assert served["name"].endswith(".zip.p7m") and served["sha256"] == envelope.sha256
        assert (tmp_path / "x.p7m").stat().st_size > size
        # Before: the ZIP read whole, the envelope made whole and read back whole (three times the size and more).
        assert traced < size / 5, f"traced peak {traced / 1e6:.1f} MB for a {size / 1e6:.0f} MB package"
        assert rss_kb * 1024 < size / 2, f"resident peak +{rss_kb / 1e3:.1f} MB for a {size / 1e6:.0f} MB package"
        opened = _openssl_decrypt(tmp_path / "x.p7m", tmp_path)
        assert hashlib.sha256(opened).hexdigest() == envelope.zip_sha256 and len(opened) > size
