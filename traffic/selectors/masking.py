"""How a bill shows the other party's number (Tw 11.4, Bude art. 4.2, ePrivacy art. 7).

Three rules decide it, and the strictest wins:
- the itemisation setting (`accounts.models.Itemisation`): the Contractor's for its Users' bills and for
  the contractor's own view, an individual User's own for theirs: full, masked (the last digits hidden,
  `voipxs.privacy.phone.mask`) or none (no call list, only the invoice's totals; the default, GDPR
  art. 25). The contractor view is never more than masked (calls.py). A user's own call history is not
  a bill: it lists their calls whatever the setting;
- the national masking list (`MaskedNumber`): listed numbers never show in full on a bill, for calls
  from the list entry's `valid_from` on (the next billing period after it was listed) and, for a number
  taken off the list, before its `valid_until`;
- a User's own request (`User.number_masked`): the numbers they hold show masked on OTHER people's
  bills; matched on the blind index of the number, so no number is decrypted to decide it.

The itemisation setting of a bill is the one of its invoice's billing period (a change applies from the
period after the one it was made in, `accounts.selectors.itemisation_history`); the contractor's view lists
the calls of the periods that were itemised, each under its period's setting, and nothing while the setting
in force is "none". A setting also says whether
calls to freephone and helpline numbers are left off (`voipxs.privacy.phone.is_free_or_helpline`: 0800, +800,
other countries' freephone, 112, 113, 116 xxx) when they cost the customer nothing (`MaskRule.omits`): a call
to such a number that was charged (a foreign freephone number the tariff table prices; rating forces only NL
0800 to 0, traffic.rating.FREEPHONE) is listed, so that every charge the invoice totals can be checked. Calls
left off still count in the invoice's lines and totals, which are its lines, not its calls.

Only bills and the customer-facing views follow these rules (SELF_SERVICE, CONTRACTOR_INFORMATION);
staff purposes (billing, disputes, the law) see what they saw before.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Iterable, Iterator

from django.db import connection
from django.db.models import DateTimeField, Q, Value
from django.utils.timezone import localdate, localtime, now
from django.utils.translation import gettext_noop

from accounts.models import Itemisation, PhoneNumber
from accounts.selectors import ItemisationHistory, bill_itemisation_history, itemisation_history
from voipxs.exceptions import ApplicationError
from voipxs.privacy.crypto import blind_index
from voipxs.privacy.phone import InvalidNumber, is_free_or_helpline, normalize_masking_number
from voipxs.privacy.purposes import Purpose, require_purpose
from voipxs.statements import execute_prepared, statement
from voipxs.timeutil import month_bounds

from ..annotations.models import CdrAnnotation
from ..models import Cdr, Invoice, MaskedNumber
from ..partitions import month_start

NUMBER_FILTER_MASKED = gettext_noop("Numbers are masked here, so calls cannot be searched by number.")
BILL_PURPOSES = frozenset({Purpose.SELF_SERVICE, Purpose.CONTRACTOR_INFORMATION})


@dataclass
class MaskRule:
    """What a read of calls may show: `itemised` False means no call rows at all.

    The masking list and the holders' requests are looked up only for the numbers a read meets
    (`prepare` a batch of them in one query, or told by the read of the calls itself: `known`), never
    loaded whole: the national list is long and a page shows fifty numbers. `reader_id` is the reader's
    user id where they apply (the bill purposes)."""

    mask_all: bool = False
    itemised: bool = True
    forced: bool = False  # masked by the contractor's setting, not by the reader's choice
    reader_id: int | None = None  # None: neither the list nor the holders' requests apply
    # blind index -> (masked for calls from then on, until then or for good)
    listed: dict[str, tuple[datetime, datetime | None]] = field(default_factory=dict)
    requested: set[str] | None = None  # blind indexes of numbers whose holder asked to be masked (read once)
    omit_free: bool = False  # calls to freephone and helpline numbers are left off (an invoice's bill)
    by_period: ItemisationHistory | None = None  # the contractor's view: each call under its period's setting
    asked: set[str] = field(default_factory=set)  # of those, the ones a read's own statement named (`known`)
    _looked_up: set[str] = field(default_factory=set)
    _seen: dict[str, str] = field(default_factory=dict)

    def _applies(self) -> bool:
        return self.reader_id is not None and not self.mask_all

    def _index(self, number: str) -> str:
        index = self._seen.get(number)
        if index is None:
            try:
                index = blind_index(normalize_masking_number(number), domain="phone")
            except InvalidNumber:
                index = ""
            self._seen[number] = index
        return index

    def _look_up(self, indexes: set[str]) -> None:
        listed, requested = masking_entries(indexes, reader_id=self.reader_id, requested=self.requested is None)
        self.listed.update(listed)
        if requested is not None:
            self.requested = requested
        self._looked_up |= indexes

    def prepare(self, numbers: Iterable[str | None]) -> None:
        """Looks up the numbers of a page or an export batch in one query, before `masks` asks per row."""
        if not self._applies():
            return
        indexes = {self._index(number) for number in numbers if number} - self._looked_up - {""}
        if indexes:
            self._look_up(indexes)

    def known(self, index: str, valid_from: datetime | None, valid_until: datetime | None, asked: bool) -> None:
        """What a read of calls found in its own statement for a blind index (traffic.selectors.calls: the
        stored index of each call's other number): the listing and the holder's request `prepare` would
        look up. It answers for a number only if the number's own masking index is this one (a number
        stored as dialled, "116 111", has another and is looked up as before)."""
        if not self._applies() or not index:
            return
        self._looked_up.add(index)
        if valid_from is not None:
            self.listed[index] = (valid_from, valid_until)
        if asked:
            self.asked.add(index)

    def masks(self, number: str, started_at: datetime) -> bool:
        """Whether the other party's `number` shows masked on a call made at `started_at`."""
        if self.mask_all:
            return True
        if not self._applies() or not number:
            return False
        index = self._index(number)
        if not index:
            return False
        if index not in self._looked_up:
            self._look_up({index})
        if index in self.asked or index in (self.requested or ()):
            return True
        entry = self.listed.get(index)
        return entry is not None and entry[0] <= started_at and (entry[1] is None or started_at < entry[1])

    def omits(self, number: str, started_at: datetime, price: Decimal | None) -> bool:
        """Whether a call to or from `number` (the other party's, unmasked) at `started_at` that cost the
        customer `price` is left off: only a call that cost nothing (0, or NULL: not priced) to a free or
        helpline number. A call the customer pays for is always listed, whatever its number (a foreign
        freephone number our tariffs price): the bill must let them check every charge it totals."""
        if price:  # checked first: no number is classified for a charged call
            return False
        if self.by_period is not None:
            if not self.by_period.at(month_start(localdate(started_at))).omit_free_numbers:  # its invoice's month
                return False
        elif not self.omit_free:
            return False
        return bool(number) and is_free_or_helpline(number)

    def periods_q(self) -> Q | None:
        """The contractor's view: only calls of the billing periods whose setting was itemised (None: all)."""
        if self.by_period is None:
            return None
        periods = self.by_period.periods
        if all(setting.itemised for _start, setting in periods):
            return None
        q = Q(pk__in=[])
        for i, (start, setting) in enumerate(periods):
            if setting.itemised:
                stop = periods[i + 1][0] if i + 1 < len(periods) else None
                span = Q(started_at__gte=month_bounds(start)[0]) if start is not None else Q()
                q |= span & Q(started_at__lt=month_bounds(stop)[0]) if stop is not None else span
        return q

    def searchable(self, index: str) -> bool:
        """Whether calls may be searched by the number of this blind index. A search that matched a
        number shown masked would confirm a guess of its hidden digits: where the contractor masks
        every number, searching by number is refused (as on the contractor's view); a number masked
        by the list (or once listed: its calls of then stay masked) or at its holder's request finds
        nothing, exactly like a wrong guess."""
        if self.forced:
            raise ApplicationError(NUMBER_FILTER_MASKED, {"field": "number"})
        if self.reader_id is None or not index:
            return True
        if index not in self._looked_up:
            self._look_up({index})
        return index not in (self.requested or ()) and index not in self.asked and index not in self.listed


