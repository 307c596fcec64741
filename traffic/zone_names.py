"""Tariff zone names in the reader's language.

A zone's name is data: billing staff type it on the tariff ("Description (zone)"), and rating copies it onto each
call and, aggregated, onto the invoice's lines (which outlive the tariff by years). So its Dutch name is data too:
`Tariff.zone_nl`, typed beside it; a zone's Dutch name is that of the newest tariff with that zone that has one
(`dutch_zone_names`). The call list names its zones through `zone_namer(zones)`, from the tariffs as they are now.
An invoice is a legal document that must not change once issued: the invoice run stores each line's Dutch name on
the line (`InvoiceLine.zone_nl`), and its page and PDF show that (`zones_named`), whatever the tariff says later.
The one zone named in code (free calls to Dutch freephone numbers, traffic.rating.FREEPHONE) is translated in the
catalogue instead, stored in English as every zone is. What is stored never changes with the reader's language: the
API and CSV exports keep the zone as stored.
"""
from __future__ import annotations

from typing import Callable, Iterable

from django.utils.translation import get_language, pgettext_lazy

from .models import Tariff
from .rating import FREEPHONE

# Zones named in code, stored as their English text: the catalogue translates them (context "tariff zone").
CODE_ZONES = {FREEPHONE.zone: pgettext_lazy("tariff zone", "NL freephone (0800)")}


def _dutch() -> bool:
    return (get_language() or "").startswith("nl")


def dutch_zone_names(zones: Iterable[str]) -> dict[str, str]:
    """The Dutch name of each of `zones` that has one, in one query (none for zones named in code only): that of the
    newest tariff with the zone that has one. Zones named in code are left out: the catalogue names them."""
    asked = set(zones) - CODE_ZONES.keys()
    if not asked:
        return {}
    rows = (Tariff.objects.filter(zone__in=asked).exclude(zone_nl="")
            .order_by("valid_from", "pk").values_list("zone", "zone_nl"))
    return dict(rows)  # the newest tariff's Dutch name wins


def zone_namer(zones: Iterable[str]) -> Callable[[str], str]:
    """A function giving each of `zones` (those a page shows) its name in the active language, from the tariffs as
    they are now. In Dutch it asks for those zones' Dutch names only; in English it asks nothing."""
    names = {zone: str(text) for zone, text in CODE_ZONES.items()}
    if _dutch():
        names.update(dutch_zone_names(zones))
    return lambda zone: names.get(zone, zone)


def zones_named(lines: Iterable) -> None:
    """Gives each of `lines` (invoice lines) its `zone_shown` in the active language: the Dutch name stored on the
    line when the invoice was made, else the zone as typed; a zone named in code, the catalogue's name."""
    dutch = _dutch()
    for line in lines:
        code = CODE_ZONES.get(line.zone)
        line.zone_shown = str(code) if code is not None else (line.zone_nl or line.zone) if dutch else line.zone
