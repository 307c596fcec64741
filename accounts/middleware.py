from __future__ import annotations

from functools import cache
from typing import Callable
from urllib.parse import quote

from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.db.models import Exists, OuterRef
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django_otp import device_classes, user_has_device

from voipxs.privacy.purposes import STAFF_ROLES, roles_of, roles_remember

from .models import User

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


_USER_ID = -7_300_013  # stands for the user's id while the statement is compiled


@cache
def _roles_and_device_sql() -> tuple[str, tuple, int]:
    """The statement of `_roles_and_device`, compiled by the ORM once per process (the models and the
    database are fixed once the apps are loaded), for compiling it costs ten times what running it does:
    (sql, its parameters, the position of the user's id among them)."""
    devices = {f"device_{i}": Exists(model.objects.filter(user_id=OuterRef("pk"), confirmed=True))
               for i, model in enumerate(device_classes())}
    sql, params = (User.objects.filter(pk=_USER_ID).annotate(**devices).values_list("groups__name", *devices)
                   .query.sql_with_params())
    if params.count(_USER_ID) != 1:  # the id must be one parameter, or the statement is not what it seems
        raise ImproperlyConfigured(f"unexpected parameters {params!r} in the roles-and-devices query")
    return sql, params, params.index(_USER_ID)


def _roles_and_device(user) -> tuple[frozenset[str], bool]:
    """The user's roles and whether a confirmed device of any kind (TOTP, recovery codes) exists, in ONE
    query: every page and API call asks, and `roles_of` plus `user_has_device` took three. The roles
    are remembered on the user for the rest of the request, as `roles_of` itself does; the device is
    asked afresh every time."""
    sql, params, at = _roles_and_device_sql()
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params[:at], user.pk, *params[at + 1:]])
        rows = cursor.fetchall()
    if not rows:  # the account row is gone: whatever a fresh look says
        return roles_of(user), user_has_device(user)
    roles = frozenset(row[0] for row in rows if row[0] is not None)
    roles_remember(user, roles)
    return roles, any(rows[0][1:])


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
