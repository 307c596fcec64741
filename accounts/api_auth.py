"""API authentication: knox tokens (stored as digests, with expiry) and the second-factor rule."""
from __future__ import annotations

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


class StaffHasSecondFactor(BasePermission):
    """Whoever owes a second factor (staff always; customers who enrolled) must have passed it:
    a session must be django-otp verified; a knox token is only ever issued after the second factor."""

    message = SECOND_FACTOR_REQUIRED

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not needs_second_factor(user):
            return True
        if isinstance(request.successful_authenticator, ExpiringTokenAuthentication):
            return True
        is_verified = getattr(user, "is_verified", None)
        return bool(is_verified and is_verified())
