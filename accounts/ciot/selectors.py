"""Reads for the CIOT subscriber file. The rows carry names and addresses, so they are read only for the
purpose CIOT (granted to the sync job alone), and every read is audited."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.utils.timezone import now

from voipxs.privacy.purposes import Purpose, require_purpose

from ..models import PhoneNumber
from .models import CiotSyncRun, SubscriberDetails

# VoIPXS sells one service: telephony over IP on a geographic or mobile-range number (Bvgt "soort dienst").
SERVICE_TYPE = "VoIP telephony"


@dataclass(frozen=True)
class CiotRecord:
    """One row of the file: who held `number` in [valid_from, valid_to) with this name and address."""

    number: str
    service_type: str
    name: str
    street: str
    house_number: str
    postcode: str
    town: str
    valid_from: datetime
    valid_to: datetime | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


FIELDS = tuple(CiotRecord.__dataclass_fields__)


def _overlap(a_from: datetime, a_to: datetime | None, b_from: datetime, b_to: datetime | None):
    start = max(a_from, b_from)
    ends = [e for e in (a_to, b_to) if e is not None]
    end = min(ends) if ends else None
    return (start, end) if end is None or start < end else None


def _gaps(start: datetime, end: datetime | None, covered: list[tuple]) -> list[tuple]:
    """The stretches of [start, end) that no address version covers (covered: sorted, non-overlapping)."""
    gaps, cursor = [], start
    for a_from, a_to in covered:
        if cursor < a_from:
            gaps.append((cursor, a_from))
        cursor = a_to
        if cursor is None:
            return gaps
    if end is None or cursor < end:
        gaps.append((cursor, end))
    return gaps


def _records_of(phone: PhoneNumber, details: list[SubscriberDetails]) -> tuple[list[CiotRecord], bool]:
    """The number's period cut by the holder's address versions; an uncovered stretch gives an empty row,
    so the file dates the number from when it was held, not from when an address was first recorded."""
    rows: list[CiotRecord] = []
    covered = []
    for d in details:
        span = _overlap(phone.valid_from, phone.valid_to, d.valid_from, d.valid_to)
        if span:
            covered.append(span)
            rows.append(CiotRecord(phone.number, SERVICE_TYPE, d.name, d.street, d.house_number, d.postcode,
                                   d.town, span[0], span[1]))
    gaps = _gaps(phone.valid_from, phone.valid_to, covered)
    for g_from, g_to in gaps:
        rows.append(CiotRecord(phone.number, SERVICE_TYPE, "", "", "", "", "", g_from, g_to))
    return rows, not gaps


def ciot_records(*, actor: Any) -> tuple[list[CiotRecord], int]:
    """Every number period still held in the database (current and past: porting and closure end a period,
    erasure removes it), with the holder's name and address over that period. Returns (rows, incomplete)."""
    require_purpose(actor=actor, purpose=Purpose.CIOT, action="ciot.records", target_type="subscriber_file")
    details: dict[int, list[SubscriberDetails]] = {}
    for d in SubscriberDetails.objects.order_by("user_id", "valid_from"):
        details.setdefault(d.user_id, []).append(d)
    rows: list[CiotRecord] = []
    incomplete = 0
    for phone in PhoneNumber.objects.filter(user__anonymised_at__isnull=True).order_by("valid_from", "pk"):
        found, complete = _records_of(phone, details.get(phone.user_id, []))
        rows.extend(found)
        incomplete += 0 if complete else 1
    rows.sort(key=lambda r: (r.number, r.valid_from))
    return rows, incomplete


def ciot_current_count(rows: list[CiotRecord], *, at: datetime | None = None) -> int:
    at = at or now()
    return sum(1 for r in rows if r.valid_from <= at and (r.valid_to is None or at < r.valid_to))


def ciot_sync_run_list(*, limit: int = 20) -> QuerySet[CiotSyncRun]:
    """The sync log (counts, status, hash; no personal data): shown to the DPO and administrators."""
    return CiotSyncRun.objects.all()[:limit]


def ciot_sync_last_done() -> CiotSyncRun | None:
    return CiotSyncRun.objects.filter(status=CiotSyncRun.Status.DONE).order_by("-started_at", "-pk").first()
