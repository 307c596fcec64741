"""FreeSWITCH mod_xml_cdr documents: `<cdr>` with `<variables>` (one element per channel variable,
values URL-encoded by default) and one or more `<callflow>` with a `<caller_profile>`, the latest
first. One document per file as mod_xml_cdr writes them (log-dir), or several one after the other
(a collector's file): each `<cdr>...</cdr>` is read on its own, so a broken one is its own error.

A document is turned into the shape of a mod_json_cdr one and read by freeswitch_json: the same
fields, times, legs and answered rule. A document type declaration (`<!DOCTYPE`, `<!ENTITY`) is
refused: mod_xml_cdr never writes one, and entities are how XML is made to explode or leak files.

Element names are read as written, without XML namespaces: mod_xml_cdr names each `<variables>` child
after its channel variable, raw, so `export nolocal:req_uuid=...` gives `<nolocal:req_uuid>`, which a
namespace-aware parser (ElementTree, defusedxml's) refuses as an unbound prefix, and with it the call.
"""
from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ElementTree  # nosec B405: the tree builder only; parsing is element_tree's
from typing import Any, BinaryIO, Iterator, NoReturn
from xml.parsers import expat  # nosec B407: element_tree refuses DTDs, entity declarations and external entities
from zoneinfo import ZoneInfo

from .base import CallRecord, ImportFormatError, LocalTimes, RowError, refuse_non_text
from .freeswitch_json import _record

FORMAT = "freeswitch-xml"
NOT_XML_CDR = "This file is not FreeSWITCH XML CDR: it holds no <cdr> document."
BAD_DOCUMENT = "not an XML CDR document (malformed or truncated)"
DTD_REFUSED = "an XML document type declaration (mod_xml_cdr writes none)"
_DOCUMENT = re.compile(r"<cdr[\s>].*?</cdr\s*>", re.DOTALL)
_START = re.compile(r"<cdr[\s>]")


class UnreadableXml(ValueError):
    """Not well-formed, or holding what mod_xml_cdr never writes (a DTD, an entity, an external reference)."""


def _refuse(*_: Any) -> NoReturn:
    raise UnreadableXml("a DTD, an entity declaration or an external entity (mod_xml_cdr writes none)")


def element_tree(document: str | bytes) -> ElementTree.Element:
    """`document` as elements named as written (`nolocal:req_uuid` stays one name), read by expat without
    namespace processing. It refuses what defusedxml refuses and a DOCTYPE too: a document type declaration,
    an entity declaration or an external entity stops the parse, so no entity is ever expanded or fetched;
    a reference to an entity never declared is a well-formedness error of expat's own."""
    parser = expat.ParserCreate()  # no namespace_separator: a prefix is part of the name, never resolved
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = _refuse
    parser.EntityDeclHandler = _refuse
    parser.UnparsedEntityDeclHandler = _refuse
    parser.ExternalEntityRefHandler = _refuse
    builder = ElementTree.TreeBuilder()
    parser.buffer_text = True  # a value's text in one call, not one per line or character reference
    parser.StartElementHandler = builder.start
    parser.EndElementHandler = builder.end
    parser.CharacterDataHandler = builder.data
    try:
        parser.Parse(document, True)
    except expat.ExpatError as exc:
        raise UnreadableXml(str(exc)) from None
    return builder.close()


def _element_dict(element: ElementTree.Element | None) -> dict[str, str]:
    if element is None:
        return {}
    return {child.tag: (child.text or "") for child in element if len(child) == 0}


def _profile(element: ElementTree.Element | None) -> dict[str, Any]:
    """A caller profile's fields, with a B leg's `<originator><originator_caller_profile>`s as mod_json_cdr
    writes them (`"originator": {"originator_caller_profiles": [...]}`)."""
    profile: dict[str, Any] = _element_dict(element)
    origin = element.find("originator") if element is not None else None
    if origin is not None:
        profile["originator"] = {"originator_caller_profiles": [
            _element_dict(cp) for cp in origin.findall("originator_caller_profile")]}
    return profile


def as_json_shape(root: ElementTree.Element) -> dict[str, Any]:
    """The mod_json_cdr document a mod_xml_cdr one holds (its variables, its callflow profiles): what
    freeswitch_json reads, for files here and for pushes (traffic/push/body.py)."""
    flows = [{"caller_profile": _profile(flow.find("caller_profile"))} for flow in root.findall("callflow")]
    return {"variables": _element_dict(root.find("variables")), "callflow": flows}


def _documents(text: str) -> Iterator[tuple[int, Any, str | None]]:
    position, line = 0, 1
    found = False
    for start in _START.finditer(text):
        if start.start() < position:
            continue  # inside the previous document
        found = True
        line += text.count("\n", position, start.start())
        position = start.start()
        # A document ends before the next one starts: one cut off before its </cdr> is its own error only.
        following = _START.search(text, position + 1)
        match = _DOCUMENT.match(text, position, following.start() if following else len(text))
        if match is None:
            yield line, None, BAD_DOCUMENT
            if following is None:
                return
            continue
        try:
            root = element_tree(match.group(0))
        except UnreadableXml:
            yield line, None, BAD_DOCUMENT
        else:
            yield line, as_json_shape(root), None
        line += text.count("\n", position, match.end())
        position = match.end()
    if not found:
        raise ImportFormatError(NOT_XML_CDR)


def parse(stream: BinaryIO, *, tz: ZoneInfo, columns: str = "") -> Iterator[CallRecord | RowError]:
    refuse_non_text(stream)
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="replace").read()
    if "<!DOCTYPE" in text or "<!ENTITY" in text:
        raise ImportFormatError(f"This file is refused: {DTD_REFUSED}.")
    times = LocalTimes(tz)
    for line, doc, error in _documents(text):
        yield RowError(line, error) if error is not None else _record(line, doc, times)
