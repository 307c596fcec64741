"""verify_package checks the file the authority actually receives: the .p7m (the signed ZIP encrypted to its
certificate, envelope.py), opened with the authority's private key (--key) and its certificate (--cert, or in the
key's own file), then the same checks as for the ZIP (seal, signature, manifest, every file's SHA-256). A wrong key,
a file that is not CMS, and damaged or cut-short bytes each end with a non-zero exit and a message naming the
problem, never a traceback. An encrypted key's passphrase comes from the environment or a prompt, never from the
command line."""
from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from django.core.management import CommandError, call_command
from django.utils.timezone import now

from disclosures.envelope import EnvelopeProblem, envelope_der, envelope_open
from disclosures.management.commands.verify_package import PASSPHRASE_ENV
from disclosures.models import Package, PackageDownload
from disclosures.production import package_zip
from disclosures.services.packages import disclosure_package_download
from disclosures.services.transitions import disclosure_request_deliver
from tests.factories import make_cdr

from .certificates import make_recipient, police_recipient
from .conftest import ALICE_NUMBER, OTHER, receive, to_state

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
PASSPHRASE = "correct horse battery staple"


def _verify(*args: str) -> tuple[bool, str, str]:
    """Run the command as the authority does: (exit 0?, stdout, stderr with the CommandError's message)."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("verify_package", *map(str, args), stdout=out, stderr=err)
    except CommandError as exc:
        return False, out.getvalue(), err.getvalue() + str(exc)
    return True, out.getvalue(), err.getvalue()


@pytest.fixture
def checked(legal1, legal2, legal3, authority, alice):
    """A request of the police unit (the test certificate on file), its output checked: ready to hand over."""
    make_cdr(account=alice, src=ALICE_NUMBER, dst=OTHER, started_at=now() - timedelta(days=1))
    return to_state(receive(legal1, authority), "checked", intake=legal1, approvers=[legal2, legal3])


@pytest.fixture
def p7m(legal1, checked, tmp_path) -> Path:
    """The .p7m as downloaded, saved under its name."""
    name, file = disclosure_package_download(actor=legal1, request=checked)
    with file:
        path = tmp_path / name
        path.write_bytes(file.read())
    return path


@pytest.fixture
def police_files(tmp_path) -> tuple[Path, Path]:
    """The police unit's key and certificate, each in its own PEM file."""
    recipient = police_recipient()
    key, cert = tmp_path / "police-key.pem", tmp_path / "police-cert.pem"
    key.write_bytes(recipient.key_pem)
    cert.write_text(recipient.certificate_pem)
    return key, cert


def _damaged(path: Path, data: bytes, name: str) -> Path:
    out = path.parent / name
    out.write_bytes(data)
    return out


