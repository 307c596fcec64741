"""Month partitions ahead of the rows: the CDR tables have no DEFAULT partition (a row for a month
without one is an error), so beat creates this month's and the coming months' partitions in time."""
from __future__ import annotations

import logging
from datetime import date

from django.utils.timezone import now

from ..partitions import add_months, cdr_partitions_ensure, month_start

logger = logging.getLogger(__name__)

PARTITIONS_AHEAD = 3


def cdr_partitions_ahead(*, months: int = PARTITIONS_AHEAD, today: date | None = None) -> list[str]:
    """Create this month's and the coming `months` months' partitions (idempotent; beat runs it)."""
    first = month_start(today or now())
    created = cdr_partitions_ensure(months=[add_months(first, n) for n in range(months + 1)])
    if created:
        logger.info("created %s CDR partitions ahead", len(created))
    return created
