"""CDR parsers, one small module per switch format (`asterisk_csv`, `asterisk_custom`, `freeswitch_csv`,
`freeswitch_json`, `freeswitch_xml`, `kamailio_acc`; the two Asterisk layouts share `_asterisk`). Each
`parse(stream, tz=..., columns=...)` takes the source's declared layout (`layouts`: a cdr_custom
mapping line, a mod_cdr_csv template) where its format has one. `base` holds the record they yield
(CallRecord, or RowError for a broken row), strict CSV reading and time conversion; `sniff` says from
its first bytes when a file is no CDR text at all (an image, random bytes, UTF-16), refused whole."""
from __future__ import annotations

from types import ModuleType
from typing import Callable

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


def get_parser(fmt: str) -> Callable:
    try:
        return FORMATS[fmt].parse
    except KeyError:
        raise ValueError(f"unknown CDR format {fmt!r}; known: {', '.join(sorted(FORMATS))}") from None
