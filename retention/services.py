"""Writes of the retention app: policy versions and legal holds. The purge lives in retention/purge/."""
from __future__ import annotations

import re
from datetime import datetime
from typing import Iterable

import phonenumbers

from django.conf import settings
from django.db import transaction
from django.utils import translation
from django.utils.timezone import now as tz_now
from django.utils.functional import lazy
from django.utils.translation import gettext, gettext_lazy, gettext_noop

from accounts.dsr.policy import policy_version_generated
from accounts.models import User
from voipxs.privacy.audit import audit_record
from voipxs.privacy.crypto import blind_index
from voipxs.exceptions import ApplicationError, joined_lazy
from voipxs.privacy.phone import InvalidNumber, normalize_e164
from voipxs.privacy.purposes import RETENTION_PURPOSE, Purpose

from .models import SUPPORTED_ACTIONS, Category, LegalHold, RetentionPolicy, period_words

POLICY_UNKNOWN_CATEGORY = gettext_noop("Unknown data category.")
POLICY_NO_CHANGE = gettext_noop("The new version changes nothing.")
POLICY_ACTION_UNSUPPORTED = gettext_noop("The purge can only %(actions)s this category's data; it cannot %(action)s "
                                         "it.")
POLICY_BELOW_FLOOR = gettext_noop("%(category)s must be kept at least %(floor)s (%(basis)s); %(period)s is shorter. "
                                  "Choose a period of at least %(floor)s.")
HOLD_NO_SCOPE = gettext_noop("A legal hold needs at least one account or number.")
HOLD_NO_CATEGORIES = gettext_noop("A legal hold needs at least one data category.")
HOLD_BAD_CATEGORY = gettext_noop("Unknown data category in the hold.")
HOLD_BAD_WINDOW = gettext_noop("The window must end after it starts.")
HOLD_BAD_EXPIRY = gettext_noop("The expiry must be after the start.")
HOLD_ALREADY_RELEASED = gettext_noop("This hold was already released.")
HOLD_NOT_RUNNING = gettext_noop("Only a running hold with an expiry can be renewed.")
HOLD_RENEWED_ONCE = gettext_noop("This hold was already renewed once; a further one needs a new order and a new "
                                 "request.")
HOLD_OWNED = gettext_noop("This hold belongs to a disclosure request; it ends when that request is closed.")
HOLD_REFERENCE_RESERVED = gettext_noop("References starting with \"disclosure:\" are reserved for holds of "
                                       "disclosure requests.")
HOLD_BAD_NUMBER = gettext_noop("A number in the hold is not a valid phone number.")
HOLD_UNKNOWN_ACCOUNT = gettext_noop("No account has the id %(id)s.")
HOLD_REFERENCE_REQUIRED = gettext_noop("A reference is required (e.g. disclosure:12).")
HOLD_REFERENCE_PERSONAL = gettext_noop("The reference must not contain a phone number or an e-mail address (it is "
                                       "kept in the audit log); use a case or request number.")
# Holds that a workflow places and must end itself: a DPO releasing a disclosure's hold (a
# preservation order, say) would let the purge delete data that is still being produced.
OWNED_REFERENCE_PREFIXES = {"disclosure:": "disclosure"}

# A digit run long enough to be a phone number, with the separators people type ("020 555 0101").
_NUMBER_RUN = re.compile(r"\+?\d[\d\s().-]{6,}\d")

_POLICY_FIELDS = ("trigger", "period_months", "period_days", "action", "legal_basis")

# The floors the law sets, which the privacy policy and the register name (DESIGN.md "Retention"):
# a policy version may keep longer, never shorter. Months, and the basis the message names (lazy: in the
# page's language where the refusal is shown, English in its message).
LEGAL_FLOORS: dict[str, tuple[int, str]] = {
    Category.INVOICE: (84, gettext_lazy("AWR art. 52: the fiscal duty to keep invoices 7 years")),
    Category.AUDIT_LOG: (60, gettext_lazy("GDPR art. 5(2): the accountability record is kept 5 years")),
    # Not a duty to keep, but what the purge's rule rests on: a call no invoice names is taken for unbilled once
    # past this period, and the invoice run (the 1st) names last month's calls; shorter, it deletes calls unbilled.
    Category.CDR_UNBILLED: (2, gettext_lazy("Tw art. 11.5(2): a call is invoiced in the month after it; it must "
                                            "stay until that invoice is made")),
}
_DAYS_PER_MONTH = 365.25 / 12
# A period in a refusal: words in the language active when it is made text (see voipxs/exceptions.py).
_period_lazy = lazy(period_words, str)


