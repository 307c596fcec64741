"""Admin for disclosures: read-only. Every change goes through the legal officers' pages and
disclosures.services (two approvals, checks, audit); the admin shows state and counts, never numbers
or document contents."""
from __future__ import annotations

from django.contrib import admin
from voipxs.admin import ReadOnlyAdminMixin

from .models import Authority, DisclosureRequest, Notice, Package


@admin.register(Authority)
class AuthorityAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("name", "kind", "contact_phone", "verified_at", "active")
    list_filter = ("kind", "active")
    fields = ("name", "kind", "contact_phone", "contact_email", "verified_at", "verification_note", "active")


@admin.register(DisclosureRequest)
class DisclosureRequestAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("id", "reference", "authority", "legal_basis", "status", "outcome", "deadline", "emergency")
    list_filter = ("status", "legal_basis", "emergency")
    list_select_related = ("authority",)
    fields = ("reference", "authority", "legal_basis", "categories", "window_start", "window_end", "target_count",
              "deadline", "emergency", "written_order_at", "secrecy_until", "status", "outcome", "received_at",
              "verified_at", "verified_channel", "approved_at", "produced_at", "checked_at", "delivered_at",
              "closed_at", "hold", "hold_release_due_at", "hold_released_at")


@admin.register(Package)
class PackageAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("id", "request", "state", "record_count", "created_at", "delete_after", "deleted_at")
    fields = ("request", "state", "record_count", "created_at", "delete_after", "deleted_at")


@admin.register(Notice)
class NoticeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("id", "request", "state", "withheld_until", "sent_at")
    fields = ("request", "state", "withheld_until", "sent_at", "reminded_at")
