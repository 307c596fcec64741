"""A parser's CallRecord → a prepared row: times, numbers, attribution, rating, then the shared build.

This is the hot loop of an import (the whole ingest aims at ~50,000 rows/s on one core), so
`RowPreparer.prepare` is a short sequence of steps, each a method called once per row, over caches
that make the expensive parts run once per import rather than once per row:
- each distinct number is normalised to E.164 and blind-indexed once (`number`, a dict cache);
- who held which of our numbers when is loaded once (`HolderIndex`, one query), so attributing a call
  is a dict lookup;
- tariffs are loaded once (`TariffBook`, with its own per-destination and per-price caches);
- the parser's record type is read with one attrgetter resolved on the first row (`_getter`).
The last step, encryption and the row's layout, is `RowBuilder.build` (rows.py), shared with every
other CDR write.
"""
from __future__ import annotations

import operator
from datetime import datetime, timezone
from typing import Any, Callable
from zoneinfo import ZoneInfo

from accounts.models import PhoneNumber
from voipxs.privacy.crypto import blind_indexer
from voipxs.privacy.phone import InvalidNumber, is_valid_e164, normalize_e164

from ..importers.base import (
    ANONYMOUS_NAMES, EXTENSION_MAX_DIGITS, FLAG_BILLED_ON_A_LEG, FLAG_BILLSEC_OVER_DURATION, FLAG_LOCAL_HOP,
    FLAG_UNDECODABLE_TEXT,
)
from ..models import Cdr, Source
from ..rating import TariffBook
from .rows import (
    FLAG_ANONYMOUS, FLAG_BAD_NUMBER, FLAG_DISPOSITION, FLAG_EXTENSION, FLAG_NO_ACCOUNT, FLAG_UNRATED, Number,
    RowBuilder, RowRejected,
)

MSG_NO_START = "missing start time"
MSG_PRICE_TOO_LARGE = "price: too large for the price column"
# The price text ("1234567.12345": quantized to the column's decimal places) fits the column when it
# has no more characters than its digits and the point.
PRICE_TEXT_MAX = Cdr._meta.get_field("price").max_digits + 1

_DISPOSITIONS = {
    "answered": Cdr.Disposition.ANSWERED.value, "answer": Cdr.Disposition.ANSWERED.value,
    "no answer": Cdr.Disposition.NO_ANSWER.value, "no_answer": Cdr.Disposition.NO_ANSWER.value,
    "noanswer": Cdr.Disposition.NO_ANSWER.value,
    "busy": Cdr.Disposition.BUSY.value, "failed": Cdr.Disposition.FAILED.value,
    "congestion": Cdr.Disposition.CONGESTION.value,
}
_DISPOSITIONS.update({key.upper(): value for key, value in list(_DISPOSITIONS.items())})
_DISPOSITIONS.update({value: value for value in Cdr.Disposition.values})
_UTC = timezone.utc
_REPLACED = "\ufffd"  # what the parsers' errors="replace" puts where bytes were not UTF-8
_FORMATTING = str.maketrans("", "", " -.()/\t")


class HolderIndex:
    """Who held which of our numbers when: blind index → [(from, to, user_id, contractor_id)].

    Loaded once per import (one query), so attribution costs a dict lookup per row."""

    def __init__(self) -> None:
        self._periods: dict[str, list[tuple[datetime, datetime | None, int, int | None]]] = {}
        rows = PhoneNumber.objects.values_list("number_index", "valid_from", "valid_to", "user_id", "user__contractor_id")
        for index, valid_from, valid_to, user_id, contractor_id in rows.iterator(chunk_size=5000):
            self._periods.setdefault(index, []).append((valid_from, valid_to, user_id, contractor_id))

    def periods_of(self, index: str) -> list | None:
        return self._periods.get(index)


def _held(periods: list, moment: datetime) -> tuple[int, int | None] | None:
    for valid_from, valid_to, user_id, contractor_id in periods:
        if valid_from <= moment and (valid_to is None or moment < valid_to):
            return user_id, contractor_id
    return None


