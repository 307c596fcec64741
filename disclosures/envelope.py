"""The package in transit: the sealed ZIP (production.py) encrypted to the receiving authority's X.509 certificate as
a CMS EnvelopedData (RFC 5652) in DER, the `.p7m` that S/MIME and the police's standard tools open:

    openssl cms -decrypt -inform DER -in disclosure-7.zip.p7m -recip cert.pem -inkey key.pem -out disclosure-7.zip

The content is the exact ZIP bytes (its manifest, its SHA-256 seal and our Ed25519 signature in the comment are
untouched), so integrity is checked after decryption as before (verify_package). The content key is AES-256-CBC,
wrapped with the certificate's RSA key (PKCS #1 v1.5 key transport: what cryptography's PKCS7EnvelopeBuilder
makes, and every CMS reader opens), so the certificate must hold an RSA key.

The envelope is written here, a chunk at a time (envelope_chunks), in the very layout cryptography's
PKCS7EnvelopeBuilder gives it with the `Binary` option (the data as it is, not wrapped in a MIME text part), so that
neither the ZIP nor the envelope is ever in memory whole: DER needs every length before its content, and all of
them are known in advance (the ZIP's size is, and AES-CBC with PKCS #7 padding makes (n // 16 + 1) * 16 bytes of n).

The other way (envelope_open, for `verify_package FILE.p7m --key`): cryptography's pkcs7_decrypt_der with the
recipient's RSA key and the certificate the envelope names, after checks that tell a file that is not CMS, one cut
short and one encrypted to someone else apart, so that each is named as what it is."""
from __future__ import annotations

import hashlib
import io
import os
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Iterator

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import padding, serialization
from cryptography.hazmat.primitives.asymmetric import padding as key_padding
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.serialization import pkcs7

from voipxs.privacy.crypto import STREAM_CHUNK

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


# The DER of the CMS EnvelopedData (RFC 5652) with one KeyTransRecipientInfo, as PKCS7EnvelopeBuilder makes it:
#   ContentInfo SEQUENCE { envelopedData, [0] EXPLICIT EnvelopedData SEQUENCE { version 0,
#     recipientInfos SET { KeyTransRecipientInfo SEQUENCE { version 0, IssuerAndSerialNumber SEQUENCE { the
#       certificate's issuer and serial, as it encodes them }, rsaEncryption with NULL, encryptedKey OCTET STRING } },
#     EncryptedContentInfo SEQUENCE { data, aes256-CBC with the IV as OCTET STRING, [0] IMPLICIT encryptedContent } } }
_OID_ENVELOPED_DATA = bytes.fromhex("06092a864886f70d010703")  # 1.2.840.113549.1.7.3
_OID_DATA = bytes.fromhex("06092a864886f70d010701")  # 1.2.840.113549.1.7.1
_RSA_ENCRYPTION = bytes.fromhex("300d06092a864886f70d0101010500")  # AlgorithmIdentifier 1.2.840.113549.1.1.1, NULL
_OID_AES256_CBC = bytes.fromhex("060960864801650304012a")  # 2.16.840.1.101.3.4.1.42
_VERSION_0 = bytes.fromhex("020100")
_BLOCK = 16  # AES's block, in bytes
# What is read and encrypted at a time: each piece is copied a few times on its way (padder, cipher, COPY's hex), so
# a quarter of STREAM_CHUNK keeps those copies below the 1 MB buffers around them. A multiple of _BLOCK.
_PIECE = STREAM_CHUNK // 4


