"""API authentication: knox tokens (stored as digests, with expiry) and the second-factor rule."""
from __future__ import annotations

from django_otp import devices_for_user
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from knox.auth import TokenAuthentication
from rest_framework.permissions import BasePermission

from .middleware import needs_second_factor

SECOND_FACTOR_REQUIRED = "Two-factor verification is required for this account."


class ExpiringTokenAuthentication(TokenAuthentication):
    """django-rest-knox: only a digest of each token is stored, and every token has an expiry.
    Tokens are issued by the login API only after the second factor (for whoever owes one)."""


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