def _check_period(category: str, months: int, days: int) -> None:
    """Refuse a period below the category's legal floor. (A billed CDR's 0 is right: its trigger is
    already the end of the invoice's dispute window.)"""
    floor = LEGAL_FLOORS.get(category)
    if floor is None:
        return
    floor_months, basis = floor
    if months * _DAYS_PER_MONTH + days < floor_months * _DAYS_PER_MONTH:
        raise ApplicationError.formatted(POLICY_BELOW_FLOOR, {
            "category": Category(category).label, "floor": _period_lazy(floor_months), "basis": basis,
            "period": _period_lazy(months, days)}, field="period_months")


def hold_owner(reference: str) -> str:
    """The workflow that placed a hold with this reference ("disclosure"), or "" for a DPO's own hold."""
    return next((owner for prefix, owner in OWNED_REFERENCE_PREFIXES.items() if reference.startswith(prefix)), "")


def retention_policy_changes(*, category: str, current: RetentionPolicy | None, **given) -> dict:
    """What a new version of `category`'s policy would change against `current` (the version in
    force, or None), checked as the service checks it: the admin's form asks this before saving, so
    a refusal is a form error there rather than an error page. Raises ApplicationError naming the field."""
    if category not in Category.values:
        raise ApplicationError(POLICY_UNKNOWN_CATEGORY, extra={"field": "category"})
    values = {f: getattr(current, f) if current else None for f in _POLICY_FIELDS}
    changed = {f: v for f, v in given.items() if f in _POLICY_FIELDS and v is not None and v != values[f]}
    if current is not None and not changed:
        raise ApplicationError(POLICY_NO_CHANGE)
    _check_period(category, int(changed.get("period_months", values["period_months"]) or 0),
                  int(changed.get("period_days", values["period_days"]) or 0))
    action = changed.get("action", values["action"]) or RetentionPolicy.Action.DELETE
    if action not in SUPPORTED_ACTIONS[category]:
        raise ApplicationError.formatted(POLICY_ACTION_UNSUPPORTED, {
            "actions": joined_lazy(" or ", tuple(RetentionPolicy.Action(a).label for a in SUPPORTED_ACTIONS[category])),
            "action": RetentionPolicy.Action(action).label}, field="action")
    return changed


@transaction.atomic
def retention_policy_update(
    *,
    category: str,
    actor,
    trigger: str | None = None,
    period_months: int | None = None,
    period_days: int | None = None,
    action: str | None = None,
    legal_basis: str | None = None,
    change_reason: str = "",
    now: datetime | None = None,
) -> RetentionPolicy:
    """Add a new version of `category`'s policy, valid from now. Earlier versions stay as they were."""
    current = (RetentionPolicy.objects.select_for_update().filter(category=category).order_by("-version").first()
               if category in Category.values else None)
    changed = retention_policy_changes(category=category, current=current, trigger=trigger,
                                       period_months=period_months, period_days=period_days, action=action,
                                       legal_basis=legal_basis)
    values = {f: getattr(current, f) if current else None for f in _POLICY_FIELDS} | changed
    policy = RetentionPolicy(
        category=category,
        version=(current.version + 1) if current else 1,
        trigger=values["trigger"] or "",
        period_months=values["period_months"] or 0,
        period_days=values["period_days"] or 0,
        action=values["action"] or RetentionPolicy.Action.DELETE,
        legal_basis=values["legal_basis"] or "",
        valid_from=now or tz_now(),
        changed_by=actor if getattr(actor, "pk", None) else None,
        change_reason=change_reason[:300],
    )
    policy.full_clean()
    policy.save(force_insert=True)
    audit_record(actor=actor, action="retention.policy_change", purpose=RETENTION_PURPOSE,
                 target_type="retention_policy", target_id=policy.pk,
                 extra={"category": category, "version": policy.version,
                        "changed": {k: str(v) for k, v in changed.items()}})
    # The privacy page lists this period (Tw 11.5(4), GDPR art. 13): its notice gets a new version, and a
    # longer period, another action or basis is a change users are told of (LEGAL.md section 5, row 5).
    policy_version_generated(summaries=policy_change_summaries(current, policy), actor=actor,
                             substantive=policy_change_substantive(current, policy))
    return policy


def _kept_days(policy: RetentionPolicy) -> float:
    return policy.period_months * _DAYS_PER_MONTH + policy.period_days


def policy_change_substantive(before: RetentionPolicy | None, after: RetentionPolicy) -> bool:
    """Whether users must be told: anything but a shorter period (or a reworded reason) is."""
    if before is None:
        return True
    same = all(getattr(before, f) == getattr(after, f) for f in ("trigger", "action", "legal_basis"))
    return not (same and _kept_days(after) <= _kept_days(before))


