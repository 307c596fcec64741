"""CDR parsers, one small module per switch format. See base.py for the record they yield."""
from __future__ import annotations

from types import ModuleType
from typing import Callable

from . import asterisk_csv, asterisk_custom, freeswitch_csv, freeswitch_json

FORMATS: dict[str, ModuleType] = {
    module.FORMAT: module for module in (asterisk_csv, asterisk_custom, freeswitch_csv, freeswitch_json)
}


def get_parser(fmt: str) -> Callable:
    try:
        return FORMATS[fmt].parse
    except KeyError:
        raise ValueError(f"unknown CDR format {fmt!r}; known: {', '.join(sorted(FORMATS))}") from None
