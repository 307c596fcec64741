"""Tariff zone names in the reader's language.

A zone's name is data: billing staff type it on the tariff ("Description (zone)"), and rating copies it onto each
call and, aggregated, onto the invoice's lines (which outlive the tariff by years). So its Dutch name is data too:
`Tariff.zone_nl`, typed beside it. The pages and the PDF show a zone through `zone_namer(zones)`: in Dutch, the Dutch name
of the newest tariff with that zone that has one, else the zone as typed. The one zone named in code (free calls to
Dutch freephone numbers, traffic.rating.FREEPHONE) is translated in the catalogue instead, stored in English as
every zone is. What is stored never changes with the reader's language: the API and CSV exports keep it as stored.
"""
from __future__ import annotations

from typing import Callable, Iterable

from django.utils.translation import get_language, pgettext_lazy

from .models import Tariff
from .rating import FREEPHONE

# Zones named in code, stored as their English text: the catalogue translates them (context "tariff zone").
CODE_ZONES = {FREEPHONE.zone: pgettext_lazy("tariff zone", "NL freephone (0800)")}


def zone_namer(zones: Iterable[str]) -> Callable[[str], str]:
    """A function giving each of `zones` (those a page shows) its name in the active language. In Dutch it asks
    for those zones' Dutch names only, in one query, and none when every zone is named in code (or none shown)."""
    names = {zone: str(text) for zone, text in CODE_ZONES.items()}
    asked = set(zones) - names.keys()
    if asked and (get_language() or "").startswith("nl"):
        rows = (Tariff.objects.filter(zone__in=asked).exclude(zone_nl="")
                .order_by("valid_from", "pk").values_list("zone", "zone_nl"))
        names.update(rows)  # the newest tariff's Dutch name wins
    return lambda zone: names.get(zone, zone)


def zones_named(items: Iterable) -> None:
    """Gives each of `items` (invoice lines) its `zone_shown`."""
    items = list(items)
    name = zone_namer(item.zone for item in items)
    for item in items:
        item.zone_shown = name(item.zone)
