"""Every write to accounts goes through here."""
from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.timezone import now

from voipxs.privacy.audit import audit_record
from voipxs.privacy.crypto import pseudonym
from voipxs.exceptions import ApplicationError
from voipxs.privacy.phone import InvalidNumber, normalize_e164
from voipxs.privacy.purposes import STAFF_ROLES, Role, has_role
from voipxs.privacy.registry import Kept

from .models import AccountCloseReason, Contractor, PhoneNumber, RoleGrant, User

NUMBER_ALREADY_HELD = "This number is held by another assignment in that period."
NUMBER_INVALID = "This is not a valid phone number."
UNKNOWN_ROLE = "Unknown role."


def staff_role_mail(*, role: str, subject: str, message: str) -> int:
    """E-mail every active member of a staff role who has an address (one message); returns how many.
    Callers write ids, kinds and dates into the message, never personal data of the people it is about."""
    from django.core.mail import send_mail

    recipients = [u.email for u in User.objects.filter(groups__name=role, is_active=True).distinct() if u.email]
    if recipients:
        send_mail(subject=subject, message=message, from_email=None, recipient_list=recipients)
    return len(recipients)


@transaction.atomic
def contractor_create(*, name: str, actor=None) -> Contractor:
    contractor = Contractor(name=name)
    contractor.full_clean()
    contractor.save()
    audit_record(actor=actor, action="contractor.create", target_type="contractor", target_id=contractor.pk)
    return contractor


@transaction.atomic
def user_create(
    *,
    username: str,
    password: str | None,
    email: str | None = None,
    roles: list[str] | tuple[str, ...] = (Role.CUSTOMER,),
    contractor: Contractor | None = None,
    actor=None,
) -> User:
    user = User(username=User.normalize_username(username), email=(email or None), contractor=contractor)
    user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    audit_record(actor=actor, action="user.create", target_type="user", target_id=user.pk, extra={"roles": sorted(roles)})
    user_roles_set(user=user, roles=roles, actor=actor)
    return user


# Roles one admin cannot give alone: legal officers open secret disclosure requests and their packages,
# the DPO holds the registers, and an admin could give either (or make a second, puppet admin). When a
# person gives one of these, it becomes a RoleGrant that another admin approves. Without an actor (the
# operator's command line, seeding, migrations) roles are set directly.
SECOND_ADMIN_ROLES = frozenset({Role.ADMIN, Role.LEGAL_OFFICER, Role.DPO})
GRANT_NOT_PENDING = "This role request was already decided."
GRANT_SAME_ADMIN = "A second admin must approve: not the one who asked, nor the person who gets the role."
GRANT_NOT_ADMIN = "Only an admin may decide role requests."


@transaction.atomic
def user_roles_set(*, user: User, roles: list[str] | tuple[str, ...], actor=None) -> User:
    """Give `user` exactly `roles`. A role of SECOND_ADMIN_ROLES that a person (actor) adds is not given
    but requested (a pending RoleGrant); removing any role takes effect at once."""
    wanted = set(roles)
    if not wanted <= set(Role.values):
        raise ApplicationError(UNKNOWN_ROLE)
    held = set(User.objects.get(pk=user.pk).groups.values_list("name", flat=True))
    requested = (wanted - held) & SECOND_ADMIN_ROLES if actor is not None else set()
    _roles_apply(user=user, roles=wanted - requested, actor=actor)
    for role in sorted(requested):
        _role_grant_request(user=user, role=role, actor=actor)
    return user


def _roles_apply(*, user: User, roles: set[str], actor) -> None:
    user.groups.set([Group.objects.get_or_create(name=role)[0] for role in roles])
    user.__dict__.pop("_voipxs_roles", None)
    # The staff and superuser flags follow the roles held, so that the admin and the second-factor
    # rules agree with them (a requested role gives neither).
    is_staff, is_superuser = bool(roles & STAFF_ROLES), Role.ADMIN in roles
    became_staff = is_staff and not user.is_staff
    if (user.is_staff, user.is_superuser) != (is_staff, is_superuser):
        user.is_staff, user.is_superuser = is_staff, is_superuser
        user.save(update_fields=["is_staff", "is_superuser"])
    if became_staff:
        # Tokens issued before the account owed a second factor must not outlive that change.
        api_tokens_revoke_all(user=user, actor=actor, reason="became_staff")
    audit_record(actor=actor, action="user.roles_set", target_type="user", target_id=user.pk, extra={"roles": sorted(roles)})


