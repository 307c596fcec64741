"""The output check's look at the records themselves (LEGAL.md section 5, row 16: "every row must match a target and
fall in the range ... maxHits is respected"). Production checks the rows it renders (production.check_rows); this
checks what was stored, in every file that carries records (calls.csv, calls.json, calls_etsi.xml), read the way
its reader reads it, one record at a time (stored.content_problem): a record slipped into any one of them after
the build, or a renderer that writes something else than the rows it was given, fails the output check, named by
file and by the record's place in it, never by its data.

A record is in scope when it starts within the request's window and one of its party numbers is a target number
at that time (a period in which a user of ours held it, clipped to the window: selectors.scope_of), or when it is
a call of a target account: its record id is one of that account's calls in the window, starting when the record
says. The files give times to the second (the ETSI GeneralizedTime, the ISO text of calls.csv and calls.json), so
a record's second must meet the window: a call at 12:00:00.4 is written 12:00:00 and is in a window opening at
12:00:00.2. No file holds more records than the authority's cap (maxHits), where it set one.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Callable, Iterable

from django.db.models import Q

from traffic.selectors.cdr_reader import CallDecryptor, calls_matching
from voipxs.privacy.crypto import blind_index
from voipxs.privacy.purposes import require_purpose

from . import problems as P
from .models import DisclosureRequest
from .selectors import Interval, Scope, request_purpose, scope_of

_SECOND = timedelta(seconds=1)
_CDR_ID = re.compile(r'"cdrID"="(\d+)"')  # in the ETSI record's otherInformation (etsi._record)


class ScopeRule:
    """The approved scope and the cap, as the output check holds a file's records against them."""

    def __init__(self, *, scope: Scope, max_hits: int | None, account_calls: dict[int, datetime]) -> None:
        self.scope, self.max_hits, self._account_calls = scope, max_hits, account_calls
        self._indexes: dict[str, str] = {}

    def _index(self, number: str) -> str:
        index = self._indexes.get(number)
        if index is None:
            index = self._indexes[number] = blind_index(number, domain="phone")
        return index

    def refusal(self, *, record_id: str, numbers: Iterable[str], start: datetime) -> str | None:
        """Why the record (its id, party numbers, start time to the second) is outside the scope; None: it is in."""
        if not _meets(self.scope.window, start):
            return P.problem(P.STARTS_OUTSIDE)
        for number in numbers:
            if any(_meets(iv, start) for iv in self.scope.numbers.get(self._index(number), ())):
                return None
        if record_id.isdigit() and self._account_calls.get(int(record_id)) == start:
            return None
        return P.problem(P.NO_TARGET_NOR_ACCOUNT if self.scope.accounts else P.NO_TARGET)

    def subscriber_refusal(self, record: dict) -> str | None:
        """Why a subscriber record of subscribers.json is outside the scope; None: it is in. In: a target account, or
        a holder of a target number in the window; and every number it lists is one it held while that number was a
        target (the periods selectors.disclosure_subscribers writes), so no other number of theirs goes out."""
        numbers = record.get("numbers") or []
        for held in numbers:
            start = datetime.fromisoformat(held["valid_from"])
            end = datetime.fromisoformat(held["valid_to"]) if held.get("valid_to") else None
            if not self.scope.held_in_scope(self._index(held["number"]), start, end):
                return P.problem(P.NUMBER_NOT_TARGET)
        if numbers or record.get("account_id") in self.scope.accounts:
            return None
        return P.problem(P.NO_TARGET_ACCOUNT_NOR_HOLDER)

    def first_subscriber_outside(self, records: list) -> tuple[int, str] | None:
        """The place (from 1) of the first subscriber record outside the scope, and why; None: all are in.
        ValueError (the file does not open as the format: stored.content_problem) for a record of another shape."""
        for n, record in enumerate(records, start=1):
            try:
                reason = self.subscriber_refusal(record)
            except (AttributeError, KeyError, TypeError) as exc:  # not a record as the package format writes one
                raise ValueError(f"subscriber {n} is not a record of the package format") from exc
            if reason is not None:
                return n, reason
        return None


