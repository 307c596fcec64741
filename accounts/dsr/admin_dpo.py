"""What the DPO's read-only, pseudonymous admins share (restrictions, objections): only the DPO sees them, each
list read is audited under the legal-obligation purpose, and the account shows as its id, never its login name."""
from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from voipxs.admin import ReadOnlyAdminMixin
from voipxs.privacy.purposes import Purpose, Role, has_role, require_purpose


class DpoPseudonymousAdminMixin(ReadOnlyAdminMixin):
    audit_action = ""  # e.g. "admin.restriction.read"
    audit_target = ""  # e.g. "restriction"

    def get_queryset(self, request: HttpRequest):
        require_purpose(actor=request.user, purpose=Purpose.LEGAL_OBLIGATION, action=self.audit_action,
                        target_type=self.audit_target)
        return super().get_queryset(request)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return has_role(request.user, Role.DPO)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return has_role(request.user, Role.DPO)

    @admin.display(description=_("account"), ordering="user_id")
    def account(self, obj) -> str:
        return f"#{obj.user_id}"
