"""Asterisk cdr_csv (Master.csv), no header. Checked against asterisk/asterisk cdr/cdr_csv.c:

accountcode, src, dst, dcontext, clid, channel, dstchannel, lastapp, lastdata, start, answer, end,
duration, billsec, disposition, amaflags (16 columns), then uniqueid when cdr.conf sets
`loguniqueid`, userfield when it sets `loguserfield`, and peeraccount, linkedid, sequence when it sets
`newcdrcolumns`: 16 to 21 columns. With 17 or 20 columns only one of uniqueid and userfield is there;
a value shaped like an Asterisk uniqueid ("1231977075.0", "<systemname>-1231977075.0") is read as
the uniqueid, anything else as the userfield. Times are the switch's local time unless the source is
declared UTC (cdr.conf `usegmtime`).
"""
from __future__ import annotations

from typing import BinaryIO, Iterator
from zoneinfo import ZoneInfo

from . import _asterisk
from .base import CallRecord, LocalTimes, RowError, csv_lines, refuse_cel

FORMAT = "asterisk-csv"
_BASE = _asterisk.FIELDS[:16]
_NEW = ("peeraccount", "linkedid", "sequence")
LAYOUTS = {
    16: _BASE,
    17: (_BASE + ("uniqueid",), _BASE + ("userfield",)),
    18: _asterisk.FIELDS,
    19: _BASE + _NEW,
    20: (_BASE + ("uniqueid",) + _NEW, _BASE + ("userfield",) + _NEW),
    21: _asterisk.FIELDS + _NEW,
}


def parse(stream: BinaryIO, *, tz: ZoneInfo, columns: str = "") -> Iterator[CallRecord | RowError]:
    lines = csv_lines(stream, widths=LAYOUTS.keys())
    return _asterisk.rows(lines, layouts=LAYOUTS, times=LocalTimes(tz), first_check=refuse_cel)
