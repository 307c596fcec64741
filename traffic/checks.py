"""System checks on stored tariffs (LEGAL.md section 5 row 3): tariffs made before traffic/tariff_rules.py
existed may still have a prefix as long as a number, or a number in their zone's name, which invoice lines
(kept 7 years) would repeat. New tariffs cannot (the rules refuse them); these find the old ones.

They read the database, so they run where Django runs database checks: `manage.py check --database default`
and every `manage.py migrate`. A too-narrow prefix IS a number: the warnings name tariffs by id (and zone,
where the zone holds no number), never by prefix. Only tariffs not yet ended count: ending one (the staff
tariff page's "End", which changes nothing else of it) is the remedy, and the invoices already made stay
as they were issued.
"""
from __future__ import annotations

from django.core.checks import Tags, Warning, register
from django.db import DatabaseError
from django.db.models import Q
from django.utils.timezone import localdate

from voipxs.privacy.number_ranges import prefix_too_narrow

from .tariff_rules import zone_holds_number

SHOWN = 20  # ids listed in a warning; the rest are counted


def _listed(items: list[str]) -> str:
    more = len(items) - SHOWN
    return ", ".join(items[:SHOWN]) + (f" and {more} more" if more > 0 else "")


@register(Tags.database)
def tariffs_keep_numbers_off_invoices(app_configs=None, databases=None, **kwargs) -> list[Warning]:
    from .models import Tariff

    warnings: list[Warning] = []
    for alias in databases or ():
        try:
            tariffs = list(Tariff.objects.using(alias).filter(Q(valid_to__isnull=True) | Q(valid_to__gte=localdate()))
                           .order_by("id").values_list("id", "prefix", "zone"))
        except DatabaseError:  # not migrated yet (the checks `migrate` runs first)
            continue
        narrow = [f"{pk} ({'?' if zone_holds_number(zone) else zone})" for pk, prefix, zone in tariffs
                  if prefix_too_narrow(prefix)]
        numbered = [str(pk) for pk, _, zone in tariffs if zone_holds_number(zone)]
        if narrow:
            warnings.append(Warning(
                f"{len(narrow)} tariff(s) have a prefix so long that invoice lines, kept 7 years, would name the "
                f"numbers called (LEGAL.md row 3): id (zone) {_listed(narrow)}.",
                hint="End each of them on the staff tariff page and add one with a shorter prefix (the page says "
                     "how long a prefix may be).", id="traffic.W001"))
        if numbered:
            warnings.append(Warning(
                f"{len(numbered)} tariff(s) have a phone number in their zone, which invoices print and keep "
                f"7 years (LEGAL.md row 3): ids {_listed(numbered)}.",
                hint="End each of them on the staff tariff page and add one whose zone names the destination "
                     "without digits.",
                id="traffic.W002"))
    return warnings