def _meets(interval: Interval, second: datetime) -> bool:
    """Whether the second starting at `second` (a time the file gives to the second) meets `interval`."""
    return second < interval.end and second + _SECOND > interval.start


def iso_second(text: str) -> datetime:
    """A start time as calls.csv and calls.json write it (2026-03-01T12:00:00Z)."""
    moment = datetime.fromisoformat(text)
    if moment.utcoffset() != timedelta(0):
        raise ValueError("not a UTC time")
    return moment


def generalized_second(text: str) -> datetime:
    """A start time as the ETSI file writes it (GeneralizedTime in UTC, 20260301120000Z)."""
    return datetime.strptime(text, "%Y%m%d%H%M%SZ").replace(tzinfo=timezone.utc)


class RecordTally:
    """One file's records, counted and, given a rule, each held against it as it is read: `add` one at a time, then
    `problems`. Keeps the first record out of scope (its place in the file) and the count, never a record."""

    def __init__(self, name: str, rule: ScopeRule | None, *, parse: Callable[[str], datetime]) -> None:
        self.name, self.rule, self.count, self._parse = name, rule, 0, parse
        self._first: str | None = None

    def add(self, *, record_id: str, numbers: Iterable[str], starts: Iterable[str]) -> None:
        self.count += 1
        if self.rule is None or self._first is not None:
            return
        try:
            seconds = {self._parse(text) for text in starts}
        except (ValueError, TypeError):
            self._first = P.problem(P.RECORD_UNTIMED, file=self.name, n=self.count)
            return
        numbers = list(numbers)
        for second in sorted(seconds) or [None]:
            reason = (P.problem(P.NO_START) if second is None
                      else self.rule.refusal(record_id=record_id, numbers=numbers, start=second))
            if reason:
                self._first = P.problem(P.RECORD_OUTSIDE, file=self.name, n=self.count, reason=reason)
                return

    def problems(self, record_count: int | None) -> list[str]:
        """What is wrong with the file's records: one out of scope, more than the cap, or (`record_count`: the
        manifest's) another number of them. Each is made text when shown (problems.py)."""
        out = [self._first] if self._first else []
        cap = self.rule.max_hits if self.rule is not None else None
        if cap is not None and self.count > cap:
            out.append(P.problem(P.OVER_CAP, file=self.name, n=self.count, cap=cap))
        if record_count is not None and self.count != record_count:
            out.append(P.problem(P.RECORDS_DIFFER, file=self.name, n=self.count, manifest=record_count))
        return out


def etsi_record_id(other_information: str) -> str:
    match = _CDR_ID.search(other_information or "")
    return match[1] if match else ""


def disclosure_output_scope(*, actor, request: DisclosureRequest) -> ScopeRule:
    """The rule the output check holds a package's records against: the request's approved scope and cap, and, for
    target accounts, the ids and start times (to the second) of their calls in the window. A read of calls: the
    actor's purpose is checked and the read recorded, under the purpose the request serves."""
    require_purpose(actor=actor, purpose=request_purpose(request), action="disclosure.output_scope",
                    target_type="disclosure_request", target_id=request.pk)
    scope = scope_of(request)
    calls: dict[int, datetime] = {}
    if scope.accounts and "traffic_data" in scope.categories:
        window = scope.window
        filters = [Q(account_id=a, started_at__gte=window.start, started_at__lt=window.end)
                   for a in sorted(scope.accounts)]
        for (pk, started), _read in calls_matching(filters=filters, fields=("id", "started_at"),
                                                  decrypt=CallDecryptor()):
            calls[pk] = started.astimezone(timezone.utc).replace(microsecond=0)
    return ScopeRule(scope=scope, max_hits=request.max_hits, account_calls=calls)
