"""Tariffs: the price list rating reads (longest destination prefix, valid from a date to an inclusive
last day). Every change is audited (ids and counts, no prices needed to trace who did what) and, once
committed, queues the re-rating of the calls still pending or unrated (`traffic.tasks.cdr_rate_pending`):
a price once fixed on a call stays, so only calls without one can change.

- `tariff_create`: one tariff from a date (billing staff's form, the demo data, the tests).
- `tariff_end`: set a tariff's last day.
- `rate_deck_plan` / `rate_deck_apply`: a whole rate deck (`traffic.rate_deck`) from a date: the plan
  says per prefix what changes (new, new price: the current tariff ends the day before, unchanged),
  and apply takes the plan's digest, so what is applied is exactly what was previewed.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext_noop

from voipxs.exceptions import ApplicationError
from voipxs.privacy.audit import audit_record
from voipxs.privacy.purposes import Purpose

from ..models import Tariff
from ..rate_deck import DeckRow

TARIFF_ALREADY_ENDED = gettext_noop("This tariff already ended on an earlier day; it cannot be extended.")
TARIFF_END_BEFORE_START = gettext_noop("The last day cannot be before the day the tariff starts.")
DECK_CHANGED = gettext_noop("The tariffs changed since the preview. Preview the rate deck again.")
DECK_NOTHING = gettext_noop("The rate deck changes nothing: every prefix already has this price from that date.")
TARIFF_STARTS_LATER = gettext_noop("Prefix %(prefix)s already has a tariff starting on or after %(day)s; end or "
                                   "correct it first.")


def _rerate_after_commit() -> None:
    from ..tasks import cdr_rate_pending  # a service may queue its own app's task (STYLE_GUIDE)

    transaction.on_commit(lambda: cdr_rate_pending.delay(), robust=True)


def _validated(tariff: Tariff) -> Tariff:
    try:
        tariff.full_clean()
    except ValidationError as exc:
        name, messages = next(iter(exc.message_dict.items()))
        raise ApplicationError(f"{name}: {messages[0]}", {"field": name}) from None
    return tariff


@transaction.atomic
def tariff_create(*, prefix: str, zone: str, price_per_minute: Decimal, valid_from: date, setup_fee: Decimal = Decimal("0"),
                  increment_first: int = 60, increment_next: int = 60, valid_to: date | None = None, actor=None,
                  zone_nl: str = "") -> Tariff:
    if valid_to is not None and valid_to < valid_from:
        raise ApplicationError(TARIFF_END_BEFORE_START, {"field": "valid_to"})
    tariff = _validated(Tariff(prefix=prefix.lstrip("+"), zone=zone, zone_nl=zone_nl, price_per_minute=price_per_minute, setup_fee=setup_fee,
                               increment_first=increment_first, increment_next=increment_next, valid_from=valid_from,
                               valid_to=valid_to))
    tariff.save()
    audit_record(actor=actor, action="tariff.create", purpose=Purpose.BILLING, target_type="tariff",
                 target_id=tariff.pk, extra={"valid_from": valid_from.isoformat()})
    _rerate_after_commit()
    return tariff


@transaction.atomic
def tariff_end(*, tariff: Tariff, last_day: date, actor: Any) -> Tariff:
    """The tariff holds up to and including `last_day`. Ending earlier than an earlier end is allowed
    (a correction); extending an ended tariff is not (make a new one)."""
    tariff = Tariff.objects.select_for_update().get(pk=tariff.pk)
    if last_day < tariff.valid_from:
        raise ApplicationError(TARIFF_END_BEFORE_START, {"field": "valid_to"})
    if tariff.valid_to is not None and last_day > tariff.valid_to:
        raise ApplicationError(TARIFF_ALREADY_ENDED, {"field": "valid_to"})
    previous, tariff.valid_to = tariff.valid_to, last_day
    tariff.save(update_fields=["valid_to"])
    audit_record(actor=actor, action="tariff.end", purpose=Purpose.BILLING, target_type="tariff", target_id=tariff.pk,
                 extra={"valid_to": last_day.isoformat(), "was": previous.isoformat() if previous else None})
    _rerate_after_commit()
    return tariff


@transaction.atomic
def tariff_admin_save(*, tariff: Tariff, changed: list[str], actor: Any) -> Tariff:
    """An administrator's edit in the Django admin: the same checks, audit and re-rating as the pages."""
    created = tariff.pk is None
    _validated(tariff).save()
    audit_record(actor=actor, action="tariff.admin_save", purpose=Purpose.BILLING, target_type="tariff",
                 target_id=tariff.pk, extra={"created": created, "fields": sorted(changed)})
    _rerate_after_commit()
    return tariff


@transaction.atomic
def tariff_admin_delete(*, tariff: Tariff, actor: Any) -> None:
    """Prices already fixed on calls stay; calls still unpriced may become unrated."""
    audit_record(actor=actor, action="tariff.admin_delete", purpose=Purpose.BILLING, target_type="tariff",
                 target_id=tariff.pk)
    tariff.delete()


