"""The legal hold (retention) on a request's scope. The only module that talks to retention's
services; everything else calls these. A hold is placed the moment a request is taken in, so that
nothing it asks for is purged while it is reviewed, and follows the scope when it is narrowed."""
from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings

from retention.models import Category, LegalHold
from retention.services import legal_hold_place, legal_hold_release

from ..models import PRESERVATION_BASES, DataCategory, DisclosureRequest


def request_hold_place(*, req: DisclosureRequest, actor) -> None:
    targets = list(req.targets.all())
    categories = [Category.CDR_BILLED, Category.CDR_UNBILLED]
    if DataCategory.USER_DATA in req.categories:
        categories.append(Category.CLOSED_ACCOUNT)
    reason = (LegalHold.Reason.PRESERVATION_ORDER if req.legal_basis in PRESERVATION_BASES
              else LegalHold.Reason.DISCLOSURE_REQUEST)
    req.hold = legal_hold_place(
        reason=reason, reference=f"disclosure:{req.pk}", categories=categories, actor=actor, owner="disclosure",
        account_ids=[t.account_id for t in targets if t.account_id],
        number_indexes=[t.number_index for t in targets if t.number_index],
        window_start=req.window_start, window_end=req.window_end,
    )
    req.save(update_fields=["hold"])


def request_hold_release(*, req: DisclosureRequest, actor) -> None:
    if req.hold_id is not None and req.hold.released_at is None:
        legal_hold_release(hold=req.hold, actor=actor, owner="disclosure")


def request_hold_release_schedule(*, req: DisclosureRequest, at: datetime) -> None:
    """A request that ended keeps its hold DISCLOSURE_HOLD_RELEASE_DAYS more, for follow-up questions
    of the authority; `jobs.disclosure_holds_release_due` releases it then."""
    req.hold_release_due_at = at + timedelta(days=settings.DISCLOSURE_HOLD_RELEASE_DAYS)