def _requested():
    """The numbers our subscribers asked to be masked (Bude art. 4.2(1)): the ones they hold now."""
    return PhoneNumber.objects.filter(user__number_masked=True, valid_to__isnull=True)


def _asked(reader_id: int):
    """The numbers whose holder, another user than the reader, asked to be masked (Bude art. 4.2)."""
    return _requested().exclude(user_id=reader_id)


def _masking_query(indexes: list[str], reader_id: int, requested: bool):
    listed = MaskedNumber.objects.filter(number_index__in=indexes).values_list("number_index", "valid_from",
                                                                             "valid_until")
    if not requested:
        return listed
    nothing = Value(None, output_field=DateTimeField())
    asked = _asked(reader_id).values_list("number_index", nothing, nothing)
    return listed.union(asked, all=True) if indexes else asked


def masking_joined(sql: str, params: list, *, columns: tuple[str, ...], keep: tuple[str, ...],
                   reader_id: int, noted: bool = False) -> tuple[str, list]:
    """A read of calls that also says what `prepare` would look up for each call's other number, in the same
    statement. `sql` gives rows of `columns` (CDR column names, with `src_index` and `dst_index`) and a last
    copy flag; the result gives rows of `keep`, then the stored blind index of the other number, the list's
    `valid_from` and `valid_until` for it (NULL: not listed), whether its holder asked (`_asked`), and the
    copy flag: what `MaskRule.known` takes after the kept columns; with `noted`, whether the call has a note
    (traffic.annotations) comes before the copy flag, so a page of calls without one asks nothing more.
    PostgreSQL only."""
    at = {name: f"f{i}" for i, name in enumerate(columns)}
    asked_sql, asked_params = _asked(reader_id).values("number_index").query.sql_with_params()
    note = (f"EXISTS (SELECT 1 FROM {CdrAnnotation._meta.db_table} n WHERE n.cdr_id = p.{at['id']}), "  # nosec B608
            if noted else "")
    # Reviewed: names are the models' and ours, `asked_sql` the ORM's; every value stays a bound parameter.
    return (f"SELECT {', '.join(f'p.{at[name]}' for name in keep)}, p.other_index, m.valid_from, "  # nosec B608
            f"m.valid_until, p.other_index IN ({asked_sql}), {note}p.copied FROM (SELECT q.*, CASE WHEN "
            f"q.{at['direction']} = '{Cdr.Direction.IN.value}' THEN q.{at['src_index']} ELSE q.{at['dst_index']} "
            f"END AS other_index FROM ({sql}) q({', '.join(at.values())}, copied)) p "
            f"LEFT JOIN {MaskedNumber._meta.db_table} m ON m.number_index = p.other_index "
            f"ORDER BY p.{at['started_at']} DESC, p.{at['id']} DESC", [*asked_params, *params])  # in text order


