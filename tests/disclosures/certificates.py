"""Recipient certificates for the tests, made here with cryptography (no key is ever committed): an authority's
X.509 encryption certificate and its private key, to decrypt what the package was encrypted to as the authority
does. Making an RSA key takes a while, so the usual one is made once per test run."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import NameOID


@dataclass(frozen=True)
class Recipient:
    certificate_pem: str
    key_pem: bytes  # PKCS #8, unencrypted: what `openssl cms -inkey` reads

    @property
    def certificate(self) -> x509.Certificate:
        return x509.load_pem_x509_certificate(self.certificate_pem.encode())

    @property
    def key(self):
        return serialization.load_pem_private_key(self.key_pem, password=None)

    def decrypt(self, envelope: bytes) -> bytes:
        """Open a .p7m (CMS EnvelopedData, DER) as the authority does."""
        return pkcs7.pkcs7_decrypt_der(envelope, self.certificate, self.key, [])


def make_recipient(*, valid_days: int = 365, expired: bool = False, key_size: int = 2048, ec_key: bool = False,
                   for_encryption: bool = True, name: str = "Politie test ontvanger") -> Recipient:
    key = ec.generate_private_key(ec.SECP256R1()) if ec_key else rsa.generate_private_key(
        public_exponent=65537, key_size=key_size)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    start = datetime.now(timezone.utc) - timedelta(days=30 if expired else 1)
    end = start + timedelta(days=29) if expired else start + timedelta(days=valid_days)
    usage = x509.KeyUsage(digital_signature=not for_encryption, content_commitment=False,
                          key_encipherment=for_encryption, data_encipherment=False, key_agreement=False,
                          key_cert_sign=False, crl_sign=False, encipher_only=False, decipher_only=False)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(start).not_valid_after(end)
            .add_extension(usage, critical=True).sign(key, hashes.SHA256()))
    return Recipient(certificate_pem=cert.public_bytes(serialization.Encoding.PEM).decode(),
                     key_pem=key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))


@lru_cache(maxsize=1)
def police_recipient() -> Recipient:
    """The test police unit's encryption certificate and key (one per run)."""
    return make_recipient()
