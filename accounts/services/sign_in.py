"""Ways in: API tokens (django-rest-knox), two-factor devices (django-otp) and failed sign-in records
(django-axes). Only a token's digest is stored; device secrets are shown once, to their owner."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from axes.models import AccessAttempt
from django.conf import settings
from django.db import transaction
from django.utils.timezone import now
from django_otp import match_token
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django.utils.translation import gettext_noop
from knox.models import AuthToken

from voipxs.exceptions import ApplicationError
from voipxs.privacy.audit import audit_record
from voipxs.privacy.purposes import ACCESS_SECURITY_PURPOSE, RETENTION_PURPOSE, STAFF_ROLES, roles_of
from voipxs.ratelimit import rate_limit_exceeded, rate_limit_reached

from ..backends import user_facts_forget
from ..models import User, UserSession
from .call_setup_tokens import call_setup_tokens_revoke_all

TOKEN_LIMIT_REACHED = gettext_noop("Too many active API tokens for this account; sign out of another client first.")
TWO_FACTOR_STAFF_REQUIRED = gettext_noop("Staff accounts must keep two-factor sign-in.")
WRONG_PASSWORD = gettext_noop("The password is not correct.")
REAUTH_STOPPED = gettext_noop("Too many wrong passwords; try again later.")
RECOVERY_CODE_COUNT = 10


# --- API tokens ---------------------------------------------------------------------------------------

@transaction.atomic
def api_token_issue(*, user: User, actor=None) -> tuple[str, datetime | None]:
    """A new knox token for `user` (only its digest is stored; it expires after REST_KNOX TOKEN_TTL).
    Returns the token text, shown to the client once and never again, and its expiry."""
    AuthToken.objects.filter(user=user, expiry__lt=now()).delete()  # expired ones never count
    limit = getattr(settings, "REST_KNOX", {}).get("TOKEN_LIMIT_PER_USER")
    if limit is not None and AuthToken.objects.filter(user=user).count() >= limit:
        raise ApplicationError(TOKEN_LIMIT_REACHED)
    instance, token = AuthToken.objects.create(user=user)
    audit_record(actor=actor or user, action="api_token.issue", purpose=ACCESS_SECURITY_PURPOSE, target_type="user",
                 target_id=user.pk, extra={"expires": instance.expiry.isoformat() if instance.expiry else None})
    return token, instance.expiry


def api_tokens_expired_delete() -> int:
    """Daily: delete every expired API token. They open nothing (each call checks its own token's
    expiry), but a digest kept past its use is kept for no purpose."""
    count, _ = AuthToken.objects.filter(expiry__lt=now()).delete()
    if count:
        audit_record(actor=None, action="api_token.expired_delete", purpose=RETENTION_PURPOSE, target_type="api_token",
                     target_id="", extra={"count": count})
    return count


def sessions_expired_delete() -> int:
    """Hourly: delete every expired browser session. An expired one signs nobody in (each page checks its
    session's expiry), but its row (whose user, and what the session kept) would stay for no purpose."""
    count, _ = UserSession.objects.filter(expire_date__lt=now()).delete()
    if count:
        audit_record(actor=None, action="session.expired_delete", purpose=RETENTION_PURPOSE, target_type="session",
                     target_id="", extra={"count": count})
    return count


@transaction.atomic
def api_token_revoke(*, token, actor=None) -> None:
    """Delete one knox AuthToken row (the one the client signed in with)."""
    user_id = token.user_id
    token.delete()
    audit_record(actor=actor, action="api_token.revoke", purpose=ACCESS_SECURITY_PURPOSE, target_type="user",
                 target_id=user_id)


@transaction.atomic
def api_tokens_revoke_all(*, user: User, actor=None, reason: str = "") -> int:
    """Revoke every API token of `user`, and the click-to-call tokens with them (they are API tokens too,
    trusted as made behind the second factor). Used when the password changes and when the account starts
    to owe a second factor (new staff role, two-factor switched on): a token is only trusted because it was
    issued after that factor. Returns how many API tokens went."""
    count, _ = AuthToken.objects.filter(user=user).delete()
    if count:
        audit_record(actor=actor or user, action="api_token.revoke_all", purpose=ACCESS_SECURITY_PURPOSE,
                     target_type="user", target_id=user.pk, extra={"count": count, "reason": reason})
    if call_setups := call_setup_tokens_revoke_all(user=user):
        audit_record(actor=actor or user, action="call_setup_token.revoke_all", purpose=ACCESS_SECURITY_PURPOSE,
                     target_type="user", target_id=user.pk, extra={"count": call_setups, "reason": reason})
    return count


# --- two-factor devices -------------------------------------------------------------------------------

@transaction.atomic
def totp_device_start(*, user: User):
    """An unconfirmed TOTP device with a fresh secret; it counts only once `totp_device_confirm` accepts a code.
    Starting again replaces an earlier unconfirmed one (a half-finished enrolment)."""
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
    user_facts_forget(device.user)
    audit_record(actor=device.user, action="two_factor.enrol", purpose=ACCESS_SECURITY_PURPOSE, target_type="user",
                 target_id=device.user_id)
    # Tokens issued before were issued without this factor; the API client signs in again with a code.
    api_tokens_revoke_all(user=device.user, reason="two_factor.enrol")
    return True


@transaction.atomic
def recovery_codes_regenerate(*, user: User) -> list[str]:
    """Ten fresh single-use recovery codes (django-otp static tokens); the old ones stop working.
    The codes are returned to be shown once."""
    device, _ = StaticDevice.objects.get_or_create(user=user, name="recovery", defaults={"confirmed": True})
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    user_facts_forget(user)
    audit_record(actor=user, action="two_factor.recovery_codes", purpose=ACCESS_SECURITY_PURPOSE, target_type="user",
                 target_id=user.pk)
    return codes


def _reauth_limit() -> dict:
    """As the sign-in lockout (django-axes): AXES_FAILURE_LIMIT wrong passwords, then AXES_COOLOFF_HOURS."""
    return {"scope": "reauth", "limit": settings.AXES_FAILURE_LIMIT,
            "window_seconds": max(int(float(settings.AXES_COOLOFF_TIME or 0) * 3600), 60)}


def _reauth_key(user: User) -> str:
    """The account and the password being guessed (its salted hash; the rate limit hashes the key again):
    a new password starts a new count."""
    return f"{user.pk}:{user.password}"


def password_reauth_stopped(*, user: User) -> bool:
    """Whether `user`'s password is asked again too often wrongly: then even the right one is refused for now.
    Pages that ask for it again are no way around the sign-in lockout for someone at an open session."""
    return rate_limit_reached(key=_reauth_key(user), **_reauth_limit())


def password_reauth_failed(*, user: User) -> None:
    """Count one wrong password given again by the signed-in `user` (see password_reauth_stopped)."""
    rate_limit_exceeded(key=_reauth_key(user), **_reauth_limit())


def password_reauthenticate(*, user: User, password: str | None, action: str) -> None:
    """The signed-in person's password asked again before a step that weakens or ends their account: refuses
    (WRONG_PASSWORD, at the field "password") and records `action` in the audit log when it is not theirs, or
    (REAUTH_STOPPED) after as many wrong ones as lock a sign-in out.
    Call it outside the step's transaction, or the refusal rolls the audit entry back with it."""
    stopped = password_reauth_stopped(user=user)
    if not stopped and password and user.check_password(password):
        return
    if not stopped:
        password_reauth_failed(user=user)
    audit_record(actor=user, action=action, purpose=ACCESS_SECURITY_PURPOSE, target_type="user", target_id=user.pk,
                 extra={"stopped": True} if stopped else None)
    raise ApplicationError(REAUTH_STOPPED if stopped else WRONG_PASSWORD, extra={"field": "password"})


def recovery_codes_replace(*, user: User, password: str | None) -> list[str]:
    """New recovery codes asked for on the security page: the old ones stop working, so the password first."""
    password_reauthenticate(user=user, password=password, action="two_factor.reauth_failed")
    return recovery_codes_regenerate(user=user)


def two_factor_disable_check(*, user: User) -> None:
    """Whether `user` may turn two-factor sign-in off: a customer who opted in may; staff may not."""
    if user.is_staff or user.is_superuser or roles_of(user) & STAFF_ROLES:
        raise ApplicationError(TWO_FACTOR_STAFF_REQUIRED)


def two_factor_disable(*, user: User, password: str | None, actor=None) -> None:
    """A customer who opted in may opt out again, giving their password again; staff may not
    (TWO_FACTOR_STAFF_REQUIRED)."""
    two_factor_disable_check(user=user)
    password_reauthenticate(user=user, password=password, action="two_factor.reauth_failed")
    _two_factor_remove(user=user, actor=actor)


@transaction.atomic
def _two_factor_remove(*, user: User, actor=None) -> None:
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    user_facts_forget(user)
    audit_record(actor=actor or user, action="two_factor.disable", purpose=ACCESS_SECURITY_PURPOSE, target_type="user",
                 target_id=user.pk)


def two_factor_check(*, user: User, token: str):
    """The device (TOTP or recovery) that accepts `token`, or None. Each device throttles wrong codes
    itself (django-otp ThrottlingMixin: 1, 2, 4 … seconds of back-off) and a recovery code works once."""
    device = match_token(user, token)
    if device is not None:
        audit_record(actor=user, action="two_factor.verify", purpose=ACCESS_SECURITY_PURPOSE, target_type="user",
                     target_id=user.pk, extra={"kind": type(device).__name__})
    return device


# --- failed sign-in records (django-axes AccessAttempt: login name, IP address, user agent) -------------

def login_attempts_forget(*, username: str) -> int:
    """Delete the failed sign-in records under a login name (erasure and anonymising, before the name goes)."""
    return AccessAttempt.objects.filter(username=username).delete()[1].get("axes.AccessAttempt", 0)


@transaction.atomic
def login_attempts_delete(*, before: datetime, dry_run: bool = False, actor: Any = None) -> int:
    """Delete failed sign-in records older than `before` (technical identifiers; the retention purge passes
    the cdr_technical cutoff). A lockout lasts AXES_COOLOFF_HOURS, so old records protect nothing."""
    old = AccessAttempt.objects.filter(attempt_time__lt=before)
    if dry_run:
        return old.count()
    deleted = old.delete()[1].get("axes.AccessAttempt", 0)
    if deleted:
        audit_record(actor=actor, action="login_attempts.purge", purpose=RETENTION_PURPOSE, target_type="login_attempt",
                     extra={"deleted": deleted, "before": before.isoformat()})
    return deleted
