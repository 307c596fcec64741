"""Every read of call data and invoices: purpose-bound (`require_purpose` audits each access) and
scoped by purpose, so that a caller can only ever get what its purpose allows:

- SELF_SERVICE: the actor's own account, numbers in full;
- CONTRACTOR_INFORMATION: the actor's contractor's Users, numbers masked, no caller names;
- BILLING, DISPUTE, LEGAL_OBLIGATION: staff-wide;
- anything else: PermissionDenied.

Restricted rows (GDPR art. 18, `restricted_at` set) are left out unless the purpose is
LEGAL_OBLIGATION or DISPUTE, in every selector here.

The call history never counts: it pages by keyset on (started_at, id), which the index
cdr_account_time_idx (account, -started_at, -id) serves directly, and it reads plain tuples
(`values_list`), not model instances, because it is the hottest page of the portal.
"""
from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone as dt_timezone
from decimal import Decimal
from typing import Any, Iterator

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import Coalesce, TruncMonth
from django.http import Http404

from voipxs.crypto import blind_index
from voipxs.exceptions import ApplicationError
from voipxs.phone import InvalidNumber, mask, normalize_e164
from voipxs.purposes import Purpose, require_purpose

from .keys import MonthKeyDestroyed, MonthKeyMissing, month_cipher
from .models import Cdr, Invoice, InvoiceLine, Source
from .partitions import add_months, month_start

CURSOR_INVALID = "This page link is not valid (malformed cursor); start again from the first page."
NUMBER_INVALID = "Enter a phone number, e.g. +31 20 555 0101 or 020 555 0101."
DIRECTION_INVALID = "Direction must be one of: in, out, internal."
LIMIT_INVALID = "The page size must be between 1 and 500."
PERIOD_INVALID = "The start date must not be after the end date."
MONTH_INVALID = "Give the month as YYYY-MM."
DATE_INVALID = "This date is out of range."

MAX_LIMIT = 500
# Purposes that see restricted rows: the law (art. 18(2) GDPR) and the defence of legal claims.
_SEES_RESTRICTED = frozenset({Purpose.LEGAL_OBLIGATION, Purpose.DISPUTE})
_STAFF_WIDE = frozenset({Purpose.BILLING, Purpose.DISPUTE, Purpose.LEGAL_OBLIGATION})
_CALL_PURPOSES = _STAFF_WIDE | {Purpose.SELF_SERVICE, Purpose.CONTRACTOR_INFORMATION}

_ROW_FIELDS = (
    "id", "started_at", "answered_at", "direction", "disposition", "duration", "billsec",
    "src_enc", "dst_enc", "caller_name_enc", "zone", "price", "account_id", "invoice_id",
)


@dataclass(frozen=True, slots=True)
class CallRow:
    """One call as the portal shows it. `caller_name` is untrusted text from the switch."""

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

    def get_direction_display(self) -> str:
        return str(Cdr.Direction(self.direction).label) if self.direction in Cdr.Direction.values else self.direction

    def get_disposition_display(self) -> str:
        return str(Cdr.Disposition(self.disposition).label) if self.disposition in Cdr.Disposition.values else self.disposition


@dataclass(frozen=True, slots=True)
class CallPage:
    rows: list[CallRow]
    next_cursor: str | None  # opaque; None on the last page


@dataclass(frozen=True, slots=True)
class UsageMonth:
    month: date
    calls: int
    seconds: int
    amount: Decimal


# --- cursors --------------------------------------------------------------------------------------

def cursor_encode(started_at: datetime, cdr_id: int) -> str:
    micros = int(started_at.timestamp() * 1_000_000)
    return base64.urlsafe_b64encode(f"{micros}.{cdr_id}".encode()).decode().rstrip("=")


def cursor_decode(cursor: str) -> tuple[datetime, int]:
    """Raises ApplicationError (field "cursor") for anything that is not a cursor we made."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
        micros_text, id_text = text.split(".")
        micros, cdr_id = int(micros_text), int(id_text)
        if cdr_id <= 0 or not (0 <= micros < 10**17):
            raise ValueError
        moment = datetime(1970, 1, 1, tzinfo=dt_timezone.utc) + timedelta(microseconds=micros)
    except (ValueError, UnicodeDecodeError, binascii.Error, OverflowError):
        raise ApplicationError(CURSOR_INVALID, {"field": "cursor"}) from None
    return moment, cdr_id


# --- scoping ----------------------------------------------------------------------------------------

def default_region_of(account: Any) -> str:
    """The region a number typed by or for this account is read in (national format)."""
    contractor = getattr(account, "contractor", None) if account is not None else None
    return getattr(contractor, "default_country", None) or "NL"


def _number_index(number: str, *, region: str) -> str:
    try:
        return blind_index(normalize_e164(number.strip(), region), domain="phone")
    except InvalidNumber:
        raise ApplicationError(NUMBER_INVALID, {"field": "number"}) from None


def _as_datetime(value: date | datetime, *, end: bool = False) -> datetime:
    """A date means the whole day in the site's time zone: `since` its start, `until` its end."""
    if isinstance(value, datetime):
        return value
    from django.utils import timezone as dj_tz

    try:
        day = value + timedelta(days=1) if end else value
        moment = datetime.combine(day, time.min, tzinfo=dj_tz.get_default_timezone())
        moment.astimezone(dt_timezone.utc)  # the database compares in UTC: the edge years overflow here
    except OverflowError:
        raise ApplicationError(DATE_INVALID, {"field": "until" if end else "since"}) from None
    return moment