def policy_change_summaries(before: RetentionPolicy | None, after: RetentionPolicy) -> dict[str, str]:
    """What changed, in every language of the site (the notice's summary): {language code: text}."""
    summaries = {}
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            category = str(after.get_category_display())
            if before is None:
                parts = [gettext("Retention of %(category)s: %(period)s (new).") % {
                    "category": category, "period": after.period_label}]
            else:
                parts = [gettext("Retention of %(category)s: %(old)s, now %(new)s.") % {
                    "category": category, "old": before.period_label, "new": after.period_label}]
                if before.action != after.action:
                    parts.append(gettext("At the end of the period: %(action)s.") % {
                        "action": after.get_action_display()})
                if before.trigger != after.trigger or before.legal_basis != after.legal_basis:
                    parts.append(gettext("The event the period counts from or its legal basis changed too; the "
                                         "privacy page shows them."))
            summaries[code] = " ".join(parts)
    return summaries


# A hold's audit entries carry the purpose of what it keeps the data for (LEGAL.md row 21).
_HOLD_PURPOSES = {LegalHold.Reason.DISPUTE: Purpose.DISPUTE, LegalHold.Reason.UNPAID_INVOICE: Purpose.BILLING}


def hold_purpose(reason: str) -> Purpose:
    """A disclosure request's or preservation order's hold serves the legal obligation; a dispute's, the dispute."""
    return _HOLD_PURPOSES.get(reason, Purpose.LEGAL_OBLIGATION)


def _number_indexes(numbers: Iterable[str]) -> list[str]:
    indexes = []
    for number in numbers:
        try:
            e164 = normalize_e164(number)
        except InvalidNumber:
            raise ApplicationError(HOLD_BAD_NUMBER, extra={"field": "numbers"}) from None
        indexes.append(blind_index(e164, domain="phone"))
    return sorted(set(indexes))


@transaction.atomic
def legal_hold_place(
    *,
    reason: str,
    reference: str,
    categories: Iterable[str],
    actor=None,
    account_ids: Iterable[int] = (),
    numbers: Iterable[str] = (),
    number_indexes: Iterable[str] = (),
    window_start: datetime | None = None,
    window_end: datetime | None = None,
    starts_at: datetime | None = None,
    expires_at: datetime | None = None,
    owner: str = "",
) -> LegalHold:
    """Place a hold. Numbers are given plain (or as blind indexes) and stored as blind indexes only.

    `owner` names the workflow that placed it ("disclosure"); only that workflow may release it."""
    categories = sorted(set(categories))
    if not categories:
        raise ApplicationError(HOLD_NO_CATEGORIES, extra={"field": "categories"})
    if any(c not in Category.values for c in categories):
        raise ApplicationError(HOLD_BAD_CATEGORY, extra={"field": "categories"})
    if not reference.strip():
        raise ApplicationError(HOLD_REFERENCE_REQUIRED, extra={"field": "reference"})
    if _reference_is_personal(reference):
        raise ApplicationError(HOLD_REFERENCE_PERSONAL, extra={"field": "reference"})
    if hold_owner(reference.strip()) != owner:
        raise ApplicationError(HOLD_REFERENCE_RESERVED, extra={"field": "reference"})
    indexes = sorted(set(_number_indexes(numbers)) | set(number_indexes))
    accounts = _known_accounts(account_ids)
    if not indexes and not accounts:
        raise ApplicationError(HOLD_NO_SCOPE, extra={"field": "numbers"})
    if window_start and window_end and window_end <= window_start:
        raise ApplicationError(HOLD_BAD_WINDOW, extra={"field": "window_end"})
    starts_at = starts_at or tz_now()
    if expires_at is not None and expires_at <= starts_at:
        raise ApplicationError(HOLD_BAD_EXPIRY, extra={"field": "expires_at"})
    hold = LegalHold(
        reason=reason, reference=reference.strip()[:100], account_ids=accounts, number_indexes=indexes,
        window_start=window_start, window_end=window_end, categories=categories, starts_at=starts_at,
        expires_at=expires_at, placed_by=actor if getattr(actor, "pk", None) else None,
    )
    hold.full_clean()
    hold.save(force_insert=True)
    audit_record(actor=actor, action="retention.hold_place", purpose=hold_purpose(hold.reason),
                 target_type="legal_hold", target_id=hold.pk,
                 extra={"reason": reason, "reference": hold.reference, "accounts": len(accounts),
                        "numbers": len(indexes), "categories": categories})
    return hold


