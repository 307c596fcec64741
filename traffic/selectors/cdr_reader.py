"""The one reader of CDR rows. The call pages, usage and CSV export (`traffic.selectors.calls`), the
data-subject export and erasure (`traffic.sections`) and the disclosure production
(`disclosures.selectors`) all read calls through here, because each needs the same two things:

- the union of live CDRs (traffic_cdr) and the copies a month drop kept in the hold table (a legal
  hold, an unpaid or disputed invoice): retention's table, registered here as `KeptCopies` because
  retention sits above traffic and traffic never imports it. Both are read with the same filter on
  the columns the two tables share; a copy's id is the CDR's own id (`cdr_id` there), so one id
  and one cursor run through both. Nothing read from the copies says why a call is kept (a
  disclosure hold is secret);
- decryption (`CallDecryptor`): a live call's numbers under its month's data key, unwrapped once
  per month per read, however many rows; a copy's under the master key (`KeptCopies.decrypt`).

It checks no purpose and records no access: its callers do both before they read.

Field tuples given here name traffic_cdr's columns and start with ("id", "started_at"); the hold
table's are the same with "cdr_id" for "id" (`held_fields`).
"""
from __future__ import annotations

import heapq
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Callable, Hashable, Iterator

from django.db import connection
from django.db.models import CharField, Func, Q, QuerySet, Value

from voipxs.fetch_ahead import rows_fetched_ahead
from voipxs.privacy.audit import recorded_execute
from voipxs.statements import execute_prepared

from ..keys import MonthKeyDestroyed, MonthKeyMissing, month_cipher
from ..models import Cdr
from ..partitions import month_start, partitioning_enabled

_CHUNK = 5000
# Rows a fetch-ahead batch holds: with one batch being read and one fetched, two of these (about
# 2 kB a call as Python objects) are what the export keeps in memory for its reads.
_AHEAD = 2000

# A reader of one row's number fields: read(token) -> plain text ("" for a NULL field).
FieldReader = Callable[[Any], "str | None"]


# --- copies a month drop kept ------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class KeptCopies:
    """Where the purge keeps the calls of a dropped month (retention.models.HeldCdr: the CDR's columns,
    its id as `cdr_id`, numbers under the master key) and how to read one number field of them.
    retention sits above traffic and registers this when it is loaded; traffic never imports it."""

    model: Any
    decrypt: Callable[..., str]  # decrypt(*, cdr_id, token) -> str


_registered: KeptCopies | None = None


def register_kept_copies(*, model: Any, decrypt: Callable[..., str]) -> None:
    global _registered
    _registered = KeptCopies(model=model, decrypt=decrypt)


def kept_copies_registered() -> KeptCopies | None:
    """The registration itself, whatever the database (None until retention has loaded)."""
    return _registered


def kept_copies() -> KeptCopies | None:
    """The registered hold table, or None where months are never dropped (SQLite: no partitions, so
    the table stays empty and the call pages run exactly the queries they ran before it existed)."""
    return _registered if partitioning_enabled() else None


def held_fields(fields: tuple[str, ...]) -> tuple[str, ...]:
    """The same columns in the hold table, where the CDR's own id is `cdr_id`."""
    return tuple("cdr_id" if name == "id" else name for name in fields)


def held_matching(q: Q) -> QuerySet | None:
    """The hold table's copies matching `q` (a filter on the columns both tables share, such as
    account_id, contractor_id, restricted_at), or None where months are never dropped."""
    copies = kept_copies()
    if copies is None:
        return None
    # A copy keeps no call_id (the hold table predates legs): its call is its unique_id. Annotated
    # last, so a read that names call_id last lines up with traffic_cdr's columns in a UNION.
    return copies.model.objects.filter(q).annotate(call_id=Value("", output_field=CharField()))


# --- decryption --------------------------------------------------------------------------------------

