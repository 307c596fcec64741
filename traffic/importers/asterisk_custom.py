"""Asterisk cdr_custom: the operator's own mapping line of cdr_custom.conf (Source.columns, read by
layouts.asterisk_mapping), or, without one, the default mapping of cdr_custom.conf.sample:

Master.csv => ${CSV_QUOTE(${CDR(clid)})},${CSV_QUOTE(${CDR(src)})},${CSV_QUOTE(${CDR(dst)})},
  ${CSV_QUOTE(${CDR(dcontext)})},${CSV_QUOTE(${CDR(channel)})},${CSV_QUOTE(${CDR(dstchannel)})},
  ${CSV_QUOTE(${CDR(lastapp)})},${CSV_QUOTE(${CDR(lastdata)})},${CSV_QUOTE(${CDR(start)})},
  ${CSV_QUOTE(${CDR(answer)})},${CSV_QUOTE(${CDR(end)})},${CSV_QUOTE(${CDR(duration)})},
  ${CSV_QUOTE(${CDR(billsec)})},${CSV_QUOTE(${CDR(disposition)})},${CSV_QUOTE(${CDR(amaflags)})},
  ${CSV_QUOTE(${CDR(accountcode)})},${CSV_QUOTE(${CDR(uniqueid)})},${CSV_QUOTE(${CDR(userfield)})},
  ${CDR(sequence)}

19 columns: clid first, accountcode 16th, sequence last. Its "High Resolution Time" variant writes
`duration,f` and `billsec,f` as decimals, which parse_int rounds; `${CDR(start,u)}` writes epochs (UTC).
"""
from __future__ import annotations

from typing import BinaryIO, Iterator
from zoneinfo import ZoneInfo

from . import _asterisk
from .base import CallRecord, LocalTimes, RowError, csv_lines, refuse_cel
from .layouts import asterisk_mapping

FORMAT = "asterisk-custom"
COLUMNS = ("clid", "src", "dst", "dcontext", "channel", "dstchannel", "lastapp", "lastdata", "start",
           "answer", "end", "duration", "billsec", "disposition", "amaflags", "accountcode", "uniqueid",
           "userfield", "sequence")


def parse(stream: BinaryIO, *, tz: ZoneInfo, columns: str = "") -> Iterator[CallRecord | RowError]:
    names, epochs = asterisk_mapping(columns) if columns.strip() else (COLUMNS, frozenset())
    layouts = {len(names): names}
    lines = csv_lines(stream, widths=layouts.keys())
    return _asterisk.rows(lines, layouts=layouts, times=LocalTimes(tz), first_check=refuse_cel, epochs=epochs)
