"""The type of an uploaded file, read from its own bytes: never from its name or from the content type the
uploader claimed (a browser guesses it from the name; an API client writes what it likes). Each app names the
types it takes (accounts' proof of authority: PDF, PNG, JPEG; disclosures' received documents: those, TIFF scans,
signed or encrypted CMS files and XML) and stores the type found here, not the one it was told.

The rules are the formats' own leading bytes, strict enough that a file of another kind does not pass for one
(a ZIP, an Office file, an executable, HTML, plain text). They say what a file is, not that it is sound: a file is
stored encrypted and shown to staff by its type; nothing here parses or renders it.
"""
from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import Callable, Iterable


@dataclass(frozen=True)
class FileType:
    code: str  # short and stable: the audit trail records it
    content_type: str  # what is stored and listed
    extension: str  # a download is named with it


PDF = FileType("pdf", "application/pdf", "pdf")
PNG = FileType("png", "image/png", "png")
JPEG = FileType("jpeg", "image/jpeg", "jpg")
TIFF = FileType("tiff", "image/tiff", "tif")
# CMS (RFC 5652; PKCS#7 before it): a signed (.p7m with the content, .p7s detached) or encrypted file, in DER
# (or the BER that streaming signers write) or in PEM text.
CMS = FileType("cms", "application/pkcs7-mime", "p7m")
CMS_PEM = FileType("cms-pem", "application/x-pem-file", "pem")
XML = FileType("xml", "application/xml", "xml")

# Leading bytes: PDF's header (ISO 32000 7.5.2), PNG's signature, JPEG's SOI and the first marker's 0xFF, TIFF's
# byte order mark and 42 (little- and big-endian).
_LEADING: dict[FileType, tuple[bytes, ...]] = {
    PDF: (b"%PDF-",), PNG: (b"\x89PNG\r\n\x1a\n",), JPEG: (b"\xff\xd8\xff",), TIFF: (b"II*\x00", b"MM\x00*"),
}

# A CMS file is a ContentInfo: SEQUENCE { contentType OBJECT IDENTIFIER, content [0] EXPLICIT ANY }. The
# identifier is 1.2.840.113549.1.7.n, encoded 06 09 2A 86 48 86 F7 0D 01 07 n; n = 2 signedData, 3 envelopedData.
# Checking it, and not only the SEQUENCE (30 80 / 30 82 ...), keeps out any other DER: a certificate, a private key.
_PKCS7_OID = bytes.fromhex("06092a864886f70d0107")
_CMS_CONTENT = frozenset({2, 3})
_PEM_LABELS = (b"PKCS7", b"CMS")  # OpenSSL writes the first with `smime`/`pkcs7`, the second with `cms`
_UTF8_BOM = b"\xef\xbb\xbf"
# An XML document's prolog (its declaration, then comments, processing instructions and a document type in any
# order) is read up to the root element's name by _xml_names, step by step with find(): a regex over the whole
# prolog backtracks without end on a file of many comments. One longer than _XML_PROLOG_MAX is refused.
_XML_DECLARATION = re.compile(rb"<\?xml\s")
_XML_SPACE = re.compile(rb"\s*")
_XML_DOCTYPE = re.compile(rb"<!DOCTYPE\s+([^\s>\[]+)")
_XML_NAME = re.compile(rb"[^\s/>!?<]+")
_XML_PROLOG_MAX = 64 * 1024
# XHTML and SVG are XML too, but pages (scripts included), not documents an authority sends.
_XML_REFUSED_ROOTS = frozenset({b"html", b"svg"})


def _cms_der(der: bytes, *, whole: bool) -> bool:
    """Whether `der` starts as a signed or enveloped CMS ContentInfo. `whole`: it is the entire file, so a definite
    length must fit in it (a truncated file is refused; bytes after it, as a final newline, are not)."""
    if len(der) < 2 or der[0] != 0x30:
        return False
    if der[1] == 0x80:  # BER's indefinite length
        start = 2
    elif 0x81 <= der[1] <= 0x84:  # a definite length in 1 to 4 bytes; a short form (< 128 bytes) holds no document
        start = 2 + (der[1] & 0x7F)
        if whole and len(der) < start + int.from_bytes(der[2:start], "big"):
            return False
    else:
        return False
    oid = der[start:start + len(_PKCS7_OID) + 1]
    return len(oid) == len(_PKCS7_OID) + 1 and oid.startswith(_PKCS7_OID) and oid[-1] in _CMS_CONTENT


def _cms_pem(content: bytes) -> bool:
    """A CMS file in PEM: its BEGIN line, a body whose first bytes are a CMS ContentInfo, and its END line."""
    for label in _PEM_LABELS:
        begin = b"-----BEGIN " + label + b"-----"
        if not content.startswith(begin):
            continue
        if b"-----END " + label + b"-----" not in content[-200:]:
            return False
        body = b"".join(content[len(begin):len(begin) + 200].split())[:32]  # 24 bytes: header and identifier
        try:
            return _cms_der(base64.b64decode(body, validate=True), whole=False)
        except (binascii.Error, ValueError):
            return False
    return False


def _past(body: bytes, marker: bytes, start: int) -> int:
    """The position just after the next `marker` in `body` from `start`; -1 when there is none."""
    found = body.find(marker, start)
    return found + len(marker) if found >= 0 else -1


def _doctype_end(body: bytes, start: int) -> int:
    """The position just after a document type whose name ends at `start`, internal subset ([...]) included."""
    close = body.find(b">", start)
    subset = body.find(b"[", start, close) if close >= 0 else -1
    if subset < 0:
        return close + 1 if close >= 0 else -1
    subset_end = body.find(b"]", subset)
    return _past(body, b">", subset_end) if subset_end >= 0 else -1


def _xml_names(body: bytes) -> list[bytes] | None:
    """The names of the document type (if any) and of the root element of the XML document `body`, read through
    its prolog; None when it does not start with a declaration or no root element follows the prolog. Each step
    moves on past what it read, so a file is read once, however long its prolog."""
    if not _XML_DECLARATION.match(body):
        return None
    at, names = _past(body, b"?>", 0), []
    while at >= 0:
        at = _XML_SPACE.match(body, at).end()
        if body.startswith(b"<!--", at):
            at = _past(body, b"-->", at + 4)
        elif body.startswith(b"<?", at):
            at = _past(body, b"?>", at + 2)
        elif doctype := _XML_DOCTYPE.match(body, at):
            names.append(doctype.group(1))
            at = _doctype_end(body, doctype.end())
        elif body.startswith(b"<", at) and (root := _XML_NAME.match(body, at + 1)):
            return [*names, root.group(0)]
        else:
            return None
    return None


def _xml(content: bytes) -> bool:
    """An XML document declared as one (`<?xml `, after a UTF-8 byte order mark or not) whose root is no page."""
    names = _xml_names(content.removeprefix(_UTF8_BOM)[:_XML_PROLOG_MAX])
    if names is None:
        return False
    return not any(name.rpartition(b":")[2].lower() in _XML_REFUSED_ROOTS for name in names)


_RULES: dict[FileType, Callable[[bytes], bool]] = {
    **{kind: (lambda content, leading=leading: content.startswith(leading)) for kind, leading in _LEADING.items()},
    CMS: lambda content: _cms_der(content, whole=True),
    CMS_PEM: _cms_pem,
    XML: _xml,
}


def file_type_detect(content: bytes, *, accepted: Iterable[FileType]) -> FileType | None:
    """The first of the `accepted` types that `content` is, by its own bytes; None when it is none of them."""
    return next((kind for kind in accepted if _RULES[kind](content)), None)
