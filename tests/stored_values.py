"""What the database holds, for tests that must show a value is kept nowhere: every column of every row of every
table (side tables, PostgreSQL partitions and detached month tables included), read with plain SQL; and the
encrypted values of stored calls, decrypted, since a raw scan cannot see inside them."""
from __future__ import annotations

import json

from django.db import connection

from traffic.keys import decrypt_number, month_cipher
from traffic.models import Cdr, CdrTechnical
from traffic.partitions import month_start


def _text(value: object) -> str:
    if isinstance(value, (bytes, memoryview)):
        return bytes(value).decode("latin-1")
    return "" if value is None else str(value)


def columns_holding(*needles: str) -> list[str]:
    """'table.column' of each stored value that contains one of `needles` (case-insensitive)."""
    wanted = [n.lower() for n in needles]
    found = []
    with connection.cursor() as cursor:
        for table in sorted(connection.introspection.table_names(cursor)):
            columns = [c.name for c in connection.introspection.get_table_description(cursor, table)]
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # nosec B608: names from the catalogue
            for row in cursor.fetchall():
                found += [f"{table}.{column}" for column, value in zip(columns, row)
                          if any(n in _text(value).lower() for n in wanted)]
    return sorted(set(found))


def decrypted_call_values(cdr: Cdr) -> list[str]:
    """The numbers, caller name and technical identifiers of one stored call, in clear."""
    values = [decrypt_number(token, started_at=cdr.started_at) for token in (cdr.src_enc, cdr.dst_enc,
                                                                            cdr.caller_name_enc) if token]
    cipher = month_cipher(month_start(cdr.started_at))
    for tech in CdrTechnical.objects.filter(cdr_id=cdr.id):
        values += [str(v) for v in json.loads(cipher.decrypt(bytes(tech.payload_enc))).values()]
    return values
