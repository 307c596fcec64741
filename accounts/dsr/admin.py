"""The restriction (GDPR art. 18) admin: read-only, the DPO's only, pseudonymous. Restrictions change only
through accounts/dsr/restriction.py (the DPO's pages); here the DPO looks one up by its id or the account's id.
No name, login name or e-mail address is shown: the account is its id, as on the DPO's pages, since that a
person asked to restrict their processing (and on which ground) is itself something about them.
Imported by accounts/admin.py, which Django's autodiscovery loads."""
from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .admin_dpo import DpoPseudonymousAdminMixin
from .models import Restriction


class RestrictionStateFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return (("active", _("active")), ("lifted", _("lifted")))

    def queryset(self, request, queryset):
        if self.value() in ("active", "lifted"):
            return queryset.filter(lifted_at__isnull=self.value() == "active")
        return queryset


@admin.register(Restriction)
class RestrictionAdmin(DpoPseudonymousAdminMixin, admin.ModelAdmin):
    audit_action, audit_target = "admin.restriction.read", "restriction"
    # Ids, codes and dates only: `user` and `request` would print the login name (User.__str__) and link to it.
    list_display = ("id", "account", "request_id", "ground", "started_at", "ends_on", "state", "lift_notice_sent_at",
                    "lift_notice_channel", "lifted_at", "reminder_stage")
    fields = readonly_fields = ("id", "account", "request_id", "ground", "started_at", "ends_on", "state",
                                "lift_notice_asked_at", "lift_notice_sent_at", "lift_notice_channel",
                                "lift_notice_withdrawn_at", "lift_notice_withdrawn_by", "continuation_notice_due_at",
                                "lifted_at", "reminder_stage")
    list_filter = (RestrictionStateFilter, "ground", "reminder_stage")
    search_fields = ("=id", "=user__id")
    search_help_text = _("A restriction's id or an account's id.")
    ordering = ("-started_at", "-pk")

    @admin.display(description=_("state"), ordering="lifted_at")
    def state(self, obj: Restriction) -> str:
        return str(_("active") if obj.lifted_at is None else _("lifted"))


from .. import admin_objections as _admin_objections  # noqa: E402,F401  registers the objection admin (the DPO's)
from . import admin_recipients as _admin_recipients  # noqa: E402,F401  registers the art. 19 recipients admin
