"""The objection (GDPR art. 21) admin: read-only, the DPO's only, pseudonymous, as the restriction admin. Objections
are taken in through the request paths (portal, API, support) and decided on the DPO's page with their balancing
record (accounts/dsr/objection.py); here the DPO looks one up by its id, its request's or the account's. Codes and
dates only: the person's grounds and the balancing record are about the person and stay on the DPO's pages.
Imported by accounts/dsr/admin.py, which accounts/admin.py imports."""
from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .dsr.admin_dpo import DpoPseudonymousAdminMixin
from .dsr.objection_models import Objection


@admin.register(Objection)
class ObjectionAdmin(DpoPseudonymousAdminMixin, admin.ModelAdmin):
    audit_action, audit_target = "admin.objection.read", "objection"
    list_display = ("id", "account", "request_id", "purpose", "outcome", "decided_at")
    fields = readonly_fields = ("id", "account", "request_id", "purpose", "outcome", "decided_at")
    list_filter = ("purpose", "outcome")
    search_fields = ("=id", "=request__id", "=user__id")
    search_help_text = _("An objection's id, its request's id or an account's id.")
    ordering = ("-request_id", "pk")