def _masking_rows(indexes: set[str], reader_id: int,
                  requested: bool) -> list[tuple[str, datetime | None, datetime | None]]:
    """On PostgreSQL the statement is compiled and prepared once per shape (voipxs.statements): the list
    of numbers is padded to the next power of two with "" (no number's blind index), so that a connection
    holds a few statements (1, 2, 4 ... numbers) instead of one for every count a page or batch meets."""
    ordered = sorted(indexes)
    if connection.vendor != "postgresql":
        return list(_masking_query(ordered, reader_id, requested))
    ordered += [""] * ((1 << (len(ordered) - 1).bit_length()) - len(ordered)) if ordered else []

    def build(*values: Any) -> tuple[str, tuple]:
        reader, numbers = (values[0], values[1:]) if requested else (None, values)
        return _masking_query(list(numbers), reader, requested).query.sql_with_params()

    sentinels = ((-7_300_019,) if requested else ()) + tuple(f"\x00masking-{i}" for i in range(len(ordered)))
    values = ((reader_id,) if requested else ()) + tuple(ordered)
    key = ("masking", len(ordered), requested)
    sql, params = statement(key, build, sentinels, values)
    with connection.cursor() as cursor:
        execute_prepared(cursor, key, sql, params)
        return cursor.fetchall()


def masking_entries(indexes: set[str], *, reader_id: int,
                    requested: bool) -> tuple[dict[str, tuple[datetime, datetime | None]], set[str] | None]:
    """In one query: which of these blind indexes the masking list holds (index -> (valid_from,
    valid_until)), and,
    if `requested`, the numbers whose holder (another user than the reader) asked to be masked. Those
    are few (a partial index on the users who asked finds them), the list is long (its unique index
    finds the page's numbers)."""
    found_listed: dict[str, tuple[datetime, datetime | None]] = {}
    found_asked: set[str] = set()
    for index, valid_from, valid_until in _masking_rows(indexes, reader_id, requested):
        if valid_from is None:
            found_asked.add(index)
        else:
            found_listed[index] = (valid_from, valid_until)
    return found_listed, (found_asked if requested else None)


