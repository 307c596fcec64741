"""The technical identifiers of the hold table's copies, once no hold on them is left (LEGAL.md section 5 rows 1, 13).

A month dropped whole copies a kept call with its technical identifiers (`HeldCdr.technical_enc`) when a hold on
`cdr_technical` covered it. The copy itself stays while any hold or open invoice needs the call (`step_held_cdrs`),
but its identifiers were kept only for that hold: once it has ended (released, expired, or the call out of its
window) they go, in batches, the call's billing fields staying. On SQLite and for partial months the technical rows
are in traffic_cdrtechnical, which `step_cdr_technical` already empties the same way.
"""
from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from django.db.models import QuerySet

from ..models import Category, HeldCdr
from .rules import Cutoffs, held_q

if TYPE_CHECKING:
    from .run import PurgeContext

CATEGORY = "held_cdr_technical"


def held_technical_select(c: Cutoffs) -> QuerySet:
    """Copies past the technical period that still carry technical identifiers no active hold covers."""
    qs = HeldCdr.objects.filter(technical_enc__isnull=False, started_at__lt=c.technical)
    hold = held_q(c, Category.CDR_TECHNICAL)
    return qs if hold is None else qs.exclude(hold)


def _clear(ids: list[int]) -> int:
    return HeldCdr.objects.filter(id__in=ids, technical_enc__isnull=False).update(technical_enc=None)


def step_held_technical(ctx: PurgeContext) -> None:
    """Technical identifiers of kept copies whose hold on them ended: cleared, the copy stays."""
    receipt = ctx.begin(CATEGORY, category=CATEGORY, cutoff=ctx.cutoffs.technical)
    receipt.close(deleted=ctx.remove(select=partial(held_technical_select, ctx.cutoffs), delete=_clear,
                                     label=CATEGORY, receipt=receipt))
