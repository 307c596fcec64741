"""Small files shaped as the real ones are, for the tests of the file-type rules (voipxs.privacy.filetypes) and of
the uploads that use them: what an authority sends with a request, and what must be refused. The signed and
encrypted CMS files are made here with cryptography, on a throwaway key; nothing is a real document."""
from __future__ import annotations

import struct
import zlib
from datetime import datetime, timedelta, timezone
from functools import lru_cache

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import NameOID

PDF = (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
       b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n")


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


# One white pixel.
PNG = (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
       + _png_chunk(b"IDAT", zlib.compress(b"\x00\xff")) + _png_chunk(b"IEND", b""))
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
TIFF_LE = b"II*\x00\x08\x00\x00\x00\x00\x00\x00\x00\x00\x00"  # the header, then an empty directory
TIFF_BE = b"MM\x00*\x00\x00\x00\x08\x00\x00\x00\x00\x00\x00"
XML_BOM = (b'\xef\xbb\xbf<?xml version="1.0" encoding="UTF-8"?>\n<!-- ETSI TS 102 657 -->\n'
           b'<RetainedDataMessage xmlns="http://uri.etsi.org/02657/v1.18.1#/RetainedData"><version/>'
           b'</RetainedDataMessage>\n')
XML_PLAIN = b'<?xml version="1.0"?><vordering><referentie>PV-1</referentie></vordering>'

# What an authority's upload must never be, and what each is.
REFUSED = {
    "executable": b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00This program cannot be run in DOS mode",
    "elf": b"\x7fELF\x02\x01\x01\x00",
    "zip (docx, xlsm)": b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00[Content_Types].xml",
    "ole2 (doc with macros)": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 24,
    "html": b"<html><body><script>alert(1)</script></body></html>",
    "html doctype": b"<!DOCTYPE html>\n<html><body>vordering</body></html>",
    "xhtml": b'<?xml version="1.0"?>\n<!DOCTYPE html>\n<html xmlns="http://www.w3.org/1999/xhtml"><body/></html>',
    "svg": b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
    "xml without a root": b'<?xml version="1.0"?>\n<!-- nothing -->',
    "plain text": b"Vordering ex art. 126n Sv, PV-1\n",
    "shell script": b"#!/bin/sh\nrm -rf /\n",
    "e-mail": b"From: officier@om.nl\r\nSubject: vordering\r\nContent-Type: text/html\r\n\r\n<p>vordering</p>\r\n",
    "pdf without its dash": b"%PDF order",
    "postscript": b"%!PS-Adobe-3.0\n",
    "rtf": b"{\\rtf1\\ansi vordering}",
}


@lru_cache(maxsize=1)
def _signer() -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Officier van justitie (test)")])
    start = datetime.now(timezone.utc) - timedelta(days=1)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(start)
            .not_valid_after(start + timedelta(days=30)).sign(key, hashes.SHA256()))
    return cert, key


def cms_signed(*, encoding: serialization.Encoding = serialization.Encoding.DER, detached: bool = False) -> bytes:
    """A signed order (CMS SignedData): a .p7m holding the order, or a detached .p7s; DER or PEM."""
    cert, key = _signer()
    options = [pkcs7.PKCS7Options.DetachedSignature] if detached else []
    return (pkcs7.PKCS7SignatureBuilder().set_data(b"Vordering PV-1 (test)").add_signer(cert, key, hashes.SHA256())
            .sign(encoding, options))


def cms_signed_ber() -> bytes:
    """The signed order with its outer SEQUENCE in BER's indefinite length (30 80 ... 00 00), as streaming signers
    write it."""
    der = cms_signed()
    assert der[:2] == b"\x30\x82"
    return b"\x30\x80" + der[4:] + b"\x00\x00"


def cms_enveloped(certificate: x509.Certificate) -> bytes:
    """An order encrypted to `certificate` (an RSA one: CMS EnvelopedData, DER)."""
    return (pkcs7.PKCS7EnvelopeBuilder().set_data(b"Vordering PV-1 (test)").add_recipient(certificate)
            .encrypt(serialization.Encoding.DER, []))


def signer_certificate_der() -> bytes:
    """DER that is no CMS file: a certificate (30 82 ... like a .p7m)."""
    return _signer()[0].public_bytes(serialization.Encoding.DER)


def signer_key_der() -> bytes:
    """DER that is no CMS file either: a PKCS #8 private key."""
    return _signer()[1].private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption())
