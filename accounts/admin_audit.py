"""The audit log in the admin, read-only: its entries (filtered by purpose) and the anchors where the
chain starts after each retention trim. Registered when accounts/admin.py imports it."""
from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from voipxs.admin import ReadOnlyAdminMixin
from voipxs.models import AuditAnchor, AuditEntry
from voipxs.privacy.purposes import Purpose


@admin.register(AuditAnchor)
class AuditAnchorAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Where the chain starts after each retention trim, for auditors: read-only (the database refuses
    changes; each anchor's MAC is checked by verify_audit_log and the daily check)."""

    list_display = ("up_to_seq", "removed", "cutoff", "created_at")


class AuditPurposeFilter(admin.SimpleListFilter):
    """The audit log by purpose, each named as the register names it. The choices come from the enum, not from
    a scan of the whole log for its distinct values (five years of entries). Service events name their purpose too
    (an alias such as BREACH_PURPOSE is one of the enum's, so it is listed under that name); entries that record
    none (service events written before they did, kept as the log is append-only) and purposes the enum does not
    know (a refused ask for one) can be picked too. The parameter keeps the field's name, so a link filtered by a
    purpose code still works."""

    title = _("purpose")
    parameter_name = "purpose"
    NONE, UNKNOWN = "-", "?"

    def lookups(self, request, model_admin) -> list[tuple[str, str]]:
        return [*Purpose.choices, (self.NONE, _("No purpose recorded")), (self.UNKNOWN, _("Unknown purpose (refused)"))]

    def queryset(self, request, queryset):
        value = self.value()
        if value is None:
            return queryset
        if value == self.NONE:
            return queryset.filter(purpose="")
        if value == self.UNKNOWN:
            return queryset.exclude(purpose__in=["", *Purpose.values])
        return queryset.filter(purpose=value)


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only: the log is append-only (and the database refuses UPDATE and DELETE)."""

    list_display = ("id", "created_at", "actor", "action", "purpose_name", "target_type", "target_id", "outcome", "seq")
    list_filter = ("outcome", "action", AuditPurposeFilter)
    search_fields = ("action", "actor", "target_id")
    date_hierarchy = "created_at"

    @admin.display(description=_("purpose"), ordering="purpose")
    def purpose_name(self, entry: AuditEntry) -> str | None:
        """The purpose's name; a code the enum does not know (a refused ask) as it was recorded; none as "-"."""
        return Purpose(entry.purpose).label if entry.purpose in Purpose.values else (entry.purpose or None)