def _role_grant_request(*, user: User, role: str, actor) -> RoleGrant:
    grant, created = RoleGrant.objects.get_or_create(user=user, role=role, status=RoleGrant.Status.PENDING,
                                                     defaults={"requested_by": actor})
    if created:
        audit_record(actor=actor, action="role_grant.request", target_type="user", target_id=user.pk,
                     extra={"role": role, "grant": grant.pk})
    return grant


def _role_grant_decide(*, grant: RoleGrant, actor, status: str) -> RoleGrant:
    grant = RoleGrant.objects.select_for_update().get(pk=grant.pk)
    if grant.status != RoleGrant.Status.PENDING:
        raise ApplicationError(GRANT_NOT_PENDING)
    if not has_role(actor, Role.ADMIN):
        raise ApplicationError(GRANT_NOT_ADMIN)
    if status == RoleGrant.Status.APPROVED and actor.pk in (grant.requested_by_id, grant.user_id):
        raise ApplicationError(GRANT_SAME_ADMIN)
    grant.status, grant.decided_by, grant.decided_at = status, actor, now()
    grant.save(update_fields=["status", "decided_by", "decided_at"])
    audit_record(actor=actor, action=f"role_grant.{'approve' if status == RoleGrant.Status.APPROVED else 'refuse'}",
                 target_type="user", target_id=grant.user_id,
                 extra={"role": grant.role, "grant": grant.pk, "requested_by": pseudonym("user", grant.requested_by_id)})
    return grant


@transaction.atomic
def role_grant_approve(*, grant: RoleGrant, actor) -> RoleGrant:
    """A second admin (not the requester, not the person concerned) gives the requested role."""
    grant = _role_grant_decide(grant=grant, actor=actor, status=RoleGrant.Status.APPROVED)
    user = User.objects.select_for_update().get(pk=grant.user_id)
    held = set(user.groups.values_list("name", flat=True))
    _roles_apply(user=user, roles=held | {grant.role}, actor=actor)
    return grant


@transaction.atomic
def role_grant_refuse(*, grant: RoleGrant, actor) -> RoleGrant:
    """Any admin, the requester included, may refuse (withdraw) a pending role request."""
    return _role_grant_decide(grant=grant, actor=actor, status=RoleGrant.Status.REFUSED)


@transaction.atomic
def user_update_email(*, user: User, email: str | None, actor=None) -> User:
    user = User.objects.select_for_update().get(pk=user.pk)
    user.email = email or None
    user.full_clean(exclude=["password"])
    user.save(update_fields=["email", "email_index"])
    audit_record(actor=actor or user, action="user.email_change", target_type="user", target_id=user.pk)
    return user


def _overlapping(index: str, start: datetime, end: datetime | None, exclude_pk: int | None = None):
    qs = PhoneNumber.objects.select_for_update().filter(number_index=index)
    if end is not None:
        qs = qs.filter(valid_from__lt=end)
    qs = qs.filter(Q(valid_to__isnull=True) | Q(valid_to__gt=start))
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    return qs


@transaction.atomic
def phone_number_assign(
    *,
    user: User,
    number: str,
    valid_from: datetime | None = None,
    valid_to: datetime | None = None,
    label: str = "",
    default_region: str = "NL",
    actor=None,
) -> PhoneNumber:
    """Give `user` a number for [valid_from, valid_to). Refuses a period that overlaps another holder's."""
    try:
        e164 = normalize_e164(number, default_region)
    except InvalidNumber:
        raise ApplicationError(NUMBER_INVALID) from None
    valid_from = valid_from or now()
    phone = PhoneNumber(user=user, number=e164, label=label, valid_from=valid_from, valid_to=valid_to)
    index = PhoneNumber._meta.get_field("number_index").index_of(e164)
    if _overlapping(index, valid_from, valid_to).exists():
        raise ApplicationError(NUMBER_ALREADY_HELD)
    try:
        phone.full_clean(exclude=["number_index"])
    except ValidationError as exc:
        raise ApplicationError("; ".join(exc.messages)) from None
    phone.save()
    audit_record(actor=actor, action="phone_number.assign", target_type="user", target_id=user.pk,
                 extra={"phone_number": phone.pk})
    return phone


@transaction.atomic
def phone_number_release(*, phone: PhoneNumber, at: datetime | None = None, actor=None) -> PhoneNumber:
    phone = PhoneNumber.objects.select_for_update().get(pk=phone.pk)
    at = at or now()
    if phone.valid_to is not None and phone.valid_to <= at:
        raise ApplicationError("This number was already released.")
    if at <= phone.valid_from:
        raise ApplicationError("A number cannot be released before it was assigned.")
    phone.valid_to = at
    phone.save(update_fields=["valid_to"])
    audit_record(actor=actor, action="phone_number.release", target_type="user", target_id=phone.user_id,
                 extra={"phone_number": phone.pk})
    return phone


