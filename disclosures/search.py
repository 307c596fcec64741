"""Finding a request from what the authority quotes: its own reference (or a part of it), the authority's name, a
target number (exact, through the blind index, as the support desk finds a customer) or our request number "#12".
Every state, ended ones too: the dashboard lists only the open requests and the last twenty that ended.

Audited as `disclosure.search` with only the kinds of key tried (never the text typed: it may be a number)."""
from __future__ import annotations

import re

from django.db.models import Q

from voipxs.privacy.crypto import blind_index
from voipxs.privacy.phone import InvalidNumber, normalize_e164
from voipxs.privacy.purposes import Purpose, require_purpose

from .models import DisclosureRequest, DisclosureTarget

SEARCH_LIMIT = 50
# What may be a phone number read out on the phone: a leading + or 0, digits, spaces, dashes, dots, brackets.
_NUMBER_LIKE = re.compile(r"^\+?[\d\s\-.()]{8,20}$")
_OUR_NUMBER = re.compile(r"^#?(\d{1,9})$")


def _number_index(text: str) -> str | None:
    if not _NUMBER_LIKE.match(text):
        return None
    try:
        return blind_index(normalize_e164(text), domain="phone")
    except InvalidNumber:
        return None


def disclosure_request_search(*, actor, query: str, limit: int = SEARCH_LIMIT) -> list[DisclosureRequest]:
    """The requests whose reference, renewal reference or authority's name contains `query` (case aside), whose
    target is the number `query` names, or whose number it is; the newest first, at most `limit`."""
    text = (query or "").strip()
    index = _number_index(text)
    own = _OUR_NUMBER.match(text)
    keys = ["text"] + (["number"] if index else []) + (["id"] if own else [])
    require_purpose(actor=actor, purpose=Purpose.LEGAL_OBLIGATION, action="disclosure.search",
                    target_type="disclosure_request", extra={"by": keys})
    if not text:
        return []
    match = Q(reference__icontains=text) | Q(renewal_reference__icontains=text) | Q(authority__name__icontains=text)
    if index:
        targeted = DisclosureTarget.objects.filter(kind=DisclosureTarget.Kind.NUMBER, number_index=index)
        match |= Q(pk__in=targeted.values("request_id"))
    if own:
        match |= Q(pk=int(own.group(1)))
    found = DisclosureRequest.objects.select_related("authority").filter(match).order_by("-received_at", "-pk")
    return list(found[:limit])
