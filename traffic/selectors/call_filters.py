"""The filters of the call reads (traffic.selectors.calls): the purpose's scope in the hold table, and
the filters a page, an export or the API may ask for, validated with messages that name the field."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone as dt_timezone
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.timezone import get_default_timezone
from django.utils.translation import gettext_noop

from voipxs.exceptions import ApplicationError
from voipxs.privacy.crypto import blind_index
from voipxs.privacy.phone import InvalidNumber, normalize_e164
from voipxs.privacy.purposes import Purpose

from ..models import Cdr
from .cdr_reader import held_matching

NUMBER_INVALID = gettext_noop("Enter a phone number, e.g. +31 20 555 0101 or 020 555 0101.")
DIRECTION_INVALID = gettext_noop("Direction must be one of: in, out, internal.")
PERIOD_INVALID = gettext_noop("The start date must not be after the end date.")
DATE_INVALID = gettext_noop("This date is out of range.")
# A masked reader must not learn a full number by guessing it: a filter that matched full numbers
# would confirm each guess of the hidden digits (at most 1,000 tries for three of them).
NUMBER_FILTER_MASKED = gettext_noop("Numbers are masked here, so calls cannot be searched by number.")


def default_region_of(account: Any) -> str:
    """The region a number typed by or for this account is read in (national format)."""
    contractor = getattr(account, "contractor", None) if account is not None else None
    return getattr(contractor, "default_country", None) or "NL"


def _number_index(number: str, *, region: str) -> str:
    try:
        return blind_index(normalize_e164(number.strip(), region), domain="phone")
    except InvalidNumber:
        raise ApplicationError(NUMBER_INVALID, {"field": "number"}) from None


def _as_datetime(value: date | datetime, *, end: bool = False) -> datetime:
    """A date means the whole day in the site's time zone: `since` its start, `until` its end."""
    if isinstance(value, datetime):
        return value
    try:
        day = value + timedelta(days=1) if end else value
        moment = datetime.combine(day, time.min, tzinfo=get_default_timezone())
        moment.astimezone(dt_timezone.utc)  # the database compares in UTC: the edge years overflow here
    except OverflowError:
        raise ApplicationError(DATE_INVALID, {"field": "until" if end else "since"}) from None
    return moment


def _scoped_held(scope: Q, *, actor: Any, purpose: Purpose) -> QuerySet | None:
    """The same scope in the hold table: calls a month drop kept (an open or disputed invoice, a legal
    hold), or None where months are never dropped (SQLite: the table stays empty, nothing to read).

    Rows there carry no mark that says why they were kept, and nothing read from them says so either:
    a call kept for a secret (disclosure) hold reads exactly like any other call of its owner."""
    if purpose == Purpose.SELF_SERVICE and getattr(actor, "restricted_at", None) is not None:
        # A restricted account's own CDRs are marked restricted and leave its pages; its copies in the
        # hold table may predate the restriction (unmarked), so they leave the pages with them.
        return None
    return held_matching(scope)


def _refuse_masked_number_filter(*, purpose: Purpose, number: str | None) -> None:
    """Whoever may see a number only masked may not filter by it either (the filter is an oracle).
    A customer's own masked itemised bill is a display choice, not a limit: they may search it."""
    if number and purpose == Purpose.CONTRACTOR_INFORMATION:
        raise ApplicationError(NUMBER_FILTER_MASKED, {"field": "number"})


def _filtered(qs: QuerySet[Cdr], *, since=None, until=None, direction: str | None = None,
              number: str | None = None, region: str = "NL", invoice: Any = None) -> QuerySet[Cdr]:
    if direction:
        if direction not in Cdr.Direction.values:
            raise ApplicationError(DIRECTION_INVALID, {"field": "direction"})
        qs = qs.filter(direction=direction)
    start = _as_datetime(since) if since is not None else None
    stop = _as_datetime(until, end=True) if until is not None else None
    if start is not None and stop is not None and start >= stop:
        raise ApplicationError(PERIOD_INVALID, {"field": "since"})
    if start is not None:
        qs = qs.filter(started_at__gte=start)
    if stop is not None:
        qs = qs.filter(started_at__lt=stop)
    if number:
        index = _number_index(number, region=region)
        qs = qs.filter(Q(src_index=index) | Q(dst_index=index))
    if invoice is not None:
        qs = qs.filter(invoice_id=getattr(invoice, "pk", invoice))
    return qs