# --- sign-in: API tokens and two-factor devices (django-rest-knox, django-otp) ---------------------

TOKEN_LIMIT_REACHED = "Too many active API tokens for this account; sign out of another client first."
TWO_FACTOR_STAFF_REQUIRED = "Staff accounts must keep two-factor sign-in."


@transaction.atomic
def api_token_issue(*, user: User, actor=None) -> tuple[str, datetime | None]:
    """A new knox token for `user` (only its digest is stored; it expires after REST_KNOX TOKEN_TTL).
    Returns the token text, shown to the client once and never again, and its expiry."""
    from django.conf import settings
    from knox.models import AuthToken

    AuthToken.objects.filter(user=user, expiry__lt=now()).delete()  # expired ones never count
    limit = getattr(settings, "REST_KNOX", {}).get("TOKEN_LIMIT_PER_USER")
    if limit is not None and AuthToken.objects.filter(user=user).count() >= limit:
        raise ApplicationError(TOKEN_LIMIT_REACHED)
    instance, token = AuthToken.objects.create(user=user)
    audit_record(actor=actor or user, action="api_token.issue", target_type="user", target_id=user.pk,
                 extra={"expires": instance.expiry.isoformat() if instance.expiry else None})
    return token, instance.expiry


@transaction.atomic
def api_token_revoke(*, token, actor=None) -> None:
    """Delete one knox AuthToken row (the one the client signed in with)."""
    user_id = token.user_id
    token.delete()
    audit_record(actor=actor, action="api_token.revoke", target_type="user", target_id=user_id)


