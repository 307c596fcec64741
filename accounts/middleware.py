from __future__ import annotations

from typing import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from voipxs.purposes import STAFF_ROLES, roles_of

# Paths a staff member may reach before passing the second factor.
_OPEN_PREFIXES = ("/accounts/", "/static/", "/healthz", "/privacy/", "/i18n/", "/api/")


def needs_second_factor(user) -> bool:
    """Staff (a staff role, is_staff or superuser) must pass TOTP; customers only if they enrolled."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_staff or user.is_superuser or roles_of(user) & STAFF_ROLES:
        return True
    from django_otp import user_has_device

    return user_has_device(user)


class StaffTwoFactorMiddleware:
    """Sends a signed-in user who still owes a second factor to the verification page.

    The API is guarded by its own permission class (accounts.api_auth) so that it answers 403, not a redirect.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            needs_second_factor(user)
            and not user.is_verified()
            and not request.path.startswith(_OPEN_PREFIXES)
        ):
            return redirect(f"/accounts/two-factor/?next={request.get_full_path()}")
        return self.get_response(request)
