"""verify_package FILE [--public-key HEX] [--key KEY.pem [--cert CERT.pem]]: check a disclosure package against its
manifest, its archive seal and our signature of that seal. Exit 0 when it matches; exit 1 naming each thing that
differs. The recipient gives the public key it got with the package (the request's page shows it); without one,
the keys in this database are used.

FILE is the ZIP, or the `.p7m` the authority receives (the ZIP encrypted to its certificate, envelope.py): that one
is opened with the authority's private key (--key, PEM or DER) and the certificate it was encrypted to (--cert; not
needed when the key's file holds it too), then checked as the ZIP is. An encrypted key's passphrase comes from the
environment variable VERIFY_PACKAGE_KEY_PASSPHRASE, else is asked for in a terminal; never on the command line,
where other users of the machine and the shell's history would see it. The decrypted ZIP stays in memory."""
from __future__ import annotations

import getpass
import hashlib
import os
import sys
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.x509 import Certificate
from django.core.management.base import BaseCommand, CommandError

from disclosures.envelope import (
    EnvelopeProblem,
    envelope_kind,
    envelope_open,
    key_certificate,
    recipient_certificate_read,
    recipient_key_read,
)
from disclosures.production import verify_zip
from disclosures.signing import public_key_from_hex

PASSPHRASE_ENV = "VERIFY_PACKAGE_KEY_PASSPHRASE"
_HEAD = 32  # enough of a file's start to tell a .p7m from a ZIP
_ZIP_MAGIC = b"PK\x03\x04"


def _read(path: Path, option: str = "") -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise CommandError(f"{option}{' ' if option else ''}cannot read {path}: {exc.strerror}") from None


