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

# Encoded rows: (line, unique_id, fingerprint, cdr COPY line, tech COPY line or None, flagged, leg).
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
    """COPY text format: bytea as \\x hex (the backslash escaped), NULL as \\N, one line per row."""
    src_id = str(source_id)
    imp = str(import_id) if import_id is not None else "\\N"
    out: list[tuple] = []
    append, esc = out.append, _copy_text
    for cdr_id, r in zip(ids, rows):
        sid = str(cdr_id)
        name, tech, flags = r[R_NAME], r[R_TECH], r[R_FLAGS]
        line = "\t".join((
            sid, r[R_STARTED], src_id, esc(r[R_UID]), r[R_FP], imp,
            "\\N" if r[R_ACCOUNT] is None else str(r[R_ACCOUNT]),
            "\\N" if r[R_CONTRACTOR] is None else str(r[R_CONTRACTOR]),
            r[R_DIRECTION], r[R_DISPOSITION], r[R_ANSWERED] or "\\N", str(r[R_DURATION]), str(r[R_BILLSEC]),
            "\\\\x" + r[R_SRC].hex(), "\\\\x" + r[R_DST].hex(), r[R_SRC_IDX], r[R_DST_IDX],
            "\\N" if name is None else "\\\\x" + name.hex(), esc(r[R_ACCOUNT_CODE]), esc(flags),
            r[R_RATING], esc(r[R_ZONE]), r[R_PRICE] or "\\N", esc(r[R_LEG]), esc(r[R_CALL]),
        )) + "\n"
        tech_line = None if tech is None else f"{sid}\t{r[R_STARTED]}\t\\\\x{tech.hex()}\n"
        append((r[R_LINE], r[R_UID], r[R_FP], line, tech_line, bool(flags), r[R_LEG]))
    return out
