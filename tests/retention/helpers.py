"""Helpers for retention tests: invoices in a given state, a frozen clock, what survived a purge."""
from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta, timezone

from retention.models import HeldCdr
from traffic.models import Cdr, CdrTechnical, Invoice

_numbers = itertools.count(1)


def at(y: int, m: int, d: int, hh: int = 12) -> datetime:
    return datetime(y, m, d, hh, 0, tzinfo=timezone.utc)


def make_invoice(*, account, period: date, status: str = "paid", window_ends: date | None = None) -> Invoice:
    return Invoice.objects.create(
        number=f"INV-T{next(_numbers):05d}", account=account, period=period,
        issued_at=datetime(period.year, period.month, 1, tzinfo=timezone.utc) + timedelta(days=32),
        due_date=period + timedelta(days=60),
        dispute_window_ends=window_ends or (period + timedelta(days=200)),
        status=status, paid_at=datetime(period.year, period.month, 1, tzinfo=timezone.utc) + timedelta(days=45)
        if status == "paid" else None,
    )


def surviving(ids) -> set[int]:
    """CDR ids still kept anywhere: the CDR table, or the hold table after a month drop."""
    ids = list(ids)
    return set(Cdr.objects.filter(id__in=ids).values_list("id", flat=True)) | set(
        HeldCdr.objects.filter(cdr_id__in=ids).values_list("cdr_id", flat=True))


def technical_ids(ids) -> set[int]:
    return set(CdrTechnical.objects.filter(cdr_id__in=list(ids)).values_list("cdr_id", flat=True))