class RowPreparer(RowBuilder):
    """Turns parser CallRecords into prepared row tuples. One per import; holds the caches."""

    def __init__(self, *, source: Source) -> None:
        super().__init__()
        self.tz = ZoneInfo(source.timezone)
        self.country = (source.default_country or "NL").upper()
        self.holders = HolderIndex()
        self.tariffs = TariffBook.load()
        self._numbers: dict[str, Number] = {}
        self._index = blind_indexer("phone")  # this cache of numbers is the only one needed
        self._get: Callable[[Any], tuple] | None = None

    def prepare(self, record: Any) -> tuple:
        """One parser record → one prepared row (rows.R_*). Raises RowRejected, or the ValueError or
        TypeError of a value that cannot be read (the caller reports the line, never the value)."""
        getter = self._get
        if getter is None:
            getter = self._get = self._getter(record)
        (line, uid, started, answered, raw_src, raw_dst, duration, billsec, raw_disposition, parser_flags,
         caller_name, account_code, fp, leg, call_id, channel, dst_channel, sip_call_id, remote_ip,
         user_agent) = getter(record)
        if started.__class__ is not datetime or started.tzinfo is not _UTC or (answered is not None and (
                answered.__class__ is not datetime or answered.tzinfo is not _UTC)):  # else the parsers' UTC
            started, answered = self._times(started, answered)
        numbers = self._numbers
        src = numbers.get(raw_src) or self.number(raw_src or "")
        dst = numbers.get(raw_dst) or self.number(raw_dst or "")
        crypto = self._months.get((started.year, started.month)) or self.month_crypto(started)
        duration = int(duration or 0)
        billsec = int(billsec or 0)
        flags = set(parser_flags) if parser_flags else set()
        if billsec > duration:  # talk time longer than the whole call: billed for the call's length at most,
            billsec = duration  # flagged, and the import's report lists the row as a warning (ingest.run)
            flags.add(FLAG_BILLSEC_OVER_DURATION)
        disposition = _DISPOSITIONS.get(raw_disposition) or _DISPOSITIONS.get(str(raw_disposition).strip().lower())
        if disposition is None:
            disposition = "failed"
            flags.add(FLAG_DISPOSITION)
        if src.flag:
            flags.add(src.flag)
        if dst.flag:
            flags.add(dst.flag)
        if _REPLACED in raw_src or _REPLACED in raw_dst or _REPLACED in caller_name or _REPLACED in account_code \
                or _REPLACED in "".join((channel, dst_channel, sip_call_id, remote_ip, user_agent)):
            flags.add(FLAG_UNDECODABLE_TEXT)  # the file's bytes were not UTF-8 there: replaced, so flagged
        # _TECHNICAL's fields; an empty one is left out of the stored payload (RowBuilder.build)
        technical = {"channel": channel, "dst_channel": dst_channel, "sip_call_id": sip_call_id,
                     "remote_ip": remote_ip, "user_agent": user_agent}
        direction, account_id, contractor_id = self._attribute(src, dst, started, flags)
        rating, zone, price = self._rate(direction, disposition, billsec, dst, started, flags)
        return self.build(
            line, uid, fp, started, answered, crypto, src, dst, account_id, contractor_id, direction,
            disposition, duration, billsec, caller_name, account_code, flags, rating, zone, price, technical,
            leg, call_id,
        )

    # --- the steps of prepare, in order -----------------------------------------------------------

    def _times(self, started: Any, answered: Any) -> tuple[datetime, datetime | None]:
        """Start and answer times in UTC (a parser's aware datetimes, or naive/ISO text in the source's zone)."""
        if started is None:
            raise RowRejected(MSG_NO_START)
        if started.__class__ is not datetime or started.tzinfo is None:
            started = self.utc(started)
        elif started.tzinfo is not _UTC:  # the parsers' are in UTC already
            started = started.astimezone(_UTC)
        if answered is not None and (answered.__class__ is not datetime or answered.tzinfo is not _UTC):
            answered = answered.astimezone(_UTC) if answered.__class__ is datetime and answered.tzinfo else self.utc(answered)
        return started, answered

    def utc(self, value: Any) -> datetime | None:
        if value is None or value == "":
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        if value.tzinfo is None:
            value = value.replace(tzinfo=self.tz)
        return value.astimezone(timezone.utc)

    def number(self, raw: str) -> Number:
        """E.164 when it is a possible number (in the source's default country), else kept as
        written with a flag saying why. Cached per distinct raw text."""
        hit = self._numbers.get(raw)
        if hit is not None:
            return hit
        text = (raw or "").strip()
        plain = text if text.isdigit() else text.translate(_FORMATTING)  # "020-555 01 01", "(020) 5550101"
        digits = plain[1:] if plain[:1] == "+" else plain
        flag, e164 = "", ""
        if digits.isdigit():
            if len(digits) <= EXTENSION_MAX_DIGITS and plain[:1] != "+":
                stored, flag = text, FLAG_EXTENSION
            else:
                try:
                    e164 = normalize_e164(plain, self.country)
                except InvalidNumber:
                    e164 = ""
                if e164 and is_valid_e164(e164):
                    stored = e164
                else:  # a possible length perhaps, but no such number range: kept as written, never as E.164
                    stored, flag, e164 = text, FLAG_BAD_NUMBER, ""
        elif not text or text.lower() in ANONYMOUS_NAMES:
            stored, flag = text, FLAG_ANONYMOUS  # withheld: no number to attribute
        elif any(c.isalpha() for c in text):
            stored, flag = text, FLAG_EXTENSION  # a SIP user name ("alice", "reception2", "s"), not a number
        else:
            stored, flag = text, FLAG_BAD_NUMBER  # "*21#", "06-": dialled, but no number
        index = self._index(stored)  # rows.number_make, without the shared cache
        hit = Number(stored.encode("utf-8"), index, e164, flag, self.holders.periods_of(index) if e164 else None)
        if len(self._numbers) < 500_000:  # bound the cache, not the import
            self._numbers[raw] = hit
        return hit

    def _attribute(self, src: Number, dst: Number, started: datetime,
                   flags: set[str]) -> tuple[str, int | None, int | None]:
        """Direction, account and contractor, from OUR numbers held at that moment."""
        periods = src.held
        src_holder = _held(periods, started) if periods else None
        periods = dst.held
        dst_holder = _held(periods, started) if periods else None
        src_internal = src_holder is not None or src.flag == FLAG_EXTENSION
        dst_internal = dst_holder is not None or dst.flag == FLAG_EXTENSION
        if src_internal and dst_internal:
            direction, holder = "internal", src_holder or dst_holder
        elif dst_holder is not None or (dst_internal and not src_internal):
            direction, holder = "in", dst_holder
        else:
            direction, holder = "out", src_holder
        if holder is None:
            flags.add(FLAG_NO_ACCOUNT)
            return direction, None, None
        return direction, holder[0], holder[1]

    def _rate(self, direction: str, disposition: str, billsec: int, dst: Number, started: datetime,
              flags: set[str]) -> tuple[str, str, str | None]:
        """Rating, zone and price text. Outgoing answered calls with billable seconds are priced; the
        rest is free (incoming calls cost the callee nothing; internal calls stay on our network)."""
        if direction != "out" or disposition != "answered" or billsec <= 0 or FLAG_LOCAL_HOP in flags \
                or FLAG_BILLED_ON_A_LEG in flags:
            return "free", "", "0"  # a hop into a Local channel, a B leg: another leg of the call is billed
        rule = self.tariffs.tariff_at(dst.e164, started) if dst.e164 else None
        if rule is None:
            flags.add(FLAG_UNRATED)
            return "unrated", "", None
        price = self.tariffs.price(rule, billsec)[1]
        if len(price) > PRICE_TEXT_MAX:  # billsec in the billions: the database would refuse the batch
            raise RowRejected(MSG_PRICE_TOO_LARGE)
        return "rated", rule.zone, price

    # CallRecord fields this layer reads, each with the names a parser may use for it, and a default.
    _FIELDS = (
        (("line", "line_no"), 0), (("unique_id", "uniqueid"), ""), (("started_at", "start"), None),
        (("answered_at", "answer"), None), (("src", "source"), ""), (("dst", "destination"), ""),
        (("duration",), 0), (("billsec",), 0), (("disposition",), ""), (("flags",), ()),
        (("caller_name", "clid"), ""), (("account_code", "accountcode"), ""), (("fingerprint",), ""),
        (("leg",), ""), (("call_id",), ""),
    )
    _TECHNICAL = ("channel", "dst_channel", "sip_call_id", "remote_ip", "user_agent")

    def _getter(self, record: Any) -> Callable[[Any], tuple]:
        """The values of _FIELDS and then of _TECHNICAL from the parser's record type, resolved once. For
        the parsers' CallRecord, which has them all, one attrgetter: a C call per row, no Python frame."""
        names, defaults = [], []
        for candidates, default in self._FIELDS:
            names.append(next((n for n in candidates if hasattr(record, n)), None))
            defaults.append(default)
        for name in self._TECHNICAL:  # one the record lacks reads as empty: left out of the payload
            names.append(name if hasattr(record, name) else None)
            defaults.append("")
        present = [n for n in names if n]
        if len(present) == len(names):
            return operator.attrgetter(*names)
        get = operator.attrgetter(*present) if len(present) > 1 else (lambda r: (getattr(r, present[0]),))
        positions = []
        i = 0
        for name in names:
            positions.append(i if name else None)
            i += 1 if name else 0

        def slow(r: Any) -> tuple:
            values = get(r)
            return tuple(values[p] if p is not None else d for p, d in zip(positions, defaults))
        return slow