def _scoped_cdrs(*, actor: Any, purpose: Purpose, account: Any = None, contractor: Any = None) -> QuerySet[Cdr]:
    qs = Cdr.objects.all()
    if purpose == Purpose.SELF_SERVICE:
        if account is not None and getattr(account, "pk", account) != actor.pk:
            raise PermissionDenied("You can only see your own calls.")
        qs = qs.filter(account_id=actor.pk)
    elif purpose == Purpose.CONTRACTOR_INFORMATION:
        if not getattr(actor, "contractor_id", None):
            raise PermissionDenied("You are not the admin of a contractor.")
        if contractor is not None and getattr(contractor, "pk", contractor) != actor.contractor_id:
            raise PermissionDenied("You can only see your own contractor's traffic.")
        qs = qs.filter(contractor_id=actor.contractor_id)
        if account is not None:
            qs = qs.filter(account_id=getattr(account, "pk", account))
    elif purpose in _STAFF_WIDE:
        if account is not None:
            qs = qs.filter(account_id=getattr(account, "pk", account))
        if contractor is not None:
            qs = qs.filter(contractor_id=getattr(contractor, "pk", contractor))
    else:
        raise PermissionDenied("This purpose does not allow reading calls.")
    if purpose not in _SEES_RESTRICTED:
        qs = qs.filter(restricted_at__isnull=True)
    return qs


def _filtered(qs: QuerySet[Cdr], *, since=None, until=None, direction: str | None = None,
              number: str | None = None, region: str = "NL", invoice: Any = None) -> QuerySet[Cdr]:
    if direction:
        if direction not in Cdr.Direction.values:
            raise ApplicationError(DIRECTION_INVALID, {"field": "direction"})
        qs = qs.filter(direction=direction)
    start = _as_datetime(since) if since is not None else None
    stop = _as_datetime(until, end=True) if until is not None else None
    if start is not None and stop is not None and start >= stop:
        raise ApplicationError(PERIOD_INVALID, {"field": "since"})
    if start is not None:
        qs = qs.filter(started_at__gte=start)
    if stop is not None:
        qs = qs.filter(started_at__lt=stop)
    if number:
        index = _number_index(number, region=region)
        qs = qs.filter(Q(src_index=index) | Q(dst_index=index))
    if invoice is not None:
        qs = qs.filter(invoice_id=getattr(invoice, "pk", invoice))
    return qs


# --- decryption ------------------------------------------------------------------------------------

class _Decryptor:
    """Decrypts with each month's key, fetched once per page; a shredded month reads as empty."""

    def __init__(self) -> None:
        self._ciphers: dict[date, Any] = {}

    def __call__(self, token: Any, started_at: datetime) -> str:
        if token is None:
            return ""
        month = month_start(started_at)
        cipher = self._ciphers.get(month)
        if cipher is None:
            try:
                cipher = month_cipher(month)
            except (MonthKeyDestroyed, MonthKeyMissing):
                cipher = False
            self._ciphers[month] = cipher
        if cipher is False:
            return ""
        return cipher.decrypt(bytes(token))


