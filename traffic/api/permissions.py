"""Role permissions of the staff and contractor APIs (on top of the default IsAuthenticated); the
selector behind each API then checks the purpose and records the access."""
from __future__ import annotations

from rest_framework.permissions import BasePermission

from voipxs.privacy.purposes import Purpose, Role, has_role, purposes_of

from ..selectors.sources_imports import INGEST_ROLES


class IsIngestStaff(BasePermission):
    message = "Only billing staff, network operations and administrators manage CDR sources and imports."

    def has_permission(self, request, view) -> bool:
        return has_role(request.user, *INGEST_ROLES)


class IsBilling(BasePermission):
    message = "Only billing staff may do this."

    def has_permission(self, request, view) -> bool:
        return has_role(request.user, Role.BILLING)


class IsContractorAdmin(BasePermission):
    message = "Only a contractor's admins see its users' traffic."

    def has_permission(self, request, view) -> bool:
        return has_role(request.user, Role.CONTRACTOR_ADMIN)


class MaySetUpCalls(BasePermission):
    """Click-to-call is for the roles with the purpose CALL_SETUP (customers, contractor admins)."""

    message = "Click-to-call is for customers: your role has no call set-up."

    def has_permission(self, request, view) -> bool:
        return Purpose.CALL_SETUP in purposes_of(request.user)