class Command(BaseCommand):
    help = ("Check a disclosure package (the ZIP, or the .p7m encrypted to an authority, with --key) against its "
            "manifest.json (SHA-256 of every file, counts), its seal and our signature.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--public-key", action="append", default=[], metavar="HEX",
                            help="our package signing key (64 hex digits); may be given more than once")
        parser.add_argument("--key", type=Path, metavar="KEY.pem",
                            help="FILE is a .p7m: the recipient's private key (PEM or DER; if encrypted, its "
                                 f"passphrase comes from {PASSPHRASE_ENV} or is asked for)")
        parser.add_argument("--cert", type=Path, metavar="CERT.pem",
                            help="the certificate the .p7m was encrypted to (PEM or DER); not needed when the "
                                 "--key file holds it too")

    def handle(self, *args, file: Path, public_key: list[str], key: Path | None, cert: Path | None,
               **options) -> None:
        try:
            keys = dict(public_key_from_hex(text) for text in public_key) if public_key else None
        except ValueError:
            raise CommandError("--public-key: not an Ed25519 public key (64 hex digits)") from None
        if cert is not None and key is None:
            raise CommandError("--cert goes with --key: the certificate of the key the .p7m is opened with")
        if key is None:
            problems = self._check_zip(file, keys)
        else:
            problems = verify_zip(self._opened(file, key, cert), keys)
        if problems:
            for problem in problems:
                self.stderr.write(f"DIFFERS {problem}")
            raise CommandError(f"{file.name}: {len(problems)} problem(s); the package does not match its manifest")
        self.stdout.write(self.style.SUCCESS(f"OK {file.name}: every file matches the manifest, signed by our key"))

    def _check_zip(self, file: Path, keys: dict | None) -> list[str]:
        """The ZIP, read from its file in chunks; a .p7m given without --key is refused with what to do."""
        try:
            with file.open("rb") as fh:
                if envelope_kind(fh.read(_HEAD)) == "enveloped":
                    raise CommandError(f"{file.name} is encrypted (a CMS EnvelopedData, .p7m): give the private key "
                                       "it was encrypted to with --key (and its certificate with --cert)")
                return verify_zip(fh, keys)
        except OSError as exc:
            raise CommandError(f"cannot read {file}: {exc.strerror}") from None

    def _opened(self, file: Path, key_path: Path, cert_path: Path | None) -> bytes:
        """The ZIP inside the .p7m `file`, after saying the SHA-256 of both (what the delivery record and the
        download log name). Every refusal is a CommandError naming the file or option and the problem."""
        envelope = _read(file)
        private_key, bundled = self._key(key_path)
        try:
            certificates = [recipient_certificate_read(_read(cert_path, "--cert"))] if cert_path else bundled
            certificate = key_certificate(private_key, certificates)
        except EnvelopeProblem as problem:
            raise CommandError(self._certificate_message(problem, key_path, cert_path)) from None
        try:
            content = envelope_open(envelope, private_key=private_key, certificate=certificate)
        except EnvelopeProblem as problem:
            raise CommandError(self._envelope_message(problem, file, envelope)) from None
        self.stdout.write(f"{file.name}: SHA-256 {hashlib.sha256(envelope).hexdigest()}, decrypted; the ZIP inside: "
                          f"SHA-256 {hashlib.sha256(content).hexdigest()}, {len(content)} bytes")
        return content

    def _key(self, path: Path) -> tuple[RSAPrivateKey, list[Certificate]]:
        data = _read(path, "--key")
        try:
            try:
                return recipient_key_read(data)
            except EnvelopeProblem as problem:
                if problem.reason != "passphrase_needed":
                    raise
            return recipient_key_read(data, self._passphrase(path))
        except EnvelopeProblem as problem:
            messages = {
                "key_unreadable": "not a private key in PEM or DER form",
                "passphrase_wrong": "the passphrase does not open this key",
                "not_rsa": "not an RSA key (packages are encrypted to RSA certificates)",
                "certificate_unreadable": "the certificate in this file cannot be read",
            }
            raise CommandError(f"--key {path.name}: {messages.get(problem.reason, problem.reason)}") from None

    def _passphrase(self, path: Path) -> bytes:
        if PASSPHRASE_ENV in os.environ:
            return os.environ[PASSPHRASE_ENV].encode()
        if not sys.stdin.isatty():
            raise CommandError(f"--key {path.name}: the key is encrypted: set {PASSPHRASE_ENV}, or run the "
                               "command in a terminal to be asked for its passphrase")
        return getpass.getpass(f"Passphrase for {path.name}: ").encode()

    @staticmethod
    def _certificate_message(problem: EnvelopeProblem, key_path: Path, cert_path: Path | None) -> str:
        if problem.reason == "certificate_missing":
            return (f"give the certificate the .p7m was encrypted to with --cert ({key_path.name} holds the key "
                    "only)")
        if problem.reason == "certificate_mismatch":
            where = f"--cert {cert_path.name}" if cert_path else f"the certificate in {key_path.name}"
            return f"{where}: not the certificate of the key given with --key (their public keys differ)"
        detail = f" ({problem.detail})" if problem.detail else ""
        return f"--cert {(cert_path or key_path).name}: not one X.509 certificate in PEM or DER form{detail}"

    @staticmethod
    def _envelope_message(problem: EnvelopeProblem, file: Path, envelope: bytes) -> str:
        name = file.name
        if problem.reason == "not_cms":
            hint = " It is a ZIP: check it without --key." if envelope.startswith(_ZIP_MAGIC) else ""
            return f"{name}: not a CMS EnvelopedData (.p7m) file.{hint}"
        if problem.reason == "not_enveloped":
            return f"{name}: a CMS file, but not an encrypted one (EnvelopedData)"
        if problem.reason == "truncated":
            return f"{name}: truncated: {problem.detail}"
        if problem.reason == "trailing":
            return f"{name}: damaged: {problem.detail}"
        if problem.reason == "other_recipient":
            return (f"{name}: not encrypted to this key: it was encrypted to another certificate (the wrong --key "
                    "and --cert, or an envelope made for another authority)")
        if problem.reason == "not_rsa":
            return f"{name}: the key is not an RSA key (packages are encrypted to RSA certificates)"
        return f"{name}: damaged: it does not decrypt with this key (a changed or missing byte)"
