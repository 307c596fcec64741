"""Reads of tariffs for billing staff. Tariffs are prices per destination prefix, not personal data,
so no purpose is needed to read them (the pages and API that call these are for billing only)."""
from __future__ import annotations

from datetime import date

from django.db.models import Q
from django.http import Http404

from ..models import Tariff


def tariff_list(*, prefix: str | None = None, on: date | None = None, limit: int = 2000) -> list[Tariff]:
    """Tariffs by prefix, newest start first; `prefix` matches tariffs whose prefix starts with it,
    `on` keeps those valid that day."""
    qs = Tariff.objects.all()
    if prefix:
        qs = qs.filter(prefix__startswith=prefix.lstrip("+"))
    if on is not None:
        qs = qs.filter(Q(valid_to__isnull=True) | Q(valid_to__gte=on), valid_from__lte=on)
    return list(qs.order_by("prefix", "-valid_from", "-id")[:limit])


def tariff_get(tariff_id: int) -> Tariff:
    try:
        return Tariff.objects.get(pk=tariff_id)
    except (Tariff.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
