"""Role checks of the staff pages: a page for a role answers 403 to anyone without it (the selector
behind it then checks the purpose and records the access)."""
from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from voipxs.privacy.purposes import Role, has_role

from ..selectors.sources_imports import INGEST_ROLES


def require_billing(request: HttpRequest) -> None:
    if not has_role(request.user, Role.BILLING):
        raise PermissionDenied


def require_ingest_role(request: HttpRequest) -> None:
    """Billing staff run imports for invoicing; network operations and administrators operate the switches."""
    if not has_role(request.user, *INGEST_ROLES):
        raise PermissionDenied


def require_fraud(request: HttpRequest) -> None:
    """Fraud analysts keep the fraud controls (the blocked click-to-call prefixes). Blocking destinations is
    fraud prevention, not invoicing, so billing staff no longer see them (least privilege, GDPR 5(1)(c), 32)."""
    if not has_role(request.user, Role.FRAUD):
        raise PermissionDenied
