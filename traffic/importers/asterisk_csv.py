"""Asterisk cdr_csv (Master.csv), no header.

16 columns: accountcode, src, dst, dcontext, clid, channel, dstchannel, lastapp, lastdata, start,
answer, end, duration, billsec, disposition, amaflags; 18 with uniqueid and userfield (the shipped
sample configuration, `loguniqueid` and `loguserfield`). Times are the switch's local time unless
the source is declared UTC (cdr.conf `usegmtime`).
"""
from __future__ import annotations

from typing import BinaryIO, Iterator
from zoneinfo import ZoneInfo

from . import _asterisk
from .base import CallRecord, LocalTimes, RowError, csv_lines, refuse_cel

FORMAT = "asterisk-csv"
LAYOUTS = {16: _asterisk.FIELDS[:16], 18: _asterisk.FIELDS}


def parse(stream: BinaryIO, *, tz: ZoneInfo) -> Iterator[CallRecord | RowError]:
    lines = csv_lines(stream, widths=LAYOUTS.keys())
    return _asterisk.rows(lines, layouts=LAYOUTS, times=LocalTimes(tz), first_check=refuse_cel)
