"""Prepared rows (rows.R_*) as PostgreSQL COPY text, with their ids from traffic_cdr's sequence: made by
the PostgreSQL writer (writers.py) for the rows it prepared, and by the preparing processes of a large
import (parallel.py) for theirs, so both store exactly the same lines."""
from __future__ import annotations

from django.db import connection

from .rows import (
    R_ACCOUNT, R_ACCOUNT_CODE, R_ANSWERED, R_BILLSEC, R_CALL, R_CONTRACTOR, R_DIRECTION, R_DISPOSITION, R_DST,
    R_DST_IDX, R_DURATION, R_FLAGS, R_FP, R_LEG, R_LINE, R_NAME, R_PRICE, R_RATING, R_SRC, R_SRC_IDX, R_STARTED,
    R_TECH, R_UID, R_ZONE,
)

# copy_encode unpacks a row in this order: the R_* positions must be exactly these.
assert (R_LINE, R_UID, R_FP, R_STARTED, R_ACCOUNT, R_CONTRACTOR, R_DIRECTION, R_DISPOSITION, R_ANSWERED, R_DURATION,
        R_BILLSEC, R_SRC, R_DST, R_SRC_IDX, R_DST_IDX, R_NAME, R_ACCOUNT_CODE, R_FLAGS, R_RATING, R_ZONE, R_PRICE,
        R_TECH, R_LEG, R_CALL) == tuple(range(24))

# Encoded rows: (line, unique_id, fingerprint, cdr COPY line, tech COPY line or None, flags text ("": none), leg).
E_CDR, E_TECH, E_FLAGGED, E_LEG = 3, 4, 5, 6

# No NUL: rows.py rejects a text holding one, and COPY refuses one that got through (never cut out
# silently, which would change a call id).
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(value: str) -> str:
    if "\\" in value or not value.isprintable():
        return value.translate(_COPY_ESCAPES)
    return value


def cdr_ids_reserve(count: int) -> list[int]:
    """`count` ids from traffic_cdr's sequence (unused ones, of duplicates, are gaps as with any sequence)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval('traffic_cdr_id_seq') FROM generate_series(1, %s)", [count])
        return [row[0] for row in cursor.fetchall()]


def copy_encode(rows: list[tuple], ids: list[int], source_id: int, import_id: int | None) -> list[tuple]:
    """COPY text format: bytea as \\x hex (the backslash escaped), NULL as \\N, one line per row.

    A row is unpacked at once and its line made by one f-string (no tuple to join, no R_* looked up per
    field), and the texts that are mostly empty are escaped only when they are not: 0.4 µs of 3 a row."""
    src_id = str(source_id)
    imp = str(import_id) if import_id is not None else _NULL
    out: list[tuple] = []
    append, esc = out.append, _copy_text
    for cdr_id, row in zip(ids, rows):
        (line_no, uid, fp, started, account, contractor, direction, disposition, answered, duration, billsec,
         src, dst, src_idx, dst_idx, name, account_code, flags, rating, zone, price, tech, leg, call) = row
        sid = str(cdr_id)
        line = (
            f"{sid}\t{started}\t{src_id}\t{esc(uid)}\t{fp}\t{imp}\t"
            f"{_NULL if account is None else account}\t{_NULL if contractor is None else contractor}\t"
            f"{direction}\t{disposition}\t{answered or _NULL}\t{duration}\t{billsec}\t"
            f"{_HEX}{src.hex()}\t{_HEX}{dst.hex()}\t{src_idx}\t{dst_idx}\t"
            f"{_NULL if name is None else _HEX + name.hex()}\t{esc(account_code) if account_code else ''}\t"
            f"{esc(flags) if flags else ''}\t{rating}\t{esc(zone) if zone else ''}\t{price or _NULL}\t"
            f"{esc(leg) if leg else ''}\t{esc(call) if call else ''}\n"
        )
        tech_line = None if tech is None else f"{sid}\t{started}\t{_HEX}{tech.hex()}\n"
        append((line_no, uid, fp, line, tech_line, flags or "", leg))
    return out


_NULL = "\\N"
_HEX = "\\\\x"  # a bytea's \x, its backslash escaped for COPY
