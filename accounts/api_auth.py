"""API authentication: knox tokens (stored as digests, with expiry) and the second-factor rule."""
from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext_lazy
from django_otp import devices_for_user
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from knox.auth import TokenAuthentication
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import BasePermission

from .middleware import needs_second_factor
from .services.call_setup_tokens import call_setup_token_authenticate

SECOND_FACTOR_REQUIRED = "Two-factor verification is required for this account."
TOKEN_INVALID = gettext_lazy("Invalid token.")  # knox's and DRF's own message (their catalogues translate it)
CALL_SETUP_TOKEN_INVALID = "This call set-up token is not valid (revoked or mistyped); make a new one on the security page."


class ExpiringTokenAuthentication(TokenAuthentication):
    """django-rest-knox: only a digest of each token is stored, and every token has an expiry.
    Tokens are issued by the login API only after the second factor (for whoever owes one)."""

    def authenticate_credentials(self, token: bytes):
        """knox's check, for a token that can be one (knox's are hex): knox decodes any bytes as UTF-8 and looks
        their first characters up, so a header that is not UTF-8, or holds a NUL (which PostgreSQL refuses in a
        query), answered 500 instead of 401."""
        if not token.isascii() or b"\x00" in token:
            raise AuthenticationFailed(TOKEN_INVALID)
        return super().authenticate_credentials(token)

    def _cleanup_token(self, auth_token) -> bool:
        """Whether the presented token has expired (then it is deleted). knox also reads and deletes
        every other expired token of the user here, a query on every API call; those are deleted when
        the user signs in (`api_token_issue`) and by the daily sweep (`api_tokens_expired_delete`) instead."""
        if auth_token.expiry is not None and auth_token.expiry < timezone.now():
            auth_token.delete()
            return True
        return False


class ExpiringTokenScheme(OpenApiAuthenticationExtension):
    """Documents the token scheme in the OpenAPI schema (`Authorization: Token <token>`)."""

    target_class = "accounts.api_auth.ExpiringTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <token>` from POST /api/v1/auth/login/",
        }


def _token_issued_after_second_factor(user, token) -> bool:
    """The login API issues a token only after the second factor, so a token is trusted when the
    account already had a confirmed device then. A token from before (the account became staff or
    switched two-factor on later) is refused even if a service forgot to revoke it."""
    issued = getattr(token, "created", None)
    if issued is None:
        return False
    return any(getattr(device, "created_at", None) is not None and device.created_at <= issued
               for device in devices_for_user(user))


class StaffHasSecondFactor(BasePermission):
    """Whoever owes a second factor (staff always; customers who enrolled) must have passed it:
    a session must be django-otp verified; a knox token is only ever issued after the second factor."""

    message = SECOND_FACTOR_REQUIRED

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not needs_second_factor(user):
            return True
        if isinstance(request.successful_authenticator, ExpiringTokenAuthentication):
            return _token_issued_after_second_factor(user, request.auth)
        is_verified = getattr(user, "is_verified", None)
        return bool(is_verified and is_verified())


CALL_SETUP_KEYWORD = "CallSetup"


class CallSetupTokenAuthentication(BaseAuthentication):
    """`Authorization: CallSetup <token>`: the click-to-call extension's token (accounts.CallSetupToken).
    Only the call set-up API lists this class, so the token opens nothing else."""

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].decode(errors="replace") != CALL_SETUP_KEYWORD:
            return None
        if len(parts) != 2:
            raise AuthenticationFailed(CALL_SETUP_TOKEN_INVALID)
        token = call_setup_token_authenticate(text=parts[1].decode(errors="replace"))
        if token is None:
            raise AuthenticationFailed(CALL_SETUP_TOKEN_INVALID)
        return token.user, token

    def authenticate_header(self, request) -> str:
        return CALL_SETUP_KEYWORD


class CallSetupTokenScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.api_auth.CallSetupTokenAuthentication"
    name = "callSetupToken"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "Authorization",
                "description": "`CallSetup <token>` from /accounts/security/ (call set-up only)"}


class SecondFactorOrCallSetupToken(StaffHasSecondFactor):
    """A call set-up token was made on the security page, which whoever owes a second factor reaches only
    after passing it; other ways in follow StaffHasSecondFactor."""

    def has_permission(self, request, view) -> bool:
        if isinstance(request.successful_authenticator, CallSetupTokenAuthentication):
            return True
        return super().has_permission(request, view)