@dataclass(frozen=True)
class DeckChange:
    kind: str  # "new", "price", "unchanged"
    row: DeckRow
    current: Tariff | None

    def as_dict(self) -> dict:
        cur = self.current
        return {"kind": self.kind, "line": self.row.line, "prefix": self.row.prefix, "description": self.row.description,
                "description_nl": self.row.description_nl, "rate": str(self.row.rate), "increments": f"{self.row.increment_first}/{self.row.increment_next}",
                "current_tariff": cur.pk if cur else None,
                "current_rate": str(cur.price_per_minute) if cur else None,
                "current_increments": f"{cur.increment_first}/{cur.increment_next}" if cur else None}


@dataclass
class DeckPlan:
    valid_from: date
    changes: list[DeckChange] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        counts = {"new": 0, "price": 0, "unchanged": 0}
        for change in self.changes:
            counts[change.kind] += 1
        return counts

    @property
    def digest(self) -> str:
        """What the preview showed, including the current tariffs it would end: apply refuses another."""
        body = json.dumps([self.valid_from.isoformat(), [c.as_dict() for c in self.changes]], sort_keys=True)
        return hashlib.sha256(body.encode()).hexdigest()


def _same(row: DeckRow, tariff: Tariff) -> bool:
    return (tariff.price_per_minute == row.rate and tariff.zone == row.description and tariff.setup_fee == 0
            and (tariff.increment_first, tariff.increment_next) == (row.increment_first, row.increment_next)
            and row.description_nl in (None, tariff.zone_nl))


def _zone_nl(row: DeckRow, current: Tariff | None) -> str:
    """The deck's Dutch name; a line without one keeps the current tariff's, if it names the same zone."""
    if row.description_nl is not None:
        return row.description_nl
    return current.zone_nl if current is not None and current.zone == row.description else ""


def rate_deck_plan(*, rows: list[DeckRow], valid_from: date) -> DeckPlan:
    """Per prefix of the deck: the tariff in force on `valid_from` and what the deck would do to it.
    Prefixes the deck does not name keep their tariffs."""
    prefixes = [row.prefix for row in rows]
    in_force: dict[str, Tariff] = {}
    for tariff in Tariff.objects.filter(prefix__in=prefixes).order_by("prefix", "-valid_from", "-id"):
        if tariff.valid_from > valid_from or (tariff.valid_from == valid_from and not _same_row(rows, tariff)):
            params = {"prefix": tariff.prefix, "day": valid_from.isoformat()}
            raise ApplicationError.formatted(TARIFF_STARTS_LATER, params, field="valid_from")
        if tariff.valid_to is None or tariff.valid_to >= valid_from:
            in_force.setdefault(tariff.prefix, tariff)
    plan = DeckPlan(valid_from=valid_from)
    for row in rows:
        current = in_force.get(row.prefix)
        kind = "new" if current is None else "unchanged" if _same(row, current) else "price"
        plan.changes.append(DeckChange(kind, row, current))
    return plan


def _same_row(rows: list[DeckRow], tariff: Tariff) -> bool:
    """A tariff starting that very day is fine only if the deck repeats it (a deck applied twice)."""
    return any(row.prefix == tariff.prefix and _same(row, tariff) for row in rows)


@transaction.atomic
def rate_deck_apply(*, rows: list[DeckRow], valid_from: date, confirm: str, actor: Any) -> DeckPlan:
    """Apply the previewed plan: each changed price ends the current tariff the day before `valid_from`
    and starts the deck's; new prefixes start; unchanged ones stay. One transaction, one audit entry."""
    list(Tariff.objects.select_for_update().filter(Q(prefix__in=[r.prefix for r in rows])))  # no change in between
    plan = rate_deck_plan(rows=rows, valid_from=valid_from)
    if confirm != plan.digest:
        raise ApplicationError(DECK_CHANGED, {"field": "confirm"})
    if not plan.counts["new"] and not plan.counts["price"]:
        raise ApplicationError(DECK_NOTHING, {"field": "file"})
    new = []
    for change in plan.changes:
        if change.kind == "unchanged":
            continue
        if change.current is not None:
            Tariff.objects.filter(pk=change.current.pk).update(valid_to=valid_from - timedelta(days=1))
        new.append(Tariff(prefix=change.row.prefix, zone=change.row.description,
                          zone_nl=_zone_nl(change.row, change.current), price_per_minute=change.row.rate,
                          increment_first=change.row.increment_first, increment_next=change.row.increment_next,
                          valid_from=valid_from))
    for tariff in new:
        _validated(tariff)
    Tariff.objects.bulk_create(new)
    audit_record(actor=actor, action="tariff.rate_deck", purpose=Purpose.BILLING, target_type="tariff", target_id="",
                 extra={"valid_from": valid_from.isoformat(), **plan.counts,
                        "ended": [c.current.pk for c in plan.changes if c.kind == "price"]})
    _rerate_after_commit()
    return plan
