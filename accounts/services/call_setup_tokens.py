"""Call set-up tokens of the click-to-call extension (issue 12): made on the security page, scoped to the call
set-up API only, revocable, listed with their last use. Only a SHA-256 digest is stored: the token is 256
random bits, so a plain digest cannot be searched back (unlike a password, it needs no slow hash)."""
from __future__ import annotations

import hashlib
import secrets

from django.db import transaction
from django.utils.timezone import now
from django.utils.translation import gettext_noop

from voipxs.exceptions import ApplicationError
from voipxs.privacy.audit import audit_record
from voipxs.privacy.purposes import Purpose

from ..models import CallSetupToken, User

TOKEN_PREFIX = "vxc_"
TOKEN_LIMIT = 10
TOKEN_LIMIT_REACHED = gettext_noop("You have 10 active call set-up tokens; revoke one first.")
TOKEN_NAME_REQUIRED = gettext_noop("Give the token a name, such as the browser it is for.")
# last_used_at is written at most this often per token: a click is not worth a row write every time.
LAST_USE_RESOLUTION_SECONDS = 60


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def call_setup_token_create(*, user: User, name: str) -> tuple[CallSetupToken, str]:
    """A new token for `user`. Returns the row and the token text, which is shown once and never again."""
    name = (name or "").strip()[:60]
    if not name:
        raise ApplicationError(TOKEN_NAME_REQUIRED, extra={"field": "name"})
    User.objects.select_for_update().filter(pk=user.pk).first()  # one count at a time per user
    if CallSetupToken.objects.filter(user=user, revoked_at__isnull=True).count() >= TOKEN_LIMIT:
        raise ApplicationError(TOKEN_LIMIT_REACHED)
    text = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = CallSetupToken(user=user, name=name, digest=token_digest(text), hint=text[:10])
    token.full_clean()
    token.save(force_insert=True)
    audit_record(actor=user, action="call_setup_token.create", purpose=Purpose.CALL_SETUP,
                 target_type="call_setup_token", target_id=token.pk)
    return token, text


@transaction.atomic
def call_setup_token_revoke(*, user: User, token_id: int) -> CallSetupToken | None:
    """Revoke one of `user`'s own tokens (None if it is not theirs or already revoked)."""
    token = (CallSetupToken.objects.select_for_update()
             .filter(pk=token_id, user=user, revoked_at__isnull=True).first())
    if token is None:
        return None
    token.revoked_at = now()
    token.save(update_fields=["revoked_at"])
    audit_record(actor=user, action="call_setup_token.revoke", purpose=Purpose.CALL_SETUP,
                 target_type="call_setup_token", target_id=token.pk)
    return token


def call_setup_tokens_revoke_all(*, user: User) -> int:
    """Every token of `user` stops working (with the API tokens: sign_in.api_tokens_revoke_all). Returns how many."""
    return CallSetupToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=now())


def call_setup_token_authenticate(*, text: str) -> CallSetupToken | None:
    """The active token with this text (its user active and not closed), noting its use; else None."""
    if not text.startswith(TOKEN_PREFIX) or len(text) > 100:
        return None
    token = (CallSetupToken.objects.select_related("user")
             .filter(digest=token_digest(text), revoked_at__isnull=True).first())
    if token is None or not token.user.is_active or token.user.closed_at is not None:
        return None
    moment = now()
    if token.last_used_at is None or (moment - token.last_used_at).total_seconds() >= LAST_USE_RESOLUTION_SECONDS:
        CallSetupToken.objects.filter(pk=token.pk).update(last_used_at=moment)
        token.last_used_at = moment
    return token