def _to_row(values: tuple, decrypt: _Decryptor, *, masked: bool) -> CallRow:
    (cdr_id, started_at, answered_at, direction, disposition, duration, billsec,
     src_enc, dst_enc, name_enc, zone, price, account_id, invoice_id) = values
    src, dst = decrypt(src_enc, started_at), decrypt(dst_enc, started_at)
    own, other = (dst, src) if direction == Cdr.Direction.IN else (src, dst)
    if masked:
        own, other, name = mask(own), mask(other), ""
    else:
        name = decrypt(name_enc, started_at)
    return CallRow(cdr_id, started_at, answered_at, direction, disposition, duration, billsec,
                   own, other, name, zone, price, account_id, invoice_id, masked)


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
    purpose = require_purpose(
        actor=actor, purpose=purpose, action="cdr.list", target_type="user",
        target_id=getattr(account, "pk", account) or (actor.pk if purpose == Purpose.SELF_SERVICE else ""),
        extra={"masked": bool(masked) or purpose == Purpose.CONTRACTOR_INFORMATION, "number_filter": bool(number)},
    )
    if purpose not in _CALL_PURPOSES:
        raise PermissionDenied("This purpose does not allow reading calls.")
    if not (1 <= int(limit) <= MAX_LIMIT):
        raise ApplicationError(LIMIT_INVALID, {"field": "limit"})
    masked = masked or purpose == Purpose.CONTRACTOR_INFORMATION
    qs = _scoped_cdrs(actor=actor, purpose=purpose, account=account, contractor=contractor)
    # The region is only needed to read a typed number (and costs a query for a contractor's user).
    region = default_region_of(account if hasattr(account, "pk") else actor) if number else "NL"
    qs = _filtered(qs, since=since, until=until, direction=direction, number=number, region=region, invoice=invoice)
    if after:
        at, cdr_id = cursor_decode(after)
        qs = qs.filter(Q(started_at__lt=at) | Q(started_at=at, id__lt=cdr_id))
    found = list(qs.order_by("-started_at", "-id").values_list(*_ROW_FIELDS)[: limit + 1])
    decrypt = _Decryptor()
    rows = [_to_row(values, decrypt, masked=masked) for values in found[:limit]]
    next_cursor = cursor_encode(rows[-1].started_at, rows[-1].id) if len(found) > limit else None
    return CallPage(rows=rows, next_cursor=next_cursor)


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
    masked: bool = False,
    batch_size: int = 2000,
) -> Iterator[CallRow]:
    """Every matching call, newest first, fetched in keyset batches so that an export of years of
    calls streams in constant memory. The access is checked and audited once, before the first row;
    filters are validated eagerly so that a bad one is a 400 before streaming starts."""
    purpose = require_purpose(
        actor=actor, purpose=purpose, action="cdr.export", target_type="user",
        target_id=getattr(account, "pk", account) or (actor.pk if purpose == Purpose.SELF_SERVICE else ""),
        extra={"masked": bool(masked) or purpose == Purpose.CONTRACTOR_INFORMATION},
    )
    if purpose not in _CALL_PURPOSES:
        raise PermissionDenied("This purpose does not allow reading calls.")
    masked = masked or purpose == Purpose.CONTRACTOR_INFORMATION
    qs = _scoped_cdrs(actor=actor, purpose=purpose, account=account, contractor=contractor)
    # The same reading of a typed number as the call list's, so a filter means the same in both.
    region = default_region_of(account if hasattr(account, "pk") else actor) if number else "NL"
    qs = _filtered(qs, since=since, until=until, direction=direction, number=number, region=region)
    qs = qs.order_by("-started_at", "-id").values_list(*_ROW_FIELDS)

    def generate() -> Iterator[CallRow]:
        decrypt = _Decryptor()
        page = qs
        while True:
            batch = list(page[:batch_size])
            for values in batch:
                yield _to_row(values, decrypt, masked=masked)
            if len(batch) < batch_size:
                return
            last_at, last_id = batch[-1][1], batch[-1][0]
            page = qs.filter(Q(started_at__lt=last_at) | Q(started_at=last_at, id__lt=last_id))

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
    SQL; months without calls appear with zeros so that a chart has no gaps."""
    purpose = require_purpose(
        actor=actor, purpose=purpose, action="cdr.usage", target_type="user",
        target_id=getattr(account, "pk", account) or (actor.pk if purpose == Purpose.SELF_SERVICE else ""),
    )
    if purpose not in _CALL_PURPOSES:
        raise PermissionDenied("This purpose does not allow reading calls.")
    from django.utils.timezone import now

    this_month = month_start(today or now())
    first = add_months(this_month, -(months - 1))
    start = datetime.combine(first, time.min, tzinfo=dt_timezone.utc)
    qs = _scoped_cdrs(actor=actor, purpose=purpose, account=account, contractor=contractor)
    totals = (
        qs.filter(started_at__gte=start)
        .annotate(m=TruncMonth("started_at", tzinfo=dt_timezone.utc))
        .values("m")
        .annotate(calls=Count("id"), seconds=Coalesce(Sum("billsec"), 0), amount=Sum("price"))
        .order_by("m")
    )
    by_month = {}
    for row in totals:
        key = row["m"].date() if isinstance(row["m"], datetime) else row["m"]
        by_month[key] = row
    result = []
    for i in range(months):
        month = add_months(first, i)
        row = by_month.get(month)
        result.append(UsageMonth(
            month=month,
            calls=row["calls"] if row else 0,
            seconds=int(row["seconds"]) if row else 0,
            amount=(row["amount"] or Decimal("0")).quantize(Decimal("0.01")) if row else Decimal("0.00"),
        ))
    return result


# --- invoices ----------------------------------------------------------------------------------------

def _scoped_invoices(*, actor: Any, purpose: Purpose) -> QuerySet[Invoice]:
    qs = Invoice.objects.select_related("account", "contractor")
    if purpose == Purpose.SELF_SERVICE:
        qs = qs.filter(account_id=actor.pk)
    elif purpose == Purpose.CONTRACTOR_INFORMATION:
        qs = qs.filter(contractor_id=actor.contractor_id) if getattr(actor, "contractor_id", None) else qs.none()
    elif purpose not in _STAFF_WIDE:
        raise PermissionDenied("This purpose does not allow reading invoices.")
    if purpose not in _SEES_RESTRICTED:
        qs = qs.filter(restricted_at__isnull=True)
    return qs


def invoice_list(*, actor: Any, purpose: Purpose | str, account: Any = None, status: str | None = None,
                 period: date | None = None, limit: int = 200) -> list[Invoice]:
    """Invoices newest first, scoped by purpose (own / own contractor's / staff-wide)."""
    purpose = require_purpose(actor=actor, purpose=purpose, action="invoice.list", target_type="user",
                              target_id=getattr(account, "pk", account) or "")
    qs = _scoped_invoices(actor=actor, purpose=purpose)
    if account is not None:
        qs = qs.filter(account_id=getattr(account, "pk", account))
    if status:
        if status not in Invoice.Status.values:
            raise ApplicationError("Status must be one of: " + ", ".join(Invoice.Status.values) + ".", {"field": "status"})
        qs = qs.filter(status=status)
    if period is not None:
        qs = qs.filter(period=month_start(period))
    return list(qs.order_by("-period", "-id")[:limit])


def invoice_get(*, actor: Any, purpose: Purpose | str, invoice_id: int) -> Invoice:
    """One invoice with its lines; out of the purpose's scope it does not exist (404, no leak)."""
    purpose = require_purpose(actor=actor, purpose=purpose, action="invoice.get", target_type="invoice",
                              target_id=invoice_id)
    try:
        return _scoped_invoices(actor=actor, purpose=purpose).prefetch_related("lines").get(pk=invoice_id)
    except (Invoice.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def invoice_lines(*, invoice: Invoice) -> list[InvoiceLine]:
    """Lines of an invoice already obtained through `invoice_get` (aggregates, no numbers)."""
    return list(invoice.lines.order_by("month", "zone"))


# --- interconnection --------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class InterconnectionRow:
    source: str
    carrier: str
    calls: int
    seconds: int
    amount: Decimal


def parse_month(value: str | date | None, *, field: str = "month") -> date:
    if isinstance(value, date):
        return month_start(value)
    try:
        year_text, month_text = (value or "").strip().split("-")
        if len(year_text) != 4 or len(month_text) != 2:
            raise ValueError
        return date(int(year_text), int(month_text), 1)
    except ValueError:
        raise ApplicationError(MONTH_INVALID, {"field": field}) from None


def interconnection_report(*, actor: Any, purpose: Purpose | str = Purpose.INTERCONNECTION,
                           month: date) -> list[InterconnectionRow]:
    """Answered calls per source switch (and its carrier/trunk) in one month: aggregates only."""
    purpose = require_purpose(actor=actor, purpose=purpose, action="interconnection.report",
                              target_type="month", target_id=month.isoformat())
    if purpose != Purpose.INTERCONNECTION:
        raise PermissionDenied("The interconnection report is made for the purpose interconnection.")
    start = datetime.combine(month_start(month), time.min, tzinfo=dt_timezone.utc)
    stop = datetime.combine(add_months(month_start(month), 1), time.min, tzinfo=dt_timezone.utc)
    totals = (
        Cdr.objects.filter(started_at__gte=start, started_at__lt=stop, restricted_at__isnull=True,
                           disposition=Cdr.Disposition.ANSWERED)
        .values("source_id")
        .annotate(calls=Count("id"), seconds=Coalesce(Sum("billsec"), 0), amount=Sum("price"))
        .order_by("source_id")
    )
    sources = {s.pk: s for s in Source.objects.all()}
    rows = []
    for row in totals:
        source = sources.get(row["source_id"])
        rows.append(InterconnectionRow(
            source=source.name if source else str(row["source_id"]),
            carrier=source.carrier if source else "",
            calls=row["calls"], seconds=int(row["seconds"]),
            amount=(row["amount"] or Decimal("0")).quantize(Decimal("0.01")),
        ))
    return sorted(rows, key=lambda r: (r.carrier, r.source))
