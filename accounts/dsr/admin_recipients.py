"""The GDPR art. 19 recipients admin: read-only, the DPO's only, pseudonymous, as the restriction and objection
admins. A RecipientNotification is listed by the services when a rectification, erasure or restriction is carried
out (dsr/recipients.py) and the DPO records telling the recipient on the request's page; here the DPO looks them up
across requests (which are still to tell, which were told how) by the row's id, its request's or the account's.
The account is its id, never its login name: that a person asked to correct, erase or restrict their data is itself
something about them. A recipient only pending its notice (a secrecy order that ended) is no row, so it is not here.
Imported by accounts/dsr/admin.py."""
from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .admin_dpo import DpoPseudonymousAdminMixin
from .recipient_models import RecipientNotification


@admin.register(RecipientNotification)
class RecipientNotificationAdmin(DpoPseudonymousAdminMixin, admin.ModelAdmin):
    audit_action, audit_target = "admin.recipient_notification.read", "recipient_notification"
    # Ids, names of bodies, codes and dates: `request` and `recorded_by` would print login names (User.__str__).
    list_display = ("id", "request_id", "account", "recipient", "disclosed_at", "notified_on", "how")
    fields = readonly_fields = ("id", "request_id", "account", "recipient", "recipient_kind", "disclosed_at",
                                "listed_at", "notified_on", "how")
    list_filter = (("notified_on", admin.EmptyFieldListFilter), "how", "recipient_kind")
    list_select_related = ("request",)
    search_fields = ("=id", "=request__id", "=request__user__id")
    search_help_text = _("A recipient notification's id, its request's id or an account's id.")
    ordering = ("-request_id", "disclosed_at", "pk")

    @admin.display(description=_("account"), ordering="request__user_id")
    def account(self, obj: RecipientNotification) -> str:  # the person the request is of, by id
        return f"#{obj.request.user_id}"