class VerifyP7mTests:
    def test_the_authority_verifies_the_p7m_it_received_with_its_key_and_certificate(
            self, legal1, checked, p7m, police_files):
        key, cert = police_files
        ok, out, err = _verify(p7m, "--key", key, "--cert", cert)
        assert ok, err
        assert f"OK {p7m.name}: every file matches the manifest, signed by our key" in out
        # The hashes the delivery record and the download log name, to settle what was handed over.
        download = PackageDownload.objects.get(package__request=checked)
        assert f"SHA-256 {download.sha256}, decrypted" in out
        assert f"the ZIP inside: SHA-256 {download.zip_sha256}" in out
        delivered = disclosure_request_deliver(actor=legal1, request=checked, receipt="PV-1")
        assert delivered.delivery_sha256 == hashlib.sha256(p7m.read_bytes()).hexdigest() == download.sha256

    def test_the_certificate_may_come_in_the_key_file(self, p7m, tmp_path):
        recipient = police_recipient()
        bundle = tmp_path / "police.pem"
        bundle.write_bytes(recipient.key_pem + recipient.certificate_pem.encode())
        ok, out, err = _verify(p7m, "--key", bundle)
        assert ok and "OK" in out, err
        key_only = tmp_path / "key-only.pem"
        key_only.write_bytes(recipient.key_pem)
        ok, _out, err = _verify(p7m, "--key", key_only)
        assert not ok and "give the certificate the .p7m was encrypted to with --cert" in err

    def test_an_encrypted_key_opens_with_its_passphrase_from_the_environment(self, p7m, police_files, tmp_path,
                                                                             monkeypatch):
        _key, cert = police_files
        locked = tmp_path / "locked.pem"
        locked.write_bytes(police_recipient().key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(PASSPHRASE.encode())))
        monkeypatch.delenv(PASSPHRASE_ENV, raising=False)
        ok, _out, err = _verify(p7m, "--key", locked, "--cert", cert)  # no terminal to ask in
        assert not ok and f"--key locked.pem: the key is encrypted: set {PASSPHRASE_ENV}" in err
        monkeypatch.setenv(PASSPHRASE_ENV, "not the passphrase")
        ok, _out, err = _verify(p7m, "--key", locked, "--cert", cert)
        assert not ok and "--key locked.pem: the passphrase does not open this key" in err
        monkeypatch.setenv(PASSPHRASE_ENV, PASSPHRASE)
        ok, out, err = _verify(p7m, "--key", locked, "--cert", cert)
        assert ok and "OK" in out, err

    def test_a_p7m_encrypted_to_another_key_is_named_as_such(self, p7m, tmp_path):
        other = make_recipient(name="Andere eenheid")
        key, cert = tmp_path / "other-key.pem", tmp_path / "other-cert.pem"
        key.write_bytes(other.key_pem)
        cert.write_text(other.certificate_pem)
        ok, out, err = _verify(p7m, "--key", key, "--cert", cert)
        assert not ok and f"{p7m.name}: not encrypted to this key" in err
        assert "OK" not in out and "Traceback" not in err

    def test_a_certificate_that_is_not_the_keys_is_refused_before_decrypting(self, p7m, police_files, tmp_path):
        key, _cert = police_files
        other = tmp_path / "other-cert.pem"
        other.write_text(make_recipient().certificate_pem)
        ok, _out, err = _verify(p7m, "--key", key, "--cert", other)
        assert not ok and "--cert other-cert.pem: not the certificate of the key given with --key" in err

    def test_a_truncated_p7m_is_named_truncated(self, p7m, police_files):
        key, cert = police_files
        data = p7m.read_bytes()
        cut = _damaged(p7m, data[:len(data) // 2], "cut.zip.p7m")
        ok, out, err = _verify(cut, "--key", key, "--cert", cert)
        assert not ok and f"cut.zip.p7m: truncated: {len(data) // 2} of the {len(data)} bytes" in err
        assert "OK" not in out
        one_short = _damaged(p7m, data[:-1], "short.zip.p7m")
        ok, _out, err = _verify(one_short, "--key", key, "--cert", cert)
        assert not ok and "short.zip.p7m: truncated" in err

    def test_changed_bytes_fail_whether_or_not_they_still_decrypt(self, p7m, police_files):
        key, cert = police_files
        data = p7m.read_bytes()
        # The last byte of the next-to-last block: CBC carries the flip into the padding's length byte, which then
        # no longer checks out, so nothing decrypts.
        tail = bytearray(data)
        tail[-17] ^= 1
        ok, out, err = _verify(_damaged(p7m, bytes(tail), "tail.zip.p7m"), "--key", key, "--cert", cert)
        assert not ok and "tail.zip.p7m: damaged: it does not decrypt with this key" in err
        # Inside the content CBC decrypts without complaint, to a changed ZIP (here its comment): the seal catches it.
        inside = bytearray(data)
        inside[-100] ^= 1
        ok, out, err = _verify(_damaged(p7m, bytes(inside), "inside.zip.p7m"), "--key", key, "--cert", cert)
        assert not ok and "DIFFERS archive" in err and "does not match its manifest" in err
        assert "OK" not in out
        # Bytes added after the envelope.
        ok, _out, err = _verify(_damaged(p7m, data + b"\0", "long.zip.p7m"), "--key", key, "--cert", cert)
        assert not ok and "long.zip.p7m: damaged: 1 bytes after the" in err

    def test_a_file_that_is_not_cms_is_named_as_such(self, checked, p7m, police_files, tmp_path):
        key, cert = police_files
        plain = tmp_path / "package.zip"
        plain.write_bytes(package_zip(Package.objects.get(request=checked)))
        ok, _out, err = _verify(plain, "--key", key, "--cert", cert)
        assert not ok and "package.zip: not a CMS EnvelopedData (.p7m) file. It is a ZIP: check it without --key" in err
        text = tmp_path / "notes.txt"
        text.write_text("not a package")
        ok, _out, err = _verify(text, "--key", key, "--cert", cert)
        assert not ok and "notes.txt: not a CMS EnvelopedData (.p7m) file." in err
        # The ZIP itself is checked without a key, as before; a .p7m without one says what to give.
        assert _verify(plain)[0]
        ok, _out, err = _verify(p7m)
        assert not ok and f"{p7m.name} is encrypted (a CMS EnvelopedData, .p7m): give the private key" in err

    def test_a_key_that_is_not_an_rsa_private_key_is_named(self, p7m, police_files, tmp_path):
        _key, cert = police_files
        ec = tmp_path / "ec-key.pem"
        ec.write_bytes(make_recipient(ec_key=True).key_pem)
        ok, _out, err = _verify(p7m, "--key", ec, "--cert", cert)
        assert not ok and "--key ec-key.pem: not an RSA key" in err
        ok, _out, err = _verify(p7m, "--key", cert, "--cert", cert)  # a certificate given as the key
        assert not ok and "--key police-cert.pem: not a private key in PEM or DER form" in err
        ok, _out, err = _verify(p7m, "--key", tmp_path / "missing.pem", "--cert", cert)
        assert not ok and "--key cannot read" in err

    def test_a_p7m_made_by_openssl_for_the_same_zip_verifies_too(self, checked, police_files, tmp_path):
        openssl = shutil.which("openssl")
        if openssl is None:
            pytest.skip("the openssl binary is not installed: the other tests cover our own envelopes")
        key, cert = police_files
        plain = tmp_path / "package.zip"
        plain.write_bytes(package_zip(Package.objects.get(request=checked)))
        out = tmp_path / "openssl.zip.p7m"
        done = subprocess.run([openssl, "cms", "-encrypt", "-binary", "-aes256", "-outform", "DER", "-in", str(plain),
                               "-out", str(out), str(cert)], capture_output=True, timeout=60)
        assert done.returncode == 0, done.stderr.decode()
        ok, text, err = _verify(out, "--key", key, "--cert", cert)
        assert ok and "OK openssl.zip.p7m" in text, err

    def test_envelope_open_itself_refuses_a_certificate_that_is_not_the_keys(self, p7m):
        """The service the command calls checks the pair too, whoever calls it."""
        with pytest.raises(EnvelopeProblem) as exc:
            envelope_open(p7m.read_bytes(), private_key=police_recipient().key,
                          certificate=make_recipient().certificate)
        assert exc.value.reason == "certificate_mismatch"


class VerifyP7mCommandLineTests:
    def test_manage_py_exits_non_zero_with_the_problem_and_no_traceback(self, tmp_path):
        """As the authority runs it: a truncated .p7m, the wrong key. Nothing here reads the database."""
        recipient, other = police_recipient(), make_recipient()
        envelope = envelope_der(b"PK\x03\x04 not our concern here", recipient.certificate_pem)
        (tmp_path / "cut.zip.p7m").write_bytes(envelope[:-10])
        (tmp_path / "whole.zip.p7m").write_bytes(envelope)
        (tmp_path / "key.pem").write_bytes(recipient.key_pem)
        (tmp_path / "cert.pem").write_text(recipient.certificate_pem)
        (tmp_path / "other.pem").write_bytes(other.key_pem + other.certificate_pem.encode())
        # No database is read on these paths; an in-memory one makes sure none could be touched.
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "voipxs.settings_test", "DATABASE_URL": "sqlite:///:memory:"}
        env.pop(PASSPHRASE_ENV, None)
        for args, expected in (
                (["cut.zip.p7m", "--key", "key.pem", "--cert", "cert.pem"], "cut.zip.p7m: truncated"),
                (["whole.zip.p7m", "--key", "other.pem"], "whole.zip.p7m: not encrypted to this key")):
            done = subprocess.run([sys.executable, str(ROOT / "manage.py"), "verify_package", *args], cwd=tmp_path,
                                  env=env, capture_output=True, text=True, timeout=120)
            assert done.returncode == 1 and expected in done.stderr, done.stderr
            assert "Traceback" not in done.stderr