def encrypted_size(size: int) -> int:
    """The bytes of `size` bytes encrypted with AES-CBC and PKCS #7 padding: always one to 16 bytes of padding."""
    return (size // _BLOCK + 1) * _BLOCK


def _header(tag: int, length: int) -> bytes:
    """A DER tag and length: short form below 128, else the fewest big-endian bytes after 0x80 | their count."""
    if length < 0x80:
        return bytes((tag, length))
    count = (length.bit_length() + 7) // 8
    return bytes((tag, 0x80 | count)) + length.to_bytes(count, "big")


def _around(tag: int, start: bytes, rest: int = 0) -> bytes:
    """The header of a value of `tag` whose content is `start` and then `rest` bytes to come, and `start`."""
    return _header(tag, len(start) + rest) + start


def _element(data: bytes, at: int) -> tuple[int, int]:
    """(where its content starts, where it ends) of the DER element at `at` (DER: definite lengths only)."""
    first = data[at + 1]
    if first < 0x80:
        return at + 2, at + 2 + first
    start = at + 2 + (first & 0x7F)
    return start, start + int.from_bytes(data[at + 2:start], "big")


def _issuer_and_serial(cert: x509.Certificate) -> bytes:
    """IssuerAndSerialNumber from the certificate's own DER, its issuer Name and serial INTEGER as they are encoded
    there (what CMS readers compare): TBSCertificate SEQUENCE { [0] version OPTIONAL, serialNumber, signature,
    issuer, ... }."""
    tbs = cert.tbs_certificate_bytes
    serial = _element(tbs, 0)[0]
    if tbs[serial] == 0xA0:  # the version (absent from version 1 certificates)
        serial = _element(tbs, serial)[1]
    signature = _element(tbs, serial)[1]
    issuer = _element(tbs, signature)[1]
    return _around(0x30, tbs[issuer:_element(tbs, issuer)[1]] + tbs[serial:signature])


def _head(cert: x509.Certificate, key: bytes, iv: bytes, content_size: int) -> bytes:
    """Everything of the envelope before its encrypted content (`content_size` bytes, which follow it)."""
    public = cert.public_key()
    if not isinstance(public, rsa.RSAPublicKey):
        raise TypeError("the certificate's key is not an RSA key")  # certificate_read refuses those at the register
    wrapped = public.encrypt(key, key_padding.PKCS1v15())
    recipient = _around(0x30, _VERSION_0 + _issuer_and_serial(cert) + _RSA_ENCRYPTION + _around(0x04, wrapped))
    algorithm = _around(0x30, _OID_AES256_CBC + _around(0x04, iv))
    head = _header(0x80, content_size)  # [0] IMPLICIT OCTET STRING, primitive
    head = _around(0x30, _OID_DATA + algorithm + head, content_size)  # EncryptedContentInfo
    head = _around(0x30, _VERSION_0 + _around(0x31, recipient) + head, content_size)  # EnvelopedData
    head = _around(0xA0, head, content_size)
    return _around(0x30, _OID_ENVELOPED_DATA + head, content_size)  # ContentInfo


def _encrypted(source: IO[bytes], size: int, key: bytes, iv: bytes) -> Iterator[bytes]:
    encryptor = Cipher(algorithms.AES256(key), modes.CBC(iv)).encryptor()
    padder = padding.PKCS7(algorithms.AES256.block_size).padder()
    left = size
    while left:
        chunk = source.read(min(_PIECE, left))
        if not chunk:
            raise ValueError(f"the content ended {left} bytes short of the {size} announced")
        left -= len(chunk)
        if piece := encryptor.update(padder.update(chunk)):
            yield piece
    yield encryptor.update(padder.finalize()) + encryptor.finalize()


def envelope_chunks(source: IO[bytes], size: int, certificate_pem: str) -> Iterator[bytes]:
    """The `size` bytes read from `source` (from where it stands) encrypted to the certificate: a CMS
    EnvelopedData in DER (a `.p7m`), given a piece at a time, none larger than a quarter of STREAM_CHUNK. Each
    envelope draws a new content key and IV, so two envelopes of the same data differ; the one handed out is
    stored (models.PackageEnvelope). Raises ValueError if `source` ends before `size` bytes."""
    cert = x509.load_pem_x509_certificate(certificate_pem.encode("ascii"))
    key, iv = os.urandom(32), os.urandom(_BLOCK)
    yield _head(cert, key, iv, encrypted_size(size))
    yield from _encrypted(source, size, key, iv)


def envelope_der(data: bytes, certificate_pem: str) -> bytes:
    """`data` encrypted to the certificate (envelope_chunks), whole: for small data and tests."""
    return b"".join(envelope_chunks(io.BytesIO(data), len(data), certificate_pem))


# What a .p7m opens with, and why it may not (verify_package on the authority's side, or ours in a dispute).
# DER of a ContentInfo: SEQUENCE { OID 1.2.840.113549.1.7.3 (envelopedData), [0] EnvelopedData }.
_PKCS7_OID = bytes.fromhex("06092a864886f70d0107")  # 1.2.840.113549.1.7, the content types' arc
_ENVELOPED_DATA = 3
_NO_RECIPIENT = "No recipient found"  # cryptography's ValueError when no RecipientInfo names the certificate


class EnvelopeProblem(ValueError):
    """Why a .p7m, or the key or certificate to open it, cannot be used. `reason` says which (a code for the
    caller's message, listed by each function that raises it); `detail`, where there is one, is counts or sizes,
    never content."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason if not detail else f"{reason}: {detail}")
        self.reason, self.detail = reason, detail


def recipient_key_read(data: bytes, passphrase: bytes | None = None,
                       ) -> tuple[rsa.RSAPrivateKey, list[x509.Certificate]]:
    """The private key in `data` (PEM or DER, PKCS #8 or the older RSA form, encrypted or not) and the
    certificates that came in the same PEM file (often the key's own). Raises EnvelopeProblem: key_unreadable,
    passphrase_needed (an encrypted key and no passphrase), passphrase_wrong, not_rsa, certificate_unreadable."""
    pem = b"-----BEGIN" in data
    load = serialization.load_pem_private_key if pem else serialization.load_der_private_key
    try:
        key = load(data, password=None)
    except TypeError:  # documented: the key is encrypted and no password was given
        key = None
    except (ValueError, UnsupportedAlgorithm):
        raise EnvelopeProblem("key_unreadable") from None
    if key is None:
        if passphrase is None:
            raise EnvelopeProblem("passphrase_needed")
        try:
            key = load(data, password=passphrase)
        except (ValueError, TypeError, UnsupportedAlgorithm):
            raise EnvelopeProblem("passphrase_wrong") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise EnvelopeProblem("not_rsa")
    certificates = []
    if pem and b"-----BEGIN CERTIFICATE-----" in data:
        try:
            certificates = x509.load_pem_x509_certificates(data)
        except ValueError:
            raise EnvelopeProblem("certificate_unreadable") from None
    return key, certificates


def recipient_certificate_read(data: bytes) -> x509.Certificate:
    """The one certificate in `data`, PEM or DER. Raises EnvelopeProblem("certificate_unreadable")."""
    try:
        if b"-----BEGIN CERTIFICATE-----" in data:
            found = x509.load_pem_x509_certificates(data)
            if len(found) != 1:
                raise EnvelopeProblem("certificate_unreadable", f"{len(found)} certificates")
            return found[0]
        return x509.load_der_x509_certificate(data)
    except ValueError as exc:
        if isinstance(exc, EnvelopeProblem):
            raise
        raise EnvelopeProblem("certificate_unreadable") from None


def key_certificate(private_key: rsa.RSAPrivateKey, certificates: list[x509.Certificate]) -> x509.Certificate:
    """The certificate among `certificates` whose public key is `private_key`'s. Raises EnvelopeProblem:
    certificate_missing (none given), certificate_mismatch (none of them is the key's)."""
    if not certificates:
        raise EnvelopeProblem("certificate_missing")
    public = private_key.public_key().public_numbers()
    for cert in certificates:
        try:
            key = cert.public_key()
        except (ValueError, UnsupportedAlgorithm):
            continue
        if isinstance(key, rsa.RSAPublicKey) and key.public_numbers() == public:
            return cert
    raise EnvelopeProblem("certificate_mismatch")


def _der_header(data: bytes) -> tuple[int, int | None]:
    """(offset of the content, total length the header declares; None: indefinite) of a DER SEQUENCE at the start
    of `data`. Raises EnvelopeProblem("not_cms") when there is none."""
    if len(data) < 2 or data[0] != 0x30:
        raise EnvelopeProblem("not_cms")
    first = data[1]
    if first < 0x80:
        return 2, 2 + first
    if first == 0x80:  # BER's indefinite length: no total to compare the size with
        return 2, None
    count = first & 0x7F
    if count > 8 or len(data) < 2 + count:
        raise EnvelopeProblem("not_cms")
    return 2 + count, 2 + count + int.from_bytes(data[2:2 + count], "big")


def envelope_kind(data: bytes) -> str:
    """What `data` starts as, from its first bytes: "enveloped", a CMS EnvelopedData (what envelope_der makes);
    "cms", another CMS content type (a signature, say); "", not CMS at all (a ZIP, say)."""
    try:
        offset, _total = _der_header(data)
    except EnvelopeProblem:
        return ""
    oid = data[offset:offset + len(_PKCS7_OID) + 1]
    if oid[:-1] != _PKCS7_OID:
        return ""
    return "enveloped" if oid[-1] == _ENVELOPED_DATA else "cms"


def envelope_open(data: bytes, *, private_key: rsa.RSAPrivateKey, certificate: x509.Certificate) -> bytes:
    """The content of a .p7m (for ours: the sealed ZIP, byte for byte), decrypted with the recipient's key and the
    certificate it was encrypted to (CMS finds its recipient by the certificate's issuer and serial number).
    Raises EnvelopeProblem: not_cms, not_enveloped, truncated, trailing, damaged, other_recipient (encrypted to
    another certificate: the wrong key), not_rsa, certificate_mismatch (the certificate is not the key's).

    AES-CBC has no integrity check of its own: a changed byte in the encrypted content may decrypt to changed
    content without any error here. The ZIP's seal and signature (production.verify_zip) catch that."""
    if not isinstance(private_key, rsa.RSAPrivateKey):
        raise EnvelopeProblem("not_rsa")
    key_certificate(private_key, [certificate])
    kind = envelope_kind(data)
    if kind != "enveloped":
        raise EnvelopeProblem("not_enveloped" if kind else "not_cms")
    _offset, total = _der_header(data)
    if total is not None and len(data) < total:
        raise EnvelopeProblem("truncated", f"{len(data)} of the {total} bytes its header declares")
    if total is not None and len(data) > total:
        raise EnvelopeProblem("trailing", f"{len(data) - total} bytes after the {total} its header declares")
    try:
        return pkcs7.pkcs7_decrypt_der(data, certificate, private_key, [])
    except TypeError:  # a key type cryptography's CMS does not take (checked above: RSA only)
        raise EnvelopeProblem("not_rsa") from None
    except ValueError as exc:
        # No RecipientInfo names this certificate: encrypted to someone else. Anything else (a structure that
        # does not parse, a padding that does not check out) is damage.
        raise EnvelopeProblem("other_recipient" if _NO_RECIPIENT in str(exc) else "damaged") from None
