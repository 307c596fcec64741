from __future__ import annotations

from knox.auth import TokenAuthentication
from rest_framework.permissions import BasePermission

from .middleware import needs_second_factor


class ExpiringTokenAuthentication(TokenAuthentication):
    """django-rest-knox: only a digest of each token is stored, and every token has an expiry.
    Tokens are issued by the login API only after the second factor (for whoever owes one)."""


class StaffHasSecondFactor(BasePermission):
    message = "Two-factor verification is required for this account."

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not needs_second_factor(user):
            return True
        if isinstance(request.successful_authenticator, ExpiringTokenAuthentication):
            return True  # a token is only ever issued after the second factor
        return bool(getattr(user, "is_verified", lambda: False)())
