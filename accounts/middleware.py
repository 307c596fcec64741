from __future__ import annotations

from typing import Callable
from urllib.parse import quote

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django_otp import user_has_device

from voipxs.privacy.purposes import STAFF_ROLES, roles_of

# Paths a signed-in user who still owes the second factor may reach: the two-factor pages themselves,
# signing out, static files and public pages. The API answers 403 through its own permission class
# (accounts.api_auth) and the admin asks for the token on its own login (OTPAdminSite).
_OPEN_PREFIXES = (
    "/accounts/two-factor/", "/accounts/logout/", "/accounts/login/",
    "/static/", "/healthz", "/privacy/", "/i18n/", "/api/", "/admin/",
)


def is_staff_account(user) -> bool:
    return bool(user.is_staff or user.is_superuser or roles_of(user) & STAFF_ROLES)


def needs_second_factor(user) -> bool:
    """Staff (a staff role, is_staff or superuser) must pass TOTP; customers only if they enrolled."""
    if not getattr(user, "is_authenticated", False):
        return False
    if is_staff_account(user):
        return True
    return user_has_device(user)


class StaffTwoFactorMiddleware:
    """Sends a signed-in user who still owes a second factor to the verification page, or, for staff
    without a confirmed device yet, to enrolment first."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            not request.path.startswith(_OPEN_PREFIXES)
            and needs_second_factor(user)
            and not user.is_verified()
        ):
            target = "/accounts/two-factor/" if user_has_device(user) else "/accounts/two-factor/setup/"
            return redirect(f"{target}?next={quote(request.get_full_path())}")
        return self.get_response(request)
