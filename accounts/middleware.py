from __future__ import annotations

from typing import Callable
from urllib.parse import quote

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django_otp import user_has_device

from voipxs.privacy.purposes import STAFF_ROLES, roles_of

from .backends import user_facts_read

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
    if user.is_staff or user.is_superuser:
        return True
    roles, has_device = _roles_and_device(user)
    return bool(roles & STAFF_ROLES) or has_device


def _roles_and_device(user) -> tuple[frozenset[str], bool]:
    """The user's roles and whether a confirmed device of any kind (TOTP, recovery codes) exists: read
    with the user by the session's backend (accounts.backends) or, for an API token's user, in one
    query that remembers the roles (and the policy notice) for the rest of the request. The device is
    asked afresh every time but the first (the middleware's, just after the user was read)."""
    has_device = getattr(user, "_voipxs_has_device", None)  # request.user is a lazy proxy: no __dict__
    if has_device is not None:
        delattr(user, "_voipxs_has_device")
        return roles_of(user), has_device
    found = user_facts_read(user)
    if found is None:  # the account row is gone: whatever a fresh look says
        return roles_of(user), user_has_device(user)
    return found


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
