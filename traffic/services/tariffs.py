"""Tariffs: the price list rating reads (longest destination prefix, valid from a date). A tariff
made here is audited; the demo data and the tests make theirs the same way."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from voipxs.privacy.audit import audit_record

from ..models import Tariff


def tariff_create(*, prefix: str, zone: str, price_per_minute: Decimal, valid_from: date, setup_fee: Decimal = Decimal("0"),
                  increment_first: int = 60, increment_next: int = 60, actor=None) -> Tariff:
    tariff = Tariff(prefix=prefix.lstrip("+"), zone=zone, price_per_minute=price_per_minute, setup_fee=setup_fee,
                    increment_first=increment_first, increment_next=increment_next, valid_from=valid_from)
    tariff.full_clean()
    tariff.save()
    audit_record(actor=actor, action="tariff.create", target_type="tariff", target_id=tariff.pk)
    return tariff
