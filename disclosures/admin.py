"""Admin for disclosures: read-only. Every change goes through the legal officers' pages and
disclosures.services (two approvals, checks, audit); the admin shows state and counts, never numbers
or document contents."""
from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from voipxs.admin import ReadOnlyAdminMixin
from voipxs.privacy.purposes import Role, has_role

from .models import Authority, DisclosureRequest, Notice, Package


class _LegalOfficersOnly(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Legal officers only. The admin role is a superuser, but law-enforcement requests are none of
    its purposes (SECURITY, SELF_SERVICE): a request's very existence can be secret."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return has_role(request.user, Role.LEGAL_OFFICER)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return has_role(request.user, Role.LEGAL_OFFICER)


@admin.register(Authority)
class AuthorityAdmin(_LegalOfficersOnly):
    list_display = ("name", "kind", "contact_phone", "email_domains", "certificate_not_after", "verified_at", "active")
    list_filter = ("kind", "active")
    fields = ("name", "kind", "contact_phone", "contact_email", "email_domains", "certificate_sha256",
              "certificate_not_after", "created_by", "verified_at", "verified_by", "verification_note", "active")


@admin.register(DisclosureRequest)
class DisclosureRequestAdmin(_LegalOfficersOnly):
    list_display = ("id", "reference", "authority", "legal_basis", "status", "outcome", "deadline", "emergency",
                    "sender_domain", "sender_domain_listed")
    list_filter = ("status", "legal_basis", "emergency", "sender_domain_listed")
    list_select_related = ("authority",)
    fields = ("reference", "authority", "legal_basis", "categories", "window_start", "window_end", "target_count",
              "deadline", "emergency", "oral_order", "written_order_at", "sender_domain", "sender_domain_listed",
              "secrecy_until", "notice_user", "notice_withheld_reason",
              "notice_review_on", "notice_review_reminded_at", "status", "outcome", "received_at",
              "verified_at", "verified_channel", "approved_at", "produced_at", "checked_at", "delivered_at",
              "delivery_sha256", "delivery_encrypted_to", "closed_at", "hold", "hold_release_due_at",
              "hold_released_at", "sla_stage", "written_order_due_at",
              "written_order_escalated_at", "breach_flagged_at", "breach_incident", "preserve_until",
              "preservation_reminded_at", "renewed_at", "renewal_reference", "converted_to")


@admin.register(Package)
class PackageAdmin(_LegalOfficersOnly):
    list_display = ("id", "request", "state", "record_count", "created_at", "delete_after", "deleted_at")
    fields = ("request", "state", "record_count", "created_at", "delete_after", "deleted_at")


@admin.register(Notice)
class NoticeAdmin(_LegalOfficersOnly):
    list_display = ("id", "request", "state", "withheld_until", "sent_at")
    fields = ("request", "state", "withheld_until", "sent_at", "reminded_at")
