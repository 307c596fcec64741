"""Reads of calls: one page of the call history (own, a contractor's Users', an invoice's itemised
bill), every call of a filter for the CSV export (and how many, up to a bound), and usage per month.
Each is purpose-bound (`require_purpose` audits the access) and scoped by purpose
(`traffic.selectors.scope`); numbers are shown in full to their owner and masked, without caller
names, to a contractor.

Calls whose month partition the purge dropped but kept in the hold table (retention_heldcdr: a
legal hold, an unpaid or disputed invoice) are read beside traffic_cdr through the CDR reader
(`traffic.selectors.cdr_reader`), in the same scope and with the same filters and cursor, so their
owner sees them as before the drop. Nothing read from there says why a call is kept (a disclosure
hold is secret).

The call history never counts: it pages by keyset on (started_at, id), which the index
cdr_account_time_idx (account, -started_at, -id) serves directly, and it reads plain tuples
(`values_list`), not model instances, because it is the hottest page of the portal. A page's calls come
with their notes (what the owner stated about a call, GDPR art. 16): one more query, over the page's ids,
under the same access (`traffic.selectors.annotations.notes_attached`).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone as dt_timezone
from decimal import Decimal
from types import SimpleNamespace
from typing import Any, Callable, Iterator, NamedTuple

from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import Count, QuerySet, Sum
from django.db.models.functions import Coalesce, TruncMonth
from django.utils.timezone import get_default_timezone, localdate, now
from django.utils.translation import gettext_noop

from voipxs.exceptions import ApplicationError
from voipxs.money import to_cent
from voipxs.privacy.audit import audit_access
from voipxs.privacy.phone import mask
from voipxs.privacy.purposes import Purpose, purposes_of, require_purpose
from voipxs.statements import statement
from voipxs.timeutil import day_start

from ..models import Cdr
from ..partitions import add_months
from ..rating import BILLED_PRICE, BILLED_SECONDS, billed_price, charged_stored_price
from .annotations import notes_attached
from .call_legs import call_key, calls_of
from .call_filters import _filtered, _number_index, _refuse_masked_number_filter, _scoped_held, default_region_of
from .cdr_reader import CallDecryptor, calls_newest, newest_rows, newest_statement
from .cursors import cursor_decode, cursor_encode
from .masking import MaskRule, mask_rule, masking_joined
from .scope import CALL_PURPOSES, call_scope_check, call_scope_q

LIMIT_INVALID = gettext_noop("The page size must be between 1 and 500.")
CALLS_NOT_FOR_PURPOSE = "This purpose does not allow reading calls."

MAX_LIMIT = 500

# The columns a call row is made of (`_to_row`), in this order; the CDR reader reads the same ones
# from the hold table, where the CDR's own id is `cdr_id`.
_ROW_FIELDS = (
    "id", "started_at", "answered_at", "direction", "disposition", "duration", "billsec",
    "src_enc", "dst_enc", "caller_name_enc", "zone", "price", "account_id", "invoice_id",
    "source_id", "unique_id", "call_id",  # the leg's call (call_legs); call_id last: "" in the hold table
)


class CallRow(NamedTuple):
    """One call as the portal shows it. `caller_name` is untrusted text from the switch. A named tuple,
    not a frozen dataclass: as immutable, and built in a third of the time (50 a page, bench/portal.py)."""

    id: int
    started_at: datetime
    answered_at: datetime | None
    direction: str
    disposition: str
    duration: int
    billsec: int
    own_number: str
    other_number: str
    caller_name: str
    zone: str
    price: Decimal | None
    account_id: int | None
    invoice_id: int | None
    masked: bool
    call_key: str = ""  # the call this leg belongs to (call_legs.call_key)
    legs: tuple = ()  # a call of several legs: each leg, in time order (call_legs.calls_of)
    notes: tuple = ()  # what its owner stated about it (annotations.CallNote, oldest first; a call: its legs')

    def get_direction_display(self) -> str:
        return str(Cdr.Direction(self.direction).label) if self.direction in Cdr.Direction.values else self.direction

    def get_disposition_display(self) -> str:
        return str(Cdr.Disposition(self.disposition).label) if self.disposition in Cdr.Disposition.values else self.disposition


@dataclass(frozen=True, slots=True)
class CallPage:
    rows: list[CallRow]
    next_cursor: str | None  # opaque; None on the last page
    itemised: bool = True  # False: bills without a call list, the contractor's or user's setting (masking.py)


@dataclass(frozen=True, slots=True)
class UsageMonth:
    month: date
    calls: int
    seconds: int
    amount: Decimal


# --- rows -------------------------------------------------------------------------------------------

def _to_rows(batch: list[tuple[tuple, bool]], decrypt: CallDecryptor, *, rule: MaskRule) -> list[CallRow]:
    """Call rows of (values, copied): numbers decrypted first, so masking looks them all up in one query. Calls
    the bill leaves off (free and helpline numbers, when the call cost nothing: `MaskRule.omits`, on the price
    the row already holds) are dropped here, before masking."""
    read = [(values, decrypt.row(values[1], held_id=values[0] if copied else None)) for values, copied in batch]
    numbers = [(values, reader, reader(values[7]), reader(values[8])) for values, reader in read]
    numbers = [(values, reader, src, dst) for values, reader, src, dst in numbers
               if not rule.omits(src if values[3] == Cdr.Direction.IN else dst, values[1], values[11])]
    rule.prepare(src if values[3] == Cdr.Direction.IN else dst for values, _, src, dst in numbers)
    stored = charged_stored_price(values[13] for values, *_ in numbers if values[6] > values[5])  # pre-cap rows'
    return [_to_row(values, reader, src, dst, rule=rule, stored=stored) for values, reader, src, dst in numbers]


def _to_row(values: tuple, read: Callable[[Any], str], src: str, dst: str, *, rule: MaskRule,
            stored: frozenset[int] = frozenset()) -> CallRow:
    (cdr_id, started_at, answered_at, direction, disposition, duration, billsec,
     _src_enc, _dst_enc, name_enc, zone, price, account_id, invoice_id, source_id, unique_id, call_id) = values[:17]
    own, other = (dst, src) if direction == Cdr.Direction.IN else (src, dst)
    masked = rule.mask_all
    if masked:
        own, other, name = mask(own), mask(other), ""
    elif rule.masks(other, started_at):  # a listed number, or its holder asked (Bude art. 4.2)
        other, name, masked = mask(other), "", True
    else:
        name = read(name_enc)
    # a row stored before the billsec cap: shown for the seconds and price it is billed (rating.BILLED_PRICE), or on
    # an invoice issued before that rule (`stored`), at the stored price that invoice charged
    price = price if invoice_id in stored else billed_price(price, billsec=billsec, duration=duration)
    billsec = min(billsec, duration)
    return CallRow(cdr_id, started_at, answered_at, direction, disposition, duration, billsec,
                   own, other, name, zone, price, account_id, invoice_id, masked,
                   call_key(source_id, unique_id, call_id))


def _sources(*, actor: Any, purpose: Purpose, account: Any, contractor: Any, region: str,
             **filters: Any) -> tuple[QuerySet[Cdr], QuerySet | None]:
    """The CDRs and the hold table's copies in the purpose's scope, with the same filters applied."""
    scope = call_scope_q(actor=actor, purpose=purpose, account=account, contractor=contractor)
    cdrs = _filtered(Cdr.objects.filter(scope), region=region, **filters)
    held = _scoped_held(scope, actor=actor, purpose=purpose)
    return cdrs, (_filtered(held, region=region, **filters) if held is not None else None)


# --- calls -------------------------------------------------------------------------------------------

def cdr_list(
    *,
    actor: Any,
    purpose: Purpose | str,
    account: Any = None,
    contractor: Any = None,
    since: date | datetime | None = None,
    until: date | datetime | None = None,
    direction: str | None = None,
    number: str | None = None,
    invoice: Any = None,
    after: str | None = None,
    limit: int = 50,
    masked: bool = False,
) -> CallPage:
    """One page of calls, newest first. `after` is the opaque cursor of the previous page.

    Numbers are decrypted for the caller, masked when the purpose demands it (CONTRACTOR_INFORMATION)
    or when `masked=True`. Never counts: the next page exists if one more row was found."""
    if not (1 <= int(limit) <= MAX_LIMIT):
        raise ApplicationError(LIMIT_INVALID, {"field": "limit"})
    filters = {"since": since, "until": until, "direction": direction, "invoice": invoice}
    cursor = cursor_decode(after) if after else None
    rule, sources = _checked_sources(actor=actor, purpose=purpose, action="cdr.list", account=account,
                                     contractor=contractor, masked=masked, number=number,
                                     audit={"number_filter": bool(number)}, lazy=True, **filters)
    if not rule.itemised:
        return CallPage(rows=[], next_cursor=None, itemised=False)
    noted = None  # the ids of the calls with a note, where the read's own statement says so
    if sources is None:  # the own history, unfiltered: the hottest page
        found = _own_newest(actor, cursor, n=limit + 1, rule=rule)
        noted = {values[0] for values, _copied in found[:limit] if values[_NOTED_AT]}
    else:
        found = calls_newest(*sources(), fields=_ROW_FIELDS, after=cursor, n=limit + 1)
    decrypt = CallDecryptor()
    rows = notes_attached(_to_rows(found[:limit], decrypt, rule=rule), purpose=purpose, noted=noted)
    last = rows[-1] if rows and len(rows) == limit else None  # else some were left off: page on after the read
    if last is None and len(found) > limit:
        last = SimpleNamespace(id=found[limit - 1][0][0], started_at=found[limit - 1][0][1])
    next_cursor = cursor_encode(last.started_at, last.id) if len(found) > limit else None
    return CallPage(rows=calls_of(rows), next_cursor=next_cursor)


_SENTINELS = (-7_300_013, datetime(1901, 2, 3, 4, 5, 6, 789_012, tzinfo=dt_timezone.utc), -7_300_017)

# The own history reads the stored blind indexes of both numbers too, before call_id (which the hold table
# annotates last, so it must stay last for the UNION to line up): `masking_joined` keys on them.
_OWN_FIELDS = (*_ROW_FIELDS[:-1], "src_index", "dst_index", _ROW_FIELDS[-1])


def _own_newest(actor: Any, after: tuple[datetime, int] | None, *, n: int, rule: MaskRule) -> list[tuple[tuple, bool]]:
    """`calls_newest` of the actor's own unfiltered history: the same statement, which the ORM compiles
    once per process and shape (voipxs.statements) instead of on every page, with what the masking list
    and the numbers' holders say of each call's other number (`masking_joined`): the page needs no
    masking query of its own but for a number stored otherwise than the list writes it."""
    def build(account_id: int, *cursor: Any) -> tuple[str, list]:
        stand_in = SimpleNamespace(pk=account_id, restricted_at=None)
        cdrs, held = _sources(actor=stand_in, purpose=Purpose.SELF_SERVICE, account=None, contractor=None, region="NL")
        return masking_joined(*newest_statement(cdrs, held, fields=_OWN_FIELDS, after=cursor or None, n=n),
                              columns=_OWN_FIELDS, keep=_ROW_FIELDS, reader_id=account_id, noted=True)

    count = 1 if after is None else 3
    key = ("own-calls", count, n)
    sql, params = statement(key, build, _SENTINELS[:count], (actor.pk, *(after or ())))
    found = newest_rows(sql, params, prepared=key)
    for values, _copied in found[:n - 1]:  # the page's rows; the last one only says whether there is more
        rule.known(*values[len(_ROW_FIELDS):_NOTED_AT])
    return found


_NOTED_AT = len(_ROW_FIELDS) + 4  # after the masking columns of `masking_joined`: whether the call has a note


def _is_own_plain(*, actor: Any, purpose: Purpose, account: Any, contractor: Any, **filters: Any) -> bool:
    """The own history with no filter, read through the hold table too (PostgreSQL, not restricted)."""
    return (purpose == Purpose.SELF_SERVICE and connection.vendor == "postgresql" and contractor is None
            and getattr(account, "pk", account) in (None, actor.pk) and not any(v is not None for v in filters.values())
            and getattr(actor, "restricted_at", None) is None)


def _require_call_purpose(*, actor: Any, purpose: Purpose | str, action: str, account: Any, contractor: Any = None,
                          extra: dict | None = None) -> Purpose:
    """`require_purpose` for a read of calls, recorded as refused wherever it is refused: a purpose that reads no
    calls (support's SECURITY, even where the role holds it), and a held purpose asked for calls outside its scope
    (another account's under SELF_SERVICE, another contractor's). Recorded as granted, the log showed a read that
    never happened."""
    target_id = getattr(account, "pk", account) or (actor.pk if purpose == Purpose.SELF_SERVICE else "")
    known = Purpose(purpose) if purpose in Purpose.values else None  # an unknown one: require_purpose refuses it
    if known is not None:
        reason = None
        if known not in CALL_PURPOSES:
            reason, refusal = "purpose reads no calls", PermissionDenied(CALLS_NOT_FOR_PURPOSE)
        elif known in purposes_of(actor):  # the role holds it: its scope decides before the grant
            try:
                call_scope_check(actor=actor, purpose=known, account=account, contractor=contractor)
            except PermissionDenied as exc:
                reason, refusal = "outside the purpose's scope", exc
        if reason is not None:
            audit_access(actor=actor, purpose=purpose, action=action, target_type="user", target_id=target_id,
                         outcome="refused", extra={**(extra or {}), "reason": reason})
            raise refusal
    return require_purpose(actor=actor, purpose=purpose, action=action, target_type="user", target_id=target_id,
                           extra=extra)


def _checked_sources(*, actor: Any, purpose: Purpose | str, action: str, account: Any, contractor: Any,
                     masked: bool, number: str | None, audit: dict | None = None, lazy: bool = False,
                     **filters: Any) -> tuple[MaskRule, Any]:
    """The access check of a list or an export (audited as `action`, with `audit` added to the entry)
    and its sources: (the masking rule, (cdrs, held)). Filters are validated here, so that a bad one is a
    400 before anything is read, streamed or queued. `lazy`: the sources as a function that builds them,
    or None for the own unfiltered history (`_own_newest` reads it)."""
    purpose = _require_call_purpose(
        actor=actor, purpose=purpose, action=action, account=account, contractor=contractor,
        extra={"masked": bool(masked) or purpose == Purpose.CONTRACTOR_INFORMATION, **(audit or {})},
    )
    masked = masked or purpose == Purpose.CONTRACTOR_INFORMATION
    _refuse_masked_number_filter(purpose=purpose, number=number)
    # The same reading of a typed number as the call list's, so a filter means the same in both.
    region = default_region_of(account if hasattr(account, "pk") else actor) if number else "NL"
    rule = mask_rule(actor=actor, purpose=purpose, invoice=filters.get("invoice"), masked=masked)
    if lazy and not number and _is_own_plain(actor=actor, purpose=purpose, account=account, contractor=contractor,
                                             **filters):
        return rule, None
    cdrs, held = _sources(actor=actor, purpose=purpose, account=account, contractor=contractor, number=number,
                          region=region, **filters)
    periods = rule.periods_q()  # the contractor's view: the calls of the periods that were itemised only
    if periods is not None:
        cdrs, held = cdrs.filter(periods), (held.filter(periods) if held is not None else None)
    if number and not rule.searchable(_number_index(number, region=region)):
        cdrs, held = cdrs.none(), None
    return rule, ((lambda: (cdrs, held)) if lazy else (cdrs, held))


def cdr_export_size(
    *,
    actor: Any,
    purpose: Purpose | str,
    at_most: int,
    account: Any = None,
    contractor: Any = None,
    since: date | datetime | None = None,
    until: date | datetime | None = None,
    direction: str | None = None,
    number: str | None = None,
    invoice: Any = None,
) -> int:
    """How many calls the export with these filters holds, counted only up to `at_most + 1`: a page of
    (id, started_at) read from the same index as the history's first page, never a count of the table.
    The export pages use it to choose between streaming the file at once and a task that writes it."""
    _masked, (cdrs, held) = _checked_sources(actor=actor, purpose=purpose, action="cdr.export_size", account=account,
                                          contractor=contractor, masked=False, since=since, until=until,
                                          direction=direction, number=number, invoice=invoice)
    return len(calls_newest(cdrs, held, fields=("id", "started_at"), after=None, n=at_most + 1))


def cdr_export_rows(
    *,
    actor: Any,
    purpose: Purpose | str,
    account: Any = None,
    contractor: Any = None,
    since: date | datetime | None = None,
    until: date | datetime | None = None,
    direction: str | None = None,
    number: str | None = None,
    invoice: Any = None,
    masked: bool = False,
    batch_size: int = 2000,
) -> Iterator[CallRow]:
    """Every matching call, newest first, fetched in keyset batches so that an export of years of
    calls streams in constant memory. The access is checked and audited once, before the first row;
    filters are validated eagerly so that a bad one is a 400 before streaming starts."""
    rule, (cdrs, held) = _checked_sources(actor=actor, purpose=purpose, action="cdr.export", account=account,
                                         contractor=contractor, masked=masked, since=since, until=until,
                                         direction=direction, number=number, invoice=invoice)

    def generate() -> Iterator[CallRow]:
        decrypt = CallDecryptor()
        after = None
        while rule.itemised:  # not itemised: the file holds the header only
            batch = calls_newest(cdrs, held, fields=_ROW_FIELDS, after=after, n=batch_size)
            yield from notes_attached(_to_rows(batch, decrypt, rule=rule), purpose=purpose)  # one read a batch
            if len(batch) < batch_size:
                return
            after = (batch[-1][0][1], batch[-1][0][0])

    return generate()


def cdr_usage_by_month(
    *,
    actor: Any,
    purpose: Purpose | str,
    account: Any = None,
    contractor: Any = None,
    months: int = 12,
    today: date | None = None,
) -> list[UsageMonth]:
    """Calls, seconds and amount per month for the last `months` months (oldest first), summed in
    SQL; months without calls appear with zeros so that a chart has no gaps. Months in Amsterdam, as the customer
    reads them (a call at 00:30 on 1 May is May's), counting up to this month there (`today`, an Amsterdam day)."""
    purpose = _require_call_purpose(actor=actor, purpose=purpose, action="cdr.usage", account=account,
                                    contractor=contractor)
    this_month = (today or localdate(now())).replace(day=1)
    first = add_months(this_month, -(months - 1))
    start = day_start(first)
    scope = call_scope_q(actor=actor, purpose=purpose, account=account, contractor=contractor)

    def per_month(qs: QuerySet) -> QuerySet:
        return (qs.filter(started_at__gte=start).annotate(m=TruncMonth("started_at", tzinfo=get_default_timezone()))
                .values("m").annotate(calls=Count("id"), seconds=Coalesce(Sum(BILLED_SECONDS), 0),
                                      amount=Sum(BILLED_PRICE)).order_by())

    totals = per_month(Cdr.objects.filter(scope))
    held = _scoped_held(scope, actor=actor, purpose=purpose)
    if held is not None:  # a dropped month's kept calls count in their month, in the same statement
        totals = totals.union(per_month(held), all=True)
    by_month: dict[date, dict] = {}
    for row in totals:
        key = row["m"].date() if isinstance(row["m"], datetime) else row["m"]
        if key in by_month:
            seen = by_month[key]
            row = {"calls": seen["calls"] + row["calls"], "seconds": seen["seconds"] + row["seconds"],
                   "amount": (seen["amount"] or 0) + (row["amount"] or 0)}
        by_month[key] = row
    result = []
    for i in range(months):
        month = add_months(first, i)
        row = by_month.get(month)
        result.append(UsageMonth(
            month=month,
            calls=row["calls"] if row else 0,
            seconds=int(row["seconds"]) if row else 0,
            amount=to_cent(row["amount"] if row else None),
        ))
    return result