def _invoice_party(*, actor: Any, purpose: Purpose, invoice: Any) -> tuple[Any, int | None] | None:
    """(billing period, contractor id or None) of the invoice a bill is read for (an Invoice, or its id from
    the API), looked up in the reader's own scope; None when it is not theirs (its calls are out of scope too)."""
    if isinstance(invoice, Invoice):
        return invoice.period, invoice.contractor_id
    try:
        invoice_id = int(getattr(invoice, "pk", invoice))
    except (TypeError, ValueError):
        return None
    if purpose == Purpose.SELF_SERVICE:
        mine = Q(account_id=actor.pk)
    elif getattr(actor, "contractor_id", None):
        mine = Q(contractor_id=actor.contractor_id)
    else:
        return None
    return Invoice.objects.filter(mine, pk=invoice_id).values_list("period", "contractor_id").first()


def mask_rule(*, actor: Any, purpose: Purpose, invoice: Any = None, masked: bool = False) -> MaskRule:
    """The rule a read of calls for `purpose` follows (see the module docstring): an itemised bill (a read of
    one invoice's calls) follows the setting of the invoice's period (the reader's contractor's, or an
    individual reader's own); the contractor's own view, each call's period's; a user's own call history is
    not a bill and lists all their calls."""
    if purpose not in BILL_PURPOSES:
        return MaskRule(mask_all=masked)
    if purpose == Purpose.SELF_SERVICE and invoice is None:
        return MaskRule(mask_all=masked, reader_id=actor.pk)
    if invoice is None:  # the contractor's view of its Users' calls (always masked: calls.py): none while its
        # bills are not itemised, and then only the calls of the periods whose bills were (`periods_q`)
        history = itemisation_history(user=actor)
        setting = history.current()
        return MaskRule(mask_all=True, forced=setting.itemisation == Itemisation.MASKED, reader_id=actor.pk,
                        itemised=setting.itemised, by_period=history)
    party = _invoice_party(actor=actor, purpose=purpose, invoice=invoice)
    if party is None:
        setting = itemisation_history(user=actor).current()
    else:  # the bill keeps the setting of the party it was issued to, in its period
        setting = bill_itemisation_history(user=actor, invoice_contractor_id=party[1]).at(party[0])
    forced = setting.itemisation == Itemisation.MASKED
    return MaskRule(mask_all=masked or forced, forced=forced, reader_id=actor.pk, itemised=setting.itemised,
                    omit_free=setting.omit_free_numbers)


def masking_list_rows(*, actor: Any, purpose: Purpose | str = Purpose.BILLING) -> Iterator[tuple[str, str, str]]:
    """What billing staff send the other providers (Bude art. 4.2(2)), as (number, valid_from, valid_until or
    "") for the CSV export: the masking list and our own subscribers' requests (`_requested`), each number
    once. Checked and audited as a read before the first row (eagerly: a refusal is a 403, not a broken
    download); the audit holds counts only."""
    require_purpose(actor=actor, purpose=purpose, action="masking_list.export", target_type="masking_list",
                    extra={"entries": MaskedNumber.objects.count(), "requested": _requested().count()})
    # The requests are few (a partial index finds them) and the list is long: read the requests now, so a
    # listed number that is also requested is written once, in its list row, while the list streams.
    requested = {phone.number_index: phone.number for phone in _requested().only("number", "number_index")}
    return _export_rows(requested, today=localtime().date())


def _export_rows(requested: dict[str, str], *, today: date) -> Iterator[tuple[str, str, str]]:
    for entry in MaskedNumber.objects.order_by("valid_from", "id").iterator():
        since = localtime(entry.valid_from).date()
        if requested.pop(entry.number_index, None) is not None:
            # Its holder's request masks it on our bills already, and for as long as it stands.
            yield entry.number, min(since, today).isoformat(), ""
        else:
            until = localtime(entry.valid_until).date().isoformat() if entry.valid_until else ""
            yield entry.number, since.isoformat(), until
    # Dated the day of the export: our bills mask them already, and when the subscriber asked or got the
    # number is theirs to keep; art. 4.2(2) asks for a list of the numbers, nothing more.
    for number in sorted(requested.values()):
        yield number, today.isoformat(), ""


def masking_list_size() -> tuple[int, int, int]:
    """(numbers on the list, of which not yet in force, numbers taken off that are still masked until the
    next billing period) for the staff page; no numbers."""
    moment = now()
    on_list = MaskedNumber.objects.filter(valid_until__isnull=True)
    return (on_list.count(), on_list.filter(valid_from__gt=moment).count(),
            MaskedNumber.objects.filter(valid_until__gt=moment).count())