@transaction.atomic
def totp_device_start(*, user: User):
    """An unconfirmed TOTP device with a fresh secret; it counts only once `totp_device_confirm` accepts a code.
    Starting again replaces an earlier unconfirmed one (a half-finished enrolment)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name="authenticator", confirmed=False)


@transaction.atomic
def totp_device_confirm(*, device, token: str) -> bool:
    """Confirm an enrolment with a code from the app. False (and django-otp's throttling) on a wrong code."""
    if not device.verify_token(token):
        return False
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    # One authenticator per person: an older confirmed one stops working once the new one is confirmed.
    type(device).objects.filter(user_id=device.user_id).exclude(pk=device.pk).delete()
    audit_record(actor=device.user, action="two_factor.enrol", target_type="user", target_id=device.user_id)
    # Tokens issued before were issued without this factor; the API client signs in again with a code.
    api_tokens_revoke_all(user=device.user, reason="two_factor.enrol")
    return True


RECOVERY_CODE_COUNT = 10


@transaction.atomic
def recovery_codes_regenerate(*, user: User) -> list[str]:
    """Ten fresh single-use recovery codes (django-otp static tokens); the old ones stop working.
    The codes are returned to be shown once."""
    from django_otp.plugins.otp_static.models import StaticDevice, StaticToken

    device, _ = StaticDevice.objects.get_or_create(user=user, name="recovery", defaults={"confirmed": True})
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    audit_record(actor=user, action="two_factor.recovery_codes", target_type="user", target_id=user.pk)
    return codes


@transaction.atomic
def two_factor_disable(*, user: User, actor=None) -> None:
    """A customer who opted in may opt out again; staff may not (TWO_FACTOR_STAFF_REQUIRED)."""
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from voipxs.privacy.purposes import roles_of

    if user.is_staff or user.is_superuser or roles_of(user) & STAFF_ROLES:
        raise ApplicationError(TWO_FACTOR_STAFF_REQUIRED)
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    audit_record(actor=actor or user, action="two_factor.disable", target_type="user", target_id=user.pk)


@transaction.atomic
def user_update_admin(*, user: User, fields: dict, actor=None) -> User:
    """The admin's change form: login name, e-mail, contractor, active. Roles go through user_roles_set."""
    allowed = {"username", "email", "contractor", "is_active"}  # the staff flags follow the roles
    changed = [name for name in fields if name in allowed]
    for name in changed:
        setattr(user, name, fields[name] if name != "email" else (fields[name] or None))
    try:
        user.full_clean(exclude=["password"])
    except ValidationError as exc:
        raise ApplicationError("; ".join(exc.messages)) from None
    update = list(changed)
    if "email" in update:
        update.append("email_index")
    if update:
        user.save(update_fields=update)
    audit_record(actor=actor, action="user.update", target_type="user", target_id=user.pk,
                 extra={"fields": sorted(changed)})
    return user


@transaction.atomic
def user_password_set(*, user: User, password: str, actor=None) -> User:
    """Every password change and reset comes here. Web sessions end with the old password (Django's
    session hash); API tokens are revoked here, so a stolen token dies with the password it was issued
    under, as the person who changes a password after a theft expects."""
    user.set_password(password)
    user.save(update_fields=["password"])
    audit_record(actor=actor or user, action="user.password_set", target_type="user", target_id=user.pk)
    api_tokens_revoke_all(user=user, actor=actor or user, reason="password_set")
    return user


def two_factor_check(*, user: User, token: str):
    """The device (TOTP or recovery) that accepts `token`, or None. Each device throttles wrong codes
    itself (django-otp ThrottlingMixin: 1, 2, 4 … seconds of back-off) and a recovery code works once."""
    from django_otp import match_token

    device = match_token(user, token)
    if device is not None:
        audit_record(actor=user, action="two_factor.verify", target_type="user", target_id=user.pk,
                     extra={"kind": type(device).__name__})
    return device


@transaction.atomic
def contractor_rename(*, contractor: Contractor, name: str, actor=None) -> Contractor:
    contractor.name = name
    try:
        contractor.full_clean()
    except ValidationError as exc:
        raise ApplicationError("; ".join(exc.messages)) from None
    contractor.save(update_fields=["name"])
    audit_record(actor=actor, action="contractor.rename", target_type="contractor", target_id=contractor.pk)
    return contractor


@transaction.atomic
def phone_number_relabel(*, phone: PhoneNumber, label: str, actor=None) -> PhoneNumber:
    phone.label = label
    phone.save(update_fields=["label"])
    audit_record(actor=actor, action="phone_number.relabel", target_type="user", target_id=phone.user_id,
                 extra={"phone_number": phone.pk})
    return phone


@transaction.atomic
def api_tokens_revoke_all(*, user: User, actor=None, reason: str = "") -> int:
    """Revoke every API token of `user`. Used when the account starts to owe a second factor (new staff
    role, two-factor switched on): a token is only trusted because it was issued after that factor."""
    from knox.models import AuthToken

    count, _ = AuthToken.objects.filter(user=user).delete()
    if count:
        audit_record(actor=actor or user, action="api_token.revoke_all", target_type="user", target_id=user.pk,
                     extra={"count": count, "reason": reason})
    return count


# --- closing and anonymising accounts ----------------------------------------------------------------
# Closing (contract ended) stops every way in at once; the user data stays until retention's
# closed_account period after the final invoice is settled, then the purge anonymises it
# (retention/closed_accounts.py). Erasure (accounts/dsr.py) does both steps at once, with the same code.

ACCOUNT_CLOSE_NOT_ALLOWED = "Only billing staff and administrators can close an account."
ACCOUNT_CLOSE_SELF = "You cannot close your own account."
ACCOUNT_ALREADY_CLOSED = "This account is already closed."
ACCOUNT_CLOSE_REASON_UNKNOWN = "Choose one of the closing reasons."
ACCOUNT_NOT_CLOSED = "Only a closed account can be anonymised."
ACCOUNT_ALREADY_ANONYMISED = "This account is already anonymised."
CLOSE_ROLES = (Role.BILLING, Role.ADMIN)


def _sign_in_end(user: User, *, stamp: datetime) -> dict:
    """No way in any more: API tokens and sessions deleted, password unusable, account inactive.
    Saves the user's password and is_active."""
    from django.contrib.sessions.models import Session
    from knox.models import AuthToken

    tokens = AuthToken.objects.filter(user=user).delete()[0]
    # Sessions are signed blobs keyed by session key; the user id is only inside, so decode them.
    sessions = 0
    for session in Session.objects.filter(expire_date__gt=stamp).iterator(chunk_size=500):
        if str(session.get_decoded().get("_auth_user_id")) == str(user.pk):
            session.delete()
            sessions += 1
    user.set_unusable_password()
    user.is_active = False
    user.save(update_fields=["password", "is_active"])
    return {"tokens": tokens, "sessions": sessions}


def numbers_kept(kept: list[Kept]) -> bool:
    """The assignment periods of numbers are what a hold on a number or on calls is about: keep them then."""
    return any("cdr" in k.category or k.reason.lower().startswith("legal hold") for k in kept)


def _personal_data_remove(user: User, *, keep_numbers: bool, stamp: datetime) -> dict:
    """The user data of the privacy policy (login name, e-mail, numbers) and what hangs on them: two-factor
    devices and failed sign-in records under the login name. The row stays (invoices refer to it).
    Saves the user's username, email, anonymised_at and restricted_at."""
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice

    devices = TOTPDevice.objects.filter(user=user).delete()[0] + StaticDevice.objects.filter(user=user).delete()[0]
    attempts = _login_attempts_forget(username=user.username)  # before the name goes
    numbers = 0 if keep_numbers else user.phone_numbers.all().delete()[0]
    user.username = f"erased-{secrets.token_hex(8)}"
    user.email = None
    user.anonymised_at = stamp
    user.restricted_at = user.restricted_at or stamp
    user.save(update_fields=["username", "email", "email_index", "anonymised_at", "restricted_at"])
    return {"devices": devices, "login_attempts": attempts, "numbers_deleted": numbers}


def _number_periods_end(user: User, *, at: datetime, actor: Any) -> dict:
    """Numbers held at `at` are released then; an assignment that had not started yet is dropped."""
    ended = dropped = 0
    running = user.phone_numbers.select_for_update().filter(Q(valid_to__isnull=True) | Q(valid_to__gt=at))
    for phone in running.order_by("pk"):
        if phone.valid_from < at:
            phone_number_release(phone=phone, at=at, actor=actor)
            ended += 1
        else:
            phone.delete()
            dropped += 1
    return {"numbers_ended": ended, "numbers_dropped": dropped}


@transaction.atomic
def account_close(*, user: User, actor: Any, reason: str) -> User:
    """The contract ended: the account can no longer sign in (sessions, API tokens, password), its numbers'
    periods end now. Its user data stays until the retention purge anonymises it."""
    if not has_role(actor, *CLOSE_ROLES):
        raise ApplicationError(ACCOUNT_CLOSE_NOT_ALLOWED)
    if reason not in AccountCloseReason.values:
        raise ApplicationError(ACCOUNT_CLOSE_REASON_UNKNOWN, extra={"field": "reason"})
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.closed_at is not None:
        raise ApplicationError(ACCOUNT_ALREADY_CLOSED)
    if user.pk == getattr(actor, "pk", None):
        raise ApplicationError(ACCOUNT_CLOSE_SELF)
    stamp = now()
    counts = _sign_in_end(user, stamp=stamp)
    counts.update(_number_periods_end(user, at=stamp, actor=actor))
    user.closed_at = stamp
    user.save(update_fields=["closed_at"])
    audit_record(actor=actor, action="account.close", target_type="user", target_id=user.pk,
                 extra={"reason": reason, **counts})
    return user


@transaction.atomic
def account_anonymise(*, user: User, actor: Any, kept: list[Kept] | None = None) -> dict:
    """Remove a closed account's user data (the retention purge calls this once the final invoice is
    settled and the closed_account period has passed). `kept`: what the registry's keepers say must stay
    (default: ask them); the numbers' periods stay while a hold or calls need them."""
    from voipxs.privacy.registry import kept_for

    user = User.objects.select_for_update().get(pk=user.pk)
    if user.closed_at is None:
        raise ApplicationError(ACCOUNT_NOT_CLOSED)
    if user.anonymised_at is not None:
        raise ApplicationError(ACCOUNT_ALREADY_ANONYMISED)
    kept = kept_for(user) if kept is None else kept
    # account_close already ended every sign-in (tokens, sessions, password): not scanned again here.
    counts = _personal_data_remove(user, keep_numbers=numbers_kept(kept), stamp=now())
    audit_record(actor=actor, action="account.anonymise", target_type="user", target_id=user.pk,
                 extra={**counts, "kept": sorted({k.category for k in kept})})
    return counts


# --- failed sign-in records (django-axes AccessAttempt: login name, IP address, user agent) -------------

def _login_attempts_forget(*, username: str) -> int:
    from axes.models import AccessAttempt

    return AccessAttempt.objects.filter(username=username).delete()[1].get("axes.AccessAttempt", 0)


@transaction.atomic
def login_attempts_delete(*, before: datetime, dry_run: bool = False, actor: Any = None) -> int:
    """Delete failed sign-in records older than `before` (technical identifiers; the retention purge passes
    the cdr_technical cutoff). A lockout lasts AXES_COOLOFF_HOURS, so old records protect nothing."""
    from axes.models import AccessAttempt

    old = AccessAttempt.objects.filter(attempt_time__lt=before)
    if dry_run:
        return old.count()
    deleted = old.delete()[1].get("axes.AccessAttempt", 0)
    if deleted:
        audit_record(actor=actor, action="login_attempts.purge", target_type="login_attempt",
                     extra={"deleted": deleted, "before": before.isoformat()})
    return deleted
