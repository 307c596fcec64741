from __future__ import annotations

from django.http import HttpRequest

from .privacy.purposes import STAFF_ROLES, roles_of


def site(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    roles = roles_of(user) if user is not None else frozenset()
    return {"user_roles": roles, "is_staff_role": bool(roles & STAFF_ROLES)}