class CallDecryptor:
    """Reads the number fields (src_enc, dst_enc, caller_name_enc) of the rows of one read: a live
    call's under its month's data key, each month's key fetched once per read (rows mostly come in
    time order: one dict hit per row); a copy's under the master key, with its CDR id as associated
    data. A NULL field reads as "".

    `shredded` is what a field reads as when its month's key is gone (destroyed when the month was
    purged, or never made): "" on the portal's pages, None in the data-subject export (those numbers
    no longer exist anywhere), or `CallDecryptor.RAISE`: the error is raised (a disclosure production
    fails rather than hand over blank numbers)."""

    RAISE: Any = object()

    __slots__ = ("_months", "_shredded")

    def __init__(self, *, shredded: Any = "") -> None:
        self._months: dict[tuple[int, int] | str, FieldReader] = {}
        self._shredded = shredded

    def row(self, started_at: datetime | str, *, held_id: int | None = None) -> FieldReader:
        """The reader of one row's fields; `held_id`: the row is a copy from the hold table (its cdr_id).
        `started_at` is the call's start, or its UTC text as `UtcIsoText` writes it."""
        if held_id is not None:
            decrypt = _registered.decrypt
            return lambda token: "" if token is None else decrypt(cdr_id=held_id, token=token)
        if type(started_at) is str:  # UTC text (UtcIsoText): its month is its first 7 characters
            reader = self._months.get(started_at[:7])
            if reader is None:
                month = date(int(started_at[:4]), int(started_at[5:7]), 1)
                reader = self._months[started_at[:7]] = self._month_reader(month)
            return reader
        if started_at.utcoffset():  # not UTC: the calendar month must be taken in UTC
            first = month_start(started_at)
            key = (first.year, first.month)
        else:
            key = (started_at.year, started_at.month)
        reader = self._months.get(key)
        if reader is None:
            reader = self._months[key] = self._month_reader(date(key[0], key[1], 1))
        return reader

    def _month_reader(self, month: date) -> FieldReader:
        try:
            cipher = month_cipher(month)
        except (MonthKeyDestroyed, MonthKeyMissing) as exc:
            error, shredded = exc, self._shredded
            if shredded is CallDecryptor.RAISE:
                def refuse(token: Any) -> str:
                    if token is None:
                        return ""
                    raise error
                return refuse
            return lambda token: "" if token is None else shredded
        return cipher.reader(null="")


class UtcIsoText(Func):
    """PostgreSQL: a timestamp as the text `datetime.isoformat()` gives for it in UTC
    ("2026-01-15T10:01:00+00:00", ".123456" before the offset when there are microseconds), made
    by the server, so that a long read (the data-subject export) neither parses nor formats it in
    Python. Texts of the one format sort as their times do ("+" before ".")."""

    output_field = CharField()
    template = ("(to_char(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS') || CASE WHEN "
                "date_trunc('second', %(expressions)s AT TIME ZONE 'UTC') = %(expressions)s AT TIME ZONE 'UTC' "
                "THEN '' ELSE to_char(%(expressions)s AT TIME ZONE 'UTC', '.US') END || '+00:00')")


# --- the union of live calls and kept copies -------------------------------------------------------------

def _older_than(qs: QuerySet, after: tuple[datetime, int] | None, *, id_field: str) -> QuerySet:
    if after is None:
        return qs
    at, cdr_id = after
    return qs.filter(Q(started_at__lt=at) | Q(started_at=at, **{f"{id_field}__lt": cdr_id}))


def calls_newest(cdrs: QuerySet[Cdr], held: QuerySet | None, *, fields: tuple[str, ...],
                 after: tuple[datetime, int] | None, n: int) -> list[tuple[tuple, bool]]:
    """Up to `n` rows (`fields`) of both sources, newest first on (started_at, id), each with "is a
    copy from the hold table"; a copy's id is the CDR's own id (HeldCdr.cdr_id), so one cursor pages
    through both. `held` is None where there is no hold table to read (see `held_matching`).

    Both sources are read in ONE statement, `(cdr ... LIMIT n) UNION ALL (heldcdr ... LIMIT n) ORDER
    BY started_at DESC, id DESC LIMIT n`: each branch is an index range scan that stops after n rows
    (cdr_account_time_idx, heldcdr_account_time_idx) and PostgreSQL merges them (Merge Append), so
    nothing beyond the page is read. The hold table cannot be skipped on a full CDR page: copies can
    sit between CDRs in time (months are not dropped in order: one late invoice keeps a month while a
    later month goes). Measured on bench/portal.py data (1M CDRs, 1,000 accounts, empty hold table;
    1,500 first pages each, interleaved; load 3-4 on 2 cores), query and its compilation, p50: CDRs
    alone 0.88-0.91 ms; with an EXISTS on the hold table 1.07-1.16 ms (and a third query for an account
    that has copies); this statement 1.20-1.23 ms; Django's `.union()` 1.30 ms (compiling the
    combinator costs more than PostgreSQL's share, about 0.1 ms). One statement it is: within 0.1 ms
    of the EXISTS (a page is 9-12 ms), one round trip, and the same cost with or without copies."""
    if held is None:
        return [(values, False) for values in _newest(cdrs, after, fields=fields, n=n)]
    return newest_rows(*newest_statement(cdrs, held, fields=fields, after=after, n=n))


