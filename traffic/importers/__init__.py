"""CDR parsers, one small module per switch format (`asterisk_csv`, `asterisk_custom`, `freeswitch_csv`,
`freeswitch_json`, `freeswitch_xml`, `kamailio_acc`; the two Asterisk layouts share `_asterisk`). Each
`parse(stream, tz=..., columns=...)` takes the source's declared layout (`layouts`: a cdr_custom
mapping line, a mod_cdr_csv template) where its format has one. `base` holds the record they yield
(CallRecord, or RowError for a broken row), strict CSV reading and time conversion; `sniff` says from
its first bytes when a file is no CDR text at all (an image, random bytes, UTF-16), refused whole."""
from __future__ import annotations

from types import ModuleType
from typing import BinaryIO, Callable, Iterator
from zoneinfo import ZoneInfo

from . import asterisk_csv, asterisk_custom, freeswitch_csv, freeswitch_json, freeswitch_xml, kamailio_acc, layouts

FORMATS: dict[str, ModuleType] = {
    module.FORMAT: module for module in (asterisk_csv, asterisk_custom, freeswitch_csv, freeswitch_json,
                                         freeswitch_xml, kamailio_acc)
}


# Formats whose files are CSV read by base.csv_lines, one record per line but for quoted line breaks,
# so that a file can be cut at record boundaries and its parts parsed apart (traffic.ingest.parallel).
_CHUNKABLE = frozenset({asterisk_csv.FORMAT, asterisk_custom.FORMAT, freeswitch_csv.FORMAT})


def chunkable(fmt: str, columns: str = "") -> bool:
    """Whether a file of this format and layout can be parsed in parts (`base.file_chunk`). A
    FreeSWITCH template with text around its values is matched line by line, not read as CSV."""
    if fmt not in _CHUNKABLE:
        return False
    return fmt != freeswitch_csv.FORMAT or layouts.freeswitch_template(columns).csv


def _freeswitch_documents(stream: BinaryIO, *, tz: ZoneInfo, columns: str = "") -> Iterator:
    """A freeswitch-json source's file: mod_json_cdr documents, or the mod_xml_cdr ones of a switch that pushes
    with mod_xml_cdr into it (README "Connecting your switch": its err-log-dir files are imported into the same
    source, so a CDR that did arrive is a duplicate there, never stored twice). Told apart by the first byte
    that is no white space or byte-order mark; the stream is left where it was."""
    if stream.seekable():
        start = stream.tell()
        head = stream.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
        stream.seek(start)
        if head[:1] == b"<":
            return freeswitch_xml.parse(stream, tz=tz, columns=columns)
    return freeswitch_json.parse(stream, tz=tz, columns=columns)


def get_parser(fmt: str) -> Callable:
    if fmt == freeswitch_json.FORMAT:
        return _freeswitch_documents
    try:
        return FORMATS[fmt].parse
    except KeyError:
        raise ValueError(f"unknown CDR format {fmt!r}; known: {', '.join(sorted(FORMATS))}") from None