def _known_accounts(account_ids: Iterable[int]) -> list[int]:
    """The ids, sorted; an id no account has (a typo, digits pasted from elsewhere, one too large for the database)
    is refused: the hold would keep nothing of it while its page counts it."""
    accounts = sorted({int(a) for a in account_ids})
    storable = [a for a in accounts if 0 < a < 2 ** 63]
    known = set(User.objects.filter(pk__in=storable).values_list("pk", flat=True))
    unknown = [a for a in accounts if a not in known]
    if unknown:
        raise ApplicationError.formatted(HOLD_UNKNOWN_ACCOUNT, {"id": unknown[0]}, field="account_ids")
    return accounts


def _reference_is_personal(reference: str) -> bool:
    """The reference goes into the append-only audit log, which must never hold a number or an address
    in plain text (erasure could not remove it). Case numbers that are no valid phone number pass."""
    if "@" in reference:
        return True
    for run in _NUMBER_RUN.findall(reference):
        try:
            e164 = normalize_e164(run)
        except InvalidNumber:
            continue
        if phonenumbers.is_valid_number(phonenumbers.parse(e164)):
            return True
    return False


@transaction.atomic
def legal_hold_release(*, hold: LegalHold, actor, now: datetime | None = None, owner: str = "",
                       reason: str = LegalHold.Release.RELEASED) -> LegalHold:
    """End a hold. Its data is not deleted here: it falls back under its policy at the next purge.
    A hold placed by a workflow (`owner`) is released only by that workflow."""
    hold = LegalHold.objects.select_for_update().get(pk=hold.pk)
    if hold.released_at is not None:
        raise ApplicationError(HOLD_ALREADY_RELEASED)
    if hold_owner(hold.reference) != owner:
        raise ApplicationError(HOLD_OWNED)
    hold.released_at = now or tz_now()
    hold.released_by = actor if getattr(actor, "pk", None) else None
    hold.release_reason = reason
    hold.save(update_fields=["released_at", "released_by", "release_reason"])
    audit_record(actor=actor, action="retention.hold_release", purpose=hold_purpose(hold.reason),
                 target_type="legal_hold", target_id=hold.pk, extra={"reference": hold.reference, "reason": reason})
    return hold


@transaction.atomic
def legal_hold_renew(*, hold: LegalHold, expires_at: datetime, order_reference: str, actor, owner: str = "",
                     now: datetime | None = None) -> LegalHold:
    """Move the end of a running hold with an expiry later, under a new order (its reference is kept
    and audited). Only once: the law allows one renewal of a preservation (bases.py), never a second."""
    moment = now or tz_now()
    hold = LegalHold.objects.select_for_update().get(pk=hold.pk)
    if hold_owner(hold.reference) != owner:
        raise ApplicationError(HOLD_OWNED)
    if not hold.is_active(moment) or hold.expires_at is None:
        raise ApplicationError(HOLD_NOT_RUNNING, extra={"field": "hold"})
    if hold.renewed_at is not None:
        raise ApplicationError(HOLD_RENEWED_ONCE, extra={"field": "hold"})
    if expires_at <= hold.expires_at:
        raise ApplicationError(HOLD_BAD_EXPIRY, extra={"field": "expires_at"})
    if not order_reference.strip() or _reference_is_personal(order_reference):
        raise ApplicationError(HOLD_REFERENCE_REQUIRED, extra={"field": "order_reference"})
    hold.expires_at, hold.renewed_at, hold.renewal_reference = expires_at, moment, order_reference.strip()[:100]
    hold.save(update_fields=["expires_at", "renewed_at", "renewal_reference"])
    audit_record(actor=actor, action="retention.hold_renew", purpose=hold_purpose(hold.reason),
                 target_type="legal_hold", target_id=hold.pk,
                 extra={"reference": hold.reference, "order": hold.renewal_reference,
                        "expires_at": expires_at.isoformat()})
    return hold


def legal_holds_expire(*, now: datetime | None = None, actor=None) -> list[int]:
    """Beat: record the end of every hold whose expiry has passed (released_at = expires_at, reason
    "expired", audited), whoever placed it: the order ran out, nobody decides it. The purge already
    stops honouring a hold at expires_at; this makes the end visible and audited. Returns the hold ids."""
    moment = now or tz_now()
    done = []
    due = LegalHold.objects.filter(released_at__isnull=True, expires_at__lte=moment).order_by("pk")
    for pk in due.values_list("pk", flat=True):
        with transaction.atomic():
            hold = LegalHold.objects.select_for_update().get(pk=pk)
            if hold.released_at is not None:
                continue
            hold.released_at, hold.release_reason = hold.expires_at, LegalHold.Release.EXPIRED
            hold.save(update_fields=["released_at", "release_reason"])
            audit_record(actor=actor, action="retention.hold_expire", purpose=hold_purpose(hold.reason),
                         target_type="legal_hold", target_id=hold.pk,
                         extra={"reference": hold.reference, "expired_at": hold.expires_at.isoformat()})
            done.append(pk)
    return done
