"""Rating after the fact: calls the importer left pending or unrated (no tariff matched yet) are
priced once tariffs are added. A price once fixed on a call stays (an invoice must not change when a
tariff does); the pricing itself is `traffic.rating.TariffBook`, shared with the importer."""
from __future__ import annotations

from django.db import transaction

from voipxs.privacy.audit import audit_record
from voipxs.privacy.purposes import Purpose

from ..importers.base import FLAG_BILLSEC_OVER_DURATION
from ..ingest.rows import FLAG_BAD_NUMBER, FLAG_UNRATED
from ..keys import decrypt_number
from ..models import Cdr, Source
from ..rating import TariffBook

_OPEN_RATINGS = (Cdr.Rating.PENDING, Cdr.Rating.UNRATED)


def cdr_rate_pending(*, source: Source | None = None, batch_size: int = 5000, actor=None) -> int:
    """Rate CDRs still pending or unrated (e.g. after tariffs were added). Prices once fixed stay.

    Batches of `batch_size` in id order (keyset, bounded memory), one transaction each, so a run that
    stops keeps what it did. Idempotent: each row is written only while it is still pending or
    unrated, so a second run, or two at once (beat and a manual run), never re-prices a call.
    Returns how many became rated."""
    book = TariffBook.load()
    rated = 0
    last_id = 0
    base = Cdr.objects.filter(rating__in=_OPEN_RATINGS, invoice__isnull=True)
    if source is not None:
        base = base.filter(source=source)
    while True:
        rows = list(base.filter(id__gt=last_id).order_by("id")
                    .only("id", "started_at", "dst_enc", "direction", "disposition", "duration", "billsec", "flags",
                          "rating")[:batch_size])
        if not rows:
            break
        last_id = rows[-1].id
        with transaction.atomic():
            rated += sum(_cdr_rate(cdr, book=book) for cdr in rows)
    audit_record(actor=actor, action="cdr.rate_pending", purpose=Purpose.BILLING, target_type="cdr_source",
                 target_id=source.pk if source else "", extra={"rated": rated})
    return rated


def _cdr_rate(cdr: Cdr, *, book: TariffBook) -> bool:
    """Price one pending or unrated call, or mark it free or unrated. True if it became rated."""
    flags = [f for f in cdr.flags.split(",") if f and f != FLAG_UNRATED]
    # Stored before the import capped it (ingest.prepare): billed for the call's length at most, flagged, and, as the
    # import now stores it, with its billsec capped beside the price this fixes: a stored row whose billsec is over its
    # duration is one the import priced for that billsec, which every sum charges for its duration
    # (rating.BILLED_PRICE); this row's price is for its duration already and must not be cut again.
    billsec = min(cdr.billsec, cdr.duration)
    if billsec < cdr.billsec:
        flags.append(FLAG_BILLSEC_OVER_DURATION)
    if cdr.direction != Cdr.Direction.OUT or cdr.disposition != Cdr.Disposition.ANSWERED or billsec <= 0:
        cdr.rating, cdr.price, cdr.zone = Cdr.Rating.FREE, 0, ""
    else:
        dst = decrypt_number(cdr.dst_enc, started_at=cdr.started_at)
        # A bad number ("+3120555": no such number) is kept as written, never priced, as at import.
        priceable = dst.startswith("+") and FLAG_BAD_NUMBER not in flags
        rule = book.tariff_at(dst, cdr.started_at) if priceable else None
        if rule is None:
            if cdr.rating == Cdr.Rating.UNRATED:
                return False
            cdr.rating, cdr.price = Cdr.Rating.UNRATED, None
            flags.append(FLAG_UNRATED)
        else:
            cdr.rating, cdr.zone, cdr.price = Cdr.Rating.RATED, rule.zone, book.price(rule, billsec)[0]
    cdr.flags = ",".join(sorted(set(flags)))
    # filter().update(): on PostgreSQL the row's key is (id, started_at); name both so only one partition is touched.
    changed = Cdr.objects.filter(id=cdr.id, started_at=cdr.started_at, rating__in=_OPEN_RATINGS).update(
        rating=cdr.rating, zone=cdr.zone, price=cdr.price, flags=cdr.flags, billsec=billsec)
    return bool(changed) and cdr.rating == Cdr.Rating.RATED
