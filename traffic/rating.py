"""Rating: the price of a call from the tariff of the longest destination prefix valid on the call date (its day in
Amsterdam: a tariff's valid_from and valid_to are days as billing types them on the tariffs page).

price = setup_fee + billed_seconds × price_per_minute / 60, where billed_seconds rounds billsec up
to the tariff's increments: the first increment, then whole next increments (60/60, 1/1, 30/6).
The price is fixed on the CDR when it is rated and never recomputed (an invoice must not change
when a tariff does).

A `TariffBook` is loaded once per import: every lookup after the first for a destination is a dict
hit, and prices are cached per (tariff, billsec), so rating costs about a microsecond per row.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import Iterable

from django.db.models import Case, DecimalField, F, Func, When
from django.db.models.functions import Least
from django.utils.timezone import get_default_timezone

from .models import Invoice, Tariff

_NEVER = datetime.min.replace(tzinfo=timezone.utc)
PRICE_QUANTUM = Decimal("0.00001")  # Cdr.price has 5 decimal places
# A call's seconds as billed, in SQL: its duration at most. The import caps billsec so (ingest.prepare), but a row
# stored before the cap keeps the billsec the switch wrote (a CDR is not rewritten; the re-rating prices it for its
# duration). Every sum of seconds shown (invoice lines, the usage page, the interconnection report) counts this,
# for live calls and the hold table's copies alike (both have duration and billsec).
BILLED_SECONDS = Least("billsec", "duration")


class _PriceForDuration(Func):
    """price × duration / billsec, rounded to the price's places: a pre-cap row's price for the seconds it is billed.
    SQLite divides integers as integers (a price of 1 is stored as one), so there the price is read as a real."""

    output_field = DecimalField(max_digits=12, decimal_places=5)

    def as_sql(self, compiler, connection, **extra_context):  # type: ignore[override]
        (price, price_params), (duration, duration_params), (billsec, billsec_params) = (
            compiler.compile(expression) for expression in self.get_source_expressions())
        if connection.vendor == "sqlite":
            price = f"CAST({price} AS REAL)"
        return f"ROUND({price} * {duration} / {billsec}, 5)", (*price_params, *duration_params, *billsec_params)


# A call's price as billed, in SQL, beside BILLED_SECONDS: a row stored before the cap was priced for the billsec the
# switch wrote (the import rated it so), so it is charged in proportion to the seconds it is billed, its price ×
# duration / billsec (exact for per-second tariffs; never more than the call's length at its stored rate). Every sum of
# amounts shown (invoice lines, the usage page, the interconnection report) counts this; `billed_price` is the same
# for one call (the call pages, the itemised bill, the CSV). A row rated later (traffic.services.rating) is priced for
# its duration and stores its billsec capped, so no stored row with billsec over duration has a price for fewer seconds.
BILLED_PRICE = Case(When(billsec__gt=F("duration"), then=_PriceForDuration("price", "duration", "billsec")),
                    default=F("price"), output_field=DecimalField(max_digits=12, decimal_places=5))


def billed_price(price: Decimal | None, *, billsec: int, duration: int) -> Decimal | None:
    """One call's price as billed (BILLED_PRICE): a pre-cap row's stored price for its duration at most."""
    if price is None or billsec <= duration:
        return price
    return (price * duration / billsec).quantize(PRICE_QUANTUM, rounding=ROUND_HALF_UP)


def charged_stored_price(invoice_ids: Iterable[int | None]) -> frozenset[int]:
    """Of these invoices, those issued before the rule above, which charged a pre-cap call its stored price
    (Invoice.charged_for_duration False): their calls are shown at that price, as they were invoiced. Asked only for
    the invoices of pre-cap rows, so a page without one runs no query."""
    wanted = {invoice_id for invoice_id in invoice_ids if invoice_id is not None}
    if not wanted:
        return frozenset()
    return frozenset(Invoice.objects.filter(pk__in=wanted, charged_for_duration=False).values_list("pk", flat=True))


@dataclass(frozen=True, slots=True)
class TariffRule:
    id: int
    prefix: str
    zone: str
    price_per_minute: Decimal
    setup_fee: Decimal
    increment_first: int
    increment_next: int
    valid_from: date
    valid_to: date | None  # inclusive last day; None = open ended


def billed_seconds(billsec: int, *, first: int, step: int) -> int:
    """Round `billsec` up to the increments: 61 s at 60/60 → 120; at 30/6 → 66; at 1/1 → 61."""
    if billsec <= 0:
        return 0
    first = max(first, 1)
    step = max(step, 1)
    if billsec <= first:
        return first
    rest = billsec - first
    return first + -(-rest // step) * step


def price_of(rule: TariffRule, billsec: int) -> Decimal:
    seconds = billed_seconds(billsec, first=rule.increment_first, step=rule.increment_next)
    amount = rule.setup_fee + rule.price_per_minute * seconds / 60
    return amount.quantize(PRICE_QUANTUM, rounding=ROUND_HALF_UP)


# A call to a Dutch freephone number (0800, +31 800) costs the caller nothing: the called party pays for it
# (Nummerplan voor telefoon- en ISDN-diensten). No tariff of the table prices it, whatever its prefixes; the call is
# rated at 0 in a zone of its own, so the invoice shows it as free rather than as a national call. (Freephone numbers
# of other countries are often charged when called from abroad: they follow the table, and an itemised bill lists
# such a call, as every call that cost something: traffic.selectors.masking.MaskRule.omits.)
FREEPHONE = TariffRule(0, "31800", "NL freephone (0800)", Decimal("0"), Decimal("0"), 1, 1, date.min, None)


class TariffBook:
    """All tariffs in memory, indexed by prefix, with per-destination and per-price caches."""

    def __init__(self, rules: list[TariffRule]) -> None:
        self._by_prefix: dict[str, list[TariffRule]] = {}
        for rule in rules:
            self._by_prefix.setdefault(rule.prefix, []).append(rule)
        for prefix in list(self._by_prefix):
            if prefix.startswith(FREEPHONE.prefix):  # a longer prefix inside 0800 would price some of them
                del self._by_prefix[prefix]
        self._by_prefix[FREEPHONE.prefix] = [FREEPHONE]
        self._max_len = max((len(p) for p in self._by_prefix), default=0)
        self._key_len = self._max_len + 1  # "+" and the digits a prefix can cover
        self._candidates: dict[str, tuple[TariffRule, ...]] = {}
        self._interned: dict[tuple[TariffRule, ...], tuple[TariffRule, ...]] = {}
        self._prices: dict[tuple[int, int], tuple[Decimal, str]] = {}
        self._zone = get_default_timezone()
        # The last Amsterdam day asked for, as its UTC bounds: a file's calls come in time order, so nearly every
        # call falls in the day before it and costs two comparisons instead of a time-zone conversion (~0.6 µs).
        self._day: tuple[datetime, datetime, date] = (_NEVER, _NEVER, date.min)

    @classmethod
    def load(cls) -> "TariffBook":
        return cls([
            TariffRule(t.id, t.prefix.lstrip("+"), t.zone, t.price_per_minute, t.setup_fee,
                       t.increment_first, t.increment_next, t.valid_from, t.valid_to)
            for t in Tariff.objects.all().order_by("prefix", "-valid_from", "id")
        ])

    def _candidates_for(self, e164: str) -> tuple[TariffRule, ...]:
        digits = e164.lstrip("+")
        rules: list[TariffRule] = []
        for length in range(min(len(digits), self._max_len), 0, -1):
            rules.extend(self._by_prefix.get(digits[:length], ()))
        found = tuple(rules)  # longest prefix first
        found = self._candidates[e164] = self._interned.setdefault(found, found)  # shared, not one per number
        return found

    def tariff_for(self, e164: str, day: date) -> TariffRule | None:
        """Candidates are cached per number (longest prefix first, usually one or two), so a call
        costs a dict hit and a date comparison or two; nothing is cached per (number, day)."""
        key = e164[:self._key_len]  # candidates depend only on the first max-prefix-length digits
        candidates = self._candidates.get(key)
        if candidates is None:
            candidates = self._candidates_for(key)
        for candidate in candidates:
            if candidate.valid_from <= day and (candidate.valid_to is None or day <= candidate.valid_to):
                return candidate
        return None

    def tariff_at(self, e164: str, moment: datetime) -> TariffRule | None:
        """The tariff for a call that started at `moment` (aware): the one valid on its day in Amsterdam, so a call
        at 00:30 on a new deck's first day (22:30 or 23:30 UTC the day before) gets the new deck."""
        start, end, day = self._day
        if not start <= moment < end:
            day = moment.astimezone(self._zone).date()
            start = datetime(day.year, day.month, day.day, tzinfo=self._zone).astimezone(timezone.utc)
            following = day + timedelta(days=1)
            end = datetime(following.year, following.month, following.day, tzinfo=self._zone).astimezone(timezone.utc)
            self._day = (start, end, day)
        return self.tariff_for(e164, day)

    def price(self, rule: TariffRule, billsec: int) -> tuple[Decimal, str]:
        """(price, its text for COPY), cached per (tariff, billsec)."""
        key = (rule.id, billsec)
        hit = self._prices.get(key)
        if hit is None:
            amount = price_of(rule, billsec)
            hit = self._prices[key] = (amount, str(amount))
        return hit
