"""The package in transit: the sealed ZIP (production.py) encrypted to the receiving authority's X.509 certificate as
a CMS EnvelopedData (RFC 5652) in DER, the `.p7m` that S/MIME and the police's standard tools open:

    openssl cms -decrypt -inform DER -in disclosure-7.zip.p7m -recip cert.pem -inkey key.pem -out disclosure-7.zip

The content is the exact ZIP bytes (its manifest, its SHA-256 seal and our Ed25519 signature in the comment are
untouched), so integrity is checked after decryption as before (verify_package). The content key is AES-256-CBC,
wrapped with the certificate's RSA key (PKCS #1 v1.5 key transport: what cryptography's PKCS7EnvelopeBuilder
makes, and every CMS reader opens), so the certificate must hold an RSA key.

`Binary` matters: without it the builder wraps the data in a MIME text part, and what the authority decrypts
would no longer be our ZIP byte for byte."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.ciphers import algorithms
from cryptography.hazmat.primitives.serialization import pkcs7

MIN_RSA_BITS = 2048
MAX_PEM_CHARS = 20_000
CONTENT_TYPE = "application/pkcs7-mime; smime-type=enveloped-data"
SUFFIX = ".p7m"


class UnreadableCertificate(ValueError):
    """Not one X.509 certificate in PEM form. `reason`: "unreadable", "several" or "private_key"."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class RecipientCertificate:
    """What the register keeps and checks of an authority's certificate: never its subject (it may name an
    officer), only the certificate itself, its SHA-256 fingerprint and its term."""

    pem: str  # the one certificate, re-encoded from its DER (whatever surrounded it is dropped)
    sha256: str  # of the DER, 64 lower-case hex digits: the fingerprint the authority compares
    not_after: datetime  # UTC
    rsa_bits: int | None  # None: not an RSA key
    for_encryption: bool  # no key usage extension, or one that allows key encipherment


def certificate_read(text: str) -> RecipientCertificate:
    """The one certificate in `text` (PEM). Raises UnreadableCertificate; the reason never repeats the text."""
    if "PRIVATE KEY-----" in text:
        raise UnreadableCertificate("private_key")
    if len(text) > MAX_PEM_CHARS or "-----BEGIN CERTIFICATE-----" not in text:
        raise UnreadableCertificate("unreadable")
    try:
        found = x509.load_pem_x509_certificates(text.strip().encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        raise UnreadableCertificate("unreadable") from None
    if len(found) != 1:
        raise UnreadableCertificate("several")
    cert = found[0]
    try:
        key = cert.public_key()
    except (ValueError, UnsupportedAlgorithm):  # a key type cryptography does not know: certainly not RSA
        key = None
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
        for_encryption = usage.key_encipherment
    except x509.ExtensionNotFound:
        for_encryption = True
    except ValueError:  # an extension that does not parse
        raise UnreadableCertificate("unreadable") from None
    der = cert.public_bytes(serialization.Encoding.DER)
    return RecipientCertificate(pem=cert.public_bytes(serialization.Encoding.PEM).decode("ascii"),
                                sha256=hashlib.sha256(der).hexdigest(), not_after=cert.not_valid_after_utc,
                                rsa_bits=key.key_size if isinstance(key, rsa.RSAPublicKey) else None,
                                for_encryption=for_encryption)


def envelope_der(data: bytes, certificate_pem: str) -> bytes:
    """`data` encrypted to the certificate: a CMS EnvelopedData, DER (a `.p7m`). Each call draws a new content
    key, so two envelopes of the same data differ; the one handed out is stored (models.PackageEnvelope)."""
    cert = x509.load_pem_x509_certificate(certificate_pem.encode("ascii"))
    return (pkcs7.PKCS7EnvelopeBuilder().set_data(data).add_recipient(cert)
            .set_content_encryption_algorithm(algorithms.AES256)
            .encrypt(serialization.Encoding.DER, [pkcs7.PKCS7Options.Binary]))
