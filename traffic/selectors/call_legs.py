"""One call with its legs: a switch writes a record per leg (Asterisk 12+: per pair of parties; a ring
group, a Local-channel fork or a transfer gives several), and the call list, the itemised bill and the
exports show the call once, its legs under it.

A leg's call is `(source, call_id or unique_id)` (traffic.models.Cdr.call_id). Rows of one read
that share it become one CallRow: the leg that was answered with the most billed seconds speaks for the
call (else its first leg), the call's billed seconds are the talk time its answered legs cover (both
halves of a Local channel talk at once: counted once; legs one after the other, as in a transfer: added),
its price the sum over its legs (each answered leg is rated once at import: a hop into a Local channel is
free, its other half is priced),
`legs` holds every leg in time order and `notes` the notes on any of them (traffic.selectors.annotations).
Copies kept in the hold table have no call_id: their call is their unique_id.
"""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Iterable

ANSWERED = "answered"


def call_key(source_id: object, unique_id: str, call_id: str) -> str:
    return f"{source_id}:{call_id or unique_id}"


def calls_of(rows: Iterable) -> list:
    """CallRows (each with its `call_key`) → one CallRow per call, in the order of each call's first row
    here; a call of one leg is returned as it is."""
    grouped: dict[str, list] = {}
    for row in rows:
        grouped.setdefault(row.call_key or f"row:{row.id}", []).append(row)
    return [legs[0] if len(legs) == 1 else _one_call(legs) for legs in grouped.values()]


def _talked(answered: list) -> int:
    """Seconds covered by the answered legs' talk, overlaps counted once."""
    spans = sorted((leg.answered_at or leg.started_at, leg.billsec) for leg in answered)
    total, reach = 0, None
    for start, seconds in spans:
        end = start + timedelta(seconds=seconds)
        if reach is None or start >= reach:
            total += seconds
            reach = end
        elif end > reach:
            total += int((end - reach).total_seconds())
            reach = end
    return total


def _one_call(legs: list):
    in_time = sorted(legs, key=lambda leg: (leg.started_at, leg.id))
    answered = [leg for leg in in_time if leg.disposition == ANSWERED]
    head = max(answered, key=lambda leg: leg.billsec) if answered else in_time[0]
    prices = [leg.price for leg in in_time if leg.price is not None]
    return head._replace(
        started_at=in_time[0].started_at, billsec=_talked(answered),
        price=sum(prices, Decimal(0)) if prices else None, legs=tuple(in_time),
        notes=tuple(note for leg in in_time for note in leg.notes),  # a note on any leg is the call's
    )
