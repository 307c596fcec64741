"""Click-to-call set-up (issue 12): from a number someone clicked to a call the switch rings.

The request holds only the chosen number (and optionally which own number rings first): the service gets
nothing else, so it can store nothing else. Steps: count the request against the user's rate limit, read
the number in the region of the user's own number, refuse blocked prefixes, record the use of the number
under the purpose CALL_SETUP (audited), then ask the switch. The record is written in the same
transaction as the switch is asked: when the switch fails, the exception rolls the record back, so
nothing says a call was set up that was not. Blocked prefixes are kept by fraud analysts (below).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Mapping
from urllib.parse import unquote

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.timezone import now
from django.utils.translation import gettext_noop

from accounts.models import CallSetupToken, PhoneNumber, User
from voipxs.exceptions import ApplicationError
from voipxs.privacy.audit import audit_access, audit_record
from voipxs.privacy.crypto import blind_index
from voipxs.privacy.phone import InvalidNumber, normalize_e164, region_of
from voipxs.privacy.purposes import RETENTION_PURPOSE, Purpose, require_purpose
from voipxs.ratelimit import rate_limit_exceeded

from ..callsetup.backends import switch_adapter
from ..callsetup.base import CallRequest, SwitchUnavailable
from ..models import BlockedPrefix, CallSetup

NUMBER_INVALID = gettext_noop("This is not a phone number that can be called.")
NUMBER_TOO_LONG = gettext_noop("A phone number has at most 15 digits.")
OWN_NUMBER_MISSING = gettext_noop("You hold no phone number that could ring first.")
OWN_NUMBER_UNKNOWN = gettext_noop("This is not one of your current numbers.")
PREFIX_INVALID = gettext_noop("A prefix is 1 to 15 digits, without '+' or spaces (e.g. 31900).")
PREFIX_EXISTS = gettext_noop("This prefix is already blocked.")
_TEL_PARAMS = re.compile(r";.*$")


class RateLimited(Exception):
    """Too many set-ups by this user in the current window."""


class NumberRefused(ApplicationError):
    """The chosen number cannot be called (not a number, or a blocked prefix); `extra` names field and reason."""


@dataclass(frozen=True)
class SetUp:
    record: CallSetup
    own_number: str
    number: str


def clicked_number_e164(raw: str, *, region: str) -> str:
    """What people click, to E.164: '020-555 0101', '+31 (0)20 5550101', 'tel:+31205550101;ext=1'."""
    text = (raw or "").strip()
    if len(text) > 64:
        raise NumberRefused(NUMBER_TOO_LONG, extra={"field": "number", "reason": "invalid"})
    if text.lower().startswith("tel:"):
        text = _TEL_PARAMS.sub("", unquote(text[4:])).strip()
    try:
        return normalize_e164(text, region)
    except InvalidNumber:
        raise NumberRefused(NUMBER_INVALID, extra={"field": "number", "reason": "invalid"}) from None


def blocked_prefix_for(e164: str) -> BlockedPrefix | None:
    digits = e164.lstrip("+")
    heads = [digits[:i] for i in range(1, len(digits) + 1)]
    return BlockedPrefix.objects.filter(prefix__in=heads).order_by("-prefix").first()


def _own_number(*, user: User, from_id: int | None) -> PhoneNumber:
    moment = now()
    current = (PhoneNumber.objects.filter(user=user, valid_from__lte=moment)
               .filter(Q(valid_to__isnull=True) | Q(valid_to__gt=moment)))
    if from_id is not None:
        own = current.filter(pk=from_id).first()
        if own is None:
            raise NumberRefused(OWN_NUMBER_UNKNOWN, extra={"field": "from", "reason": "not_yours"})
        return own
    own = current.order_by("-valid_from", "-pk").first()
    if own is None:
        raise NumberRefused(OWN_NUMBER_MISSING, extra={"field": "from", "reason": "no_number"})
    return own


def _refuse(user: User, reason: str, **extra) -> None:
    """Audit a set-up that did not happen (written even though the request's transaction rolls back)."""
    audit_access(actor=user, purpose=Purpose.CALL_SETUP, action="call_setup.refused", target_type="user",
                 target_id=user.pk, outcome="refused", extra={"reason": reason, **extra})


@transaction.atomic
def call_setup_request(*, user: User, number: str, from_id: int | None = None,
                       token: CallSetupToken | None = None) -> SetUp:
    """Ring `user`'s own phone, then `number`. Raises RateLimited, NumberRefused, PermissionDenied (the
    role has no CALL_SETUP purpose) or SwitchUnavailable; records nothing unless the switch took the call."""
    if rate_limit_exceeded(scope="call-setup", key=str(user.pk), limit=settings.CALL_SETUP_RATE_LIMIT,
                           window_seconds=settings.CALL_SETUP_RATE_WINDOW_SECONDS):
        _refuse(user, "rate_limited")
        raise RateLimited()
    own = _own_number(user=user, from_id=from_id)
    try:
        chosen = clicked_number_e164(number, region=region_of(own.number))
    except NumberRefused:
        _refuse(user, "invalid_number")
        raise
    blocked = blocked_prefix_for(chosen)
    if blocked is not None:
        _refuse(user, "blocked_prefix", prefix_id=blocked.pk)
        raise NumberRefused(str(BlockedPrefix.Reason(blocked.reason).label),
                            extra={"field": "number", "reason": blocked.reason})
    via = CallSetup.Via.EXTENSION if token is not None else CallSetup.Via.PORTAL
    require_purpose(actor=user, purpose=Purpose.CALL_SETUP, action="call_setup.request",
                    target_type="phone_number", target_id=own.pk, extra={"via": via})
    adapter = switch_adapter()
    record = CallSetup.objects.create(user=user, token=token, own_number=own, number=chosen, via=via,
                                      backend=adapter.name)
    try:
        record.switch_reference = adapter.originate(CallRequest(own_number=own.number, number=chosen))[:64]
    except SwitchUnavailable as exc:
        _refuse(user, f"switch_{exc.kind}", backend=adapter.name)
        raise
    record.save(update_fields=["switch_reference"])
    audit_record(actor=user, purpose=Purpose.CALL_SETUP, action="call_setup.create", target_type="call_setup",
                 target_id=record.pk, extra={"via": via, "backend": adapter.name})
    return SetUp(record=record, own_number=own.number, number=chosen)


def _held_setup_ids(old, held: Iterable[Mapping]) -> set[int]:
    """The records of `old` a hold scope covers: its accounts', or its numbers' (the own number that rang first, or
    the number called), set up inside its window. A scope: account_ids, number_indexes, window_start, window_end."""
    ids: set[int] = set()
    for scope in held:
        rows = old.filter(created_at__gte=scope["window_start"]) if scope.get("window_start") else old
        rows = rows.filter(created_at__lt=scope["window_end"]) if scope.get("window_end") else rows
        indexes = set(scope.get("number_indexes") or ())
        who = Q(user_id__in=list(scope.get("account_ids") or ())) | Q(own_number__number_index__in=indexes)
        ids.update(rows.filter(who).values_list("pk", flat=True))
        if indexes:  # the called number is stored encrypted only: its blind index is computed here
            ids.update(pk for pk, number in rows.exclude(who).values_list("pk", "number").iterator()
                       if _phone_index(number) in indexes)
    return ids


def _phone_index(number: str) -> str:
    try:
        return blind_index(normalize_e164(number), domain="phone")
    except InvalidNumber:
        return ""


def call_setups_delete(*, before, dry_run: bool = False, held: Iterable[Mapping] = ()) -> dict:
    """Set-up records older than `before` (the purge passes 30 days back): the call itself is a CDR. The records
    a legal hold's scope covers (`held`, from retention, which knows the holds) stay, as the calls do. Returns the
    counts deleted and kept. A run that deleted some records it in the audit log, counts only, under the retention
    purpose (as the other purgers do), in the same transaction as the delete; a dry run only counts."""
    old = CallSetup.objects.filter(created_at__lt=before)
    with transaction.atomic():
        kept = _held_setup_ids(old, held)
        going = old.exclude(pk__in=kept)
        if dry_run:
            return {"deleted": going.count(), "kept": len(kept)}
        deleted = going.delete()[0]
        if deleted:
            audit_record(actor=None, action="call_setup.purge", purpose=RETENTION_PURPOSE, target_type="call_setup",
                         extra={"deleted": deleted, "kept": len(kept), "cutoff": before.isoformat()})
    return {"deleted": deleted, "kept": len(kept)}


# --- blocked prefixes (fraud analysts): fraud prevention, so their changes are recorded under SECURITY ----------

@transaction.atomic
def blocked_prefix_add(*, actor: User, prefix: str, reason: str) -> BlockedPrefix:
    prefix = (prefix or "").strip().lstrip("+")
    prefix = prefix[2:] if prefix.startswith("00") else prefix  # the international access code, as '+'
    # Set-ups are matched as ASCII E.164, which never starts with 0: '0900' or '３１９００' would block nothing.
    if not (prefix.isdigit() and prefix.isascii()) or prefix.startswith("0") or not 1 <= len(prefix) <= 15:
        raise ApplicationError(PREFIX_INVALID, extra={"field": "prefix"})
    if reason not in BlockedPrefix.Reason.values:
        raise ApplicationError(gettext_noop("Choose one of the listed reasons."), extra={"field": "reason"})
    try:
        with transaction.atomic():
            blocked = BlockedPrefix.objects.create(prefix=prefix, reason=reason, created_by=actor)
    except IntegrityError:
        raise ApplicationError(PREFIX_EXISTS, extra={"field": "prefix"}) from None
    audit_record(actor=actor, purpose=Purpose.SECURITY, action="blocked_prefix.add", target_type="blocked_prefix",
                 target_id=blocked.pk, extra={"prefix": prefix, "reason": reason})
    return blocked


@transaction.atomic
def blocked_prefix_remove(*, actor: User, prefix_id: int) -> bool:
    blocked = BlockedPrefix.objects.select_for_update().filter(pk=prefix_id).first()
    if blocked is None:
        return False
    audit_record(actor=actor, purpose=Purpose.SECURITY, action="blocked_prefix.remove",
                 target_type="blocked_prefix", target_id=blocked.pk, extra={"prefix": blocked.prefix})
    blocked.delete()
    return True