def _newest(cdrs: QuerySet, after: tuple[datetime, int] | None, *, fields: tuple[str, ...], n: int) -> QuerySet:
    return _older_than(cdrs, after, id_field="id").order_by("-started_at", "-id").values_list(*fields)[:n]


def newest_statement(cdrs: QuerySet, held: QuerySet, *, fields: tuple[str, ...], after: tuple[datetime, int] | None,
                     n: int) -> tuple[str, list]:
    """The statement of `calls_newest` when it reads both sources."""
    held = _older_than(held, after, id_field="cdr_id").order_by("-started_at", "-cdr_id")
    cdr_sql, cdr_params = _newest(cdrs, after, fields=fields, n=n).query.sql_with_params()
    held_sql, held_params = held.values_list(*held_fields(fields))[:n].query.sql_with_params()
    # Reviewed: both parts are SQL the ORM compiled; every value stays a bound parameter.
    # Columns 2 and 1: started_at and id (cdr_id), as in both branches.
    return (f"SELECT *, false FROM ({cdr_sql}) c UNION ALL SELECT *, true FROM ({held_sql}) h "  # nosec B608
            "ORDER BY 2 DESC, 1 DESC LIMIT %s", [*cdr_params, *held_params, n])


def newest_rows(sql: str, params: list, *, prepared: Hashable | None = None) -> list[tuple[tuple, bool]]:
    """`prepared`: the statement's shape key, to run it as a prepared statement (voipxs.statements). The
    request's pending access records go with the read where they can (voipxs.privacy.audit.recorded_execute)."""
    with connection.cursor() as cursor:
        execute = recorded_execute(cursor)
        if prepared is not None:
            execute_prepared(cursor, prepared, sql, params, execute)
        else:
            execute(sql, params)
        return [(values[:-1], values[-1]) for values in cursor.fetchall()]


def _time_order(item: tuple[tuple, FieldReader]) -> tuple:
    values = item[0]
    return values[1], values[0]  # (started_at, id)


def calls_in_time_order(*, q: Q, fields: tuple[str, ...], decrypt: CallDecryptor,
                        computed: dict[str, Any] | None = None) -> Iterator[tuple[tuple, FieldReader]]:
    """Every call matching `q`, live and kept copies merged, oldest first on (started_at, id), each with
    the reader of its number fields. Streamed from the database (the live calls fetched ahead by a
    thread, `voipxs.fetch_ahead`, the copies with `.iterator()`), so a person's 100,000 calls keep
    memory flat. `computed`: expressions over the columns both tables share, named in `fields`; the
    second field may be the start as `UtcIsoText` (its text sorts as the time does)."""
    computed = computed or {}

    def live() -> Iterator[tuple[tuple, FieldReader]]:
        qs = Cdr.objects.filter(q).annotate(**computed).order_by("started_at", "id").values_list(*fields)
        for values in rows_fetched_ahead(qs, _AHEAD):
            yield values, decrypt.row(values[1])

    def held() -> Iterator[tuple[tuple, FieldReader]]:
        copies = held_matching(q)
        if copies is None:
            return
        qs = copies.annotate(**computed).order_by("started_at", "cdr_id").values_list(*held_fields(fields))
        for values in qs.iterator(chunk_size=_CHUNK):
            yield values, decrypt.row(values[1], held_id=values[0])

    return heapq.merge(live(), held(), key=_time_order)


def calls_matching(*, filters: list[Q], fields: tuple[str, ...],
                   decrypt: CallDecryptor) -> Iterator[tuple[tuple, FieldReader]]:
    """Every call matching any of `filters`, each once, with the reader of its number fields: the live
    CDRs one query per filter (so that each is one index range scan: (src_index, started_at),
    (dst_index, started_at), (account, started_at)), then the kept copies matching any of them, by
    time. Not in one order: the caller sorts what it keeps."""
    seen: set[int] = set()
    for q in filters:
        for values in Cdr.objects.filter(q).values_list(*fields).iterator(chunk_size=_CHUNK):
            if values[0] not in seen:
                seen.add(values[0])
                yield values, decrypt.row(values[1])
    copies = held_matching(_any_of(filters))
    if copies is None:
        return
    for values in copies.order_by("started_at", "cdr_id").values_list(*held_fields(fields)).iterator(chunk_size=_CHUNK):
        if values[0] not in seen:
            seen.add(values[0])
            yield values, decrypt.row(values[1], held_id=values[0])


def _any_of(filters: list[Q]) -> Q:
    combined = Q(pk__in=[])  # matches nothing: no filter, no row
    for q in filters:
        combined |= q
    return combined
