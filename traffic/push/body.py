"""What a switch POSTs → the bytes its source's parser reads (traffic/importers), or a refusal naming why.

What FreeSWITCH sends (src/mod/event_handlers/mod_json_cdr, src/mod/xml_int/mod_xml_cdr):
- `encode` true (the default): `cdr=<document, URL-encoded>`, Content-Type application/x-www-form-urlencoded;
- `encode` base64: `cdr=<base64>`, Content-Type application/x-www-form-base64-encoded;
- mod_xml_cdr `encode` false: `cdr=<XML as it is>` (not URL-encoded), application/x-www-form-plaintext;
- mod_xml_cdr `encode` textxml: the XML alone, text/xml; mod_json_cdr `encode` false: the JSON alone,
  application/json.
Values inside the document may be URL-encoded again (`encode-values`): the parser decodes them.
Anything else that is no form is the document itself: a JSON document (Kamailio, a collector), or lines
of the source's CSV layout (an Asterisk collector shipping Master.csv lines).

mod_xml_cdr's XML is read into the mod_json_cdr document it holds (`variables`, `callflow` with its
`caller_profile`), so the one FreeSWITCH parser reads both. A DOCTYPE is refused before parsing: a CDR
never has one, and no entity is ever expanded.
"""
from __future__ import annotations

import base64
import binascii
import codecs
import json
from urllib.parse import parse_qs, unquote_to_bytes

from ..importers.freeswitch_xml import UnreadableXml, as_json_shape, element_tree

FORM = "application/x-www-form-urlencoded"
BASE64 = "application/x-www-form-base64-encoded"
JSON_FORMATS = ("freeswitch-json",)

NO_BODY = "The body is empty: POST one CDR (mod_json_cdr, mod_xml_cdr or the source's own format)."
NO_CDR_FIELD = "The form has no cdr field: mod_json_cdr and mod_xml_cdr send cdr=<document>."
TOO_MANY_FIELDS = "The form has too many fields: mod_json_cdr and mod_xml_cdr send cdr=<document>."
BAD_BASE64 = "The cdr field is not valid base64 (Content-Type application/x-www-form-base64-encoded)."
BAD_XML = "The body is not a mod_xml_cdr document: it is not well-formed XML."
XML_DOCTYPE = "The body is refused: a CDR document has no DOCTYPE or entities."
XML_NOT_CDR = "The body is not a mod_xml_cdr document: its root is not <cdr> with <variables>."
XML_WRONG_SOURCE = ("This source's format is {format}: an XML CDR (mod_xml_cdr) is accepted only by a source "
                    "of format freeswitch-json.")


class PushRefused(Exception):
    """A push that is answered with `status` and `message` (the message never quotes the body)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def push_document(*, content_type: str, body: bytes, fmt: str) -> bytes:
    """The document in this push, as the bytes the source's parser reads."""
    kind = content_type.split(";", 1)[0].strip().lower()
    document = _unwrapped(kind, body).strip()
    if not document:
        raise PushRefused(400, NO_BODY)
    if document[:1] == b"<":
        if fmt not in JSON_FORMATS:
            raise PushRefused(415, XML_WRONG_SOURCE.format(format=fmt))
        return _xml_as_json(document)
    return document


def _unwrapped(kind: str, body: bytes) -> bytes:
    """The document inside a FreeSWITCH form (`cdr=...`), or the body itself."""
    if kind == FORM:
        if body.startswith(b"cdr=") and b"&" not in body:
            # What mod_json_cdr / mod_xml_cdr send: the one field. FreeSWITCH escapes "&" and "+", so a
            # "+" here can only be a form-encoded space.
            return percent_decode(body[4:].replace(b"+", b" "))
        try:
            fields = parse_qs(body.decode("latin-1"), keep_blank_values=True, max_num_fields=20, encoding="latin-1")
        except ValueError:  # more than max_num_fields: no switch sends that
            raise PushRefused(400, TOO_MANY_FIELDS) from None
        if "cdr" not in fields:
            if body.lstrip()[:1] in (b"{", b"[", b"<"):
                return body  # a document sent with the wrong Content-Type: still the document
            raise PushRefused(400, NO_CDR_FIELD)
        # parse_qs decoded the percent escapes as latin-1: the bytes are back as they were sent
        return fields["cdr"][0].encode("latin-1")
    if not body.startswith(b"cdr="):
        return body
    value = body[4:]
    if kind == BASE64:
        try:
            return base64.b64decode(unquote_to_bytes(value), validate=False)
        except (binascii.Error, ValueError):
            raise PushRefused(400, BAD_BASE64) from None
    return value  # x-www-form-plaintext: the document as it is, not URL-encoded


def percent_decode(data: bytes) -> bytes:
    """unquote_to_bytes, in C: a CDR form-encoded whole is ~1,000 escapes, which urllib decodes one list
    item at a time (a third of a push's CPU). Every backslash is doubled first, so the only escapes
    escape_decode sees are the %XX made \\xXX; a "%" without two hex digits falls back to urllib."""
    try:
        return codecs.escape_decode(data.replace(b"\\", b"\\\\").replace(b"%", b"\\x"))[0]
    except ValueError:
        return unquote_to_bytes(data)


def _xml_as_json(document: bytes) -> bytes:
    head = document[:4096].upper()
    if b"<!DOCTYPE" in head or b"<!ENTITY" in document.upper():
        raise PushRefused(400, XML_DOCTYPE)
    try:
        # The files' reader: names as written (a `nolocal:` variable), and a DTD or an entity that slipped past
        # the check above is refused there too.
        root = element_tree(document)
    except UnreadableXml:
        raise PushRefused(400, BAD_XML) from None
    if root.tag != "cdr" or root.find("variables") is None:
        raise PushRefused(400, XML_NOT_CDR)
    return json.dumps(as_json_shape(root)).encode()
