"""Role checks of the staff pages: a page for a role answers 403 to anyone without it (the selector
behind it then checks the purpose and records the access)."""
from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from voipxs.privacy.purposes import Role, has_role


def require_billing(request: HttpRequest) -> None:
    if not has_role(request.user, Role.BILLING):
        raise PermissionDenied


def require_billing_or_admin(request: HttpRequest) -> None:
    """Billing staff run imports for invoicing; administrators operate the switches."""
    if not has_role(request.user, Role.BILLING, Role.ADMIN):
        raise PermissionDenied
