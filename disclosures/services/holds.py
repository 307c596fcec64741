"""The legal hold (retention) on a request's scope. The only module that talks to retention's
services; everything else calls these. A hold is placed the moment a request is taken in, so that
nothing it asks for is purged while it is reviewed, and follows the scope when it is narrowed. A
preservation order's hold carries its statutory end (bases.py), renewed once at most."""
from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings

from retention.models import Category, LegalHold
from retention.services import legal_hold_place, legal_hold_release, legal_hold_renew

from ..bases import PRESERVATION_BASES
from ..models import DataCategory, DisclosureRequest

OWNER = "disclosure"


def request_hold_place(*, req: DisclosureRequest, actor) -> None:
    targets = list(req.targets.all())
    categories = [Category.CDR_BILLED, Category.CDR_UNBILLED]
    if DataCategory.USER_DATA in req.categories:
        categories.append(Category.CLOSED_ACCOUNT)
    reason = (LegalHold.Reason.PRESERVATION_ORDER if req.legal_basis in PRESERVATION_BASES
              else LegalHold.Reason.DISCLOSURE_REQUEST)
    req.hold = legal_hold_place(
        reason=reason, reference=f"disclosure:{req.pk}", categories=categories, actor=actor, owner=OWNER,
        account_ids=[t.account_id for t in targets if t.account_id],
        number_indexes=[t.number_index for t in targets if t.number_index],
        window_start=req.window_start, window_end=req.window_end,
        starts_at=req.received_at, expires_at=req.preserve_until,
    )
    req.save(update_fields=["hold"])


def request_hold_release(*, req: DisclosureRequest, actor, reason: str = LegalHold.Release.RELEASED,
                         now: datetime | None = None) -> None:
    if req.hold_id is not None and req.hold.released_at is None:
        legal_hold_release(hold=req.hold, actor=actor, owner=OWNER, reason=reason, now=now)


def request_hold_renew(*, req: DisclosureRequest, actor, expires_at: datetime, order_reference: str,
                       now: datetime | None = None) -> None:
    legal_hold_renew(hold=req.hold, expires_at=expires_at, order_reference=order_reference, actor=actor,
                     owner=OWNER, now=now)


def request_hold_release_due(*, req: DisclosureRequest, at: datetime, keep_to_term: bool = False) -> datetime:
    """When the hold of a request that ends at `at` is released. It keeps its hold DISCLOSURE_HOLD_RELEASE_DAYS
    more, for follow-up questions of the authority; `jobs.disclosure_holds_release_due` releases it then. A
    preservation's hold never outlives its order (it expires at preserve_until); a preservation closed as done
    (`keep_to_term`) keeps its data to that term, one rejected or withdrawn goes after the grace period or the term."""
    due = at + timedelta(days=settings.DISCLOSURE_HOLD_RELEASE_DAYS)
    if req.preserve_until is not None:
        due = req.preserve_until if keep_to_term else min(due, req.preserve_until)
    return due


def request_hold_release_schedule(*, req: DisclosureRequest, at: datetime, keep_to_term: bool = False) -> None:
    """Set the release of the hold of a request that ended at `at` (request_hold_release_due)."""
    req.hold_release_due_at = request_hold_release_due(req=req, at=at, keep_to_term=keep_to_term)
