"""The API token admin: read-only, plus revoking (knox's own admin could mint a token for anyone; it is
unregistered in accounts/admin.py)."""
from __future__ import annotations

from django.contrib import admin, messages
from django.utils.timezone import localtime
from django.utils.translation import gettext_lazy as _
from knox.models import AuthToken

from voipxs.admin import ReadOnlyAdminMixin, action_confirmation
from voipxs.privacy.purposes import Role, has_role

from .services.sign_in import api_token_revoke


@admin.register(AuthToken)
class AuthTokenAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only, but an administrator can revoke tokens (a lost laptop, a leaked script) through the
    service that the portal's sign-out uses, after a confirmation."""

    list_display = ("user", "created", "expiry")
    fields = ("user", "created", "expiry")
    list_select_related = ("user",)
    search_fields = ("user__username",)
    actions = ["revoke_tokens"]

    def has_revoke_permission(self, request) -> bool:
        return request.user.is_superuser or has_role(request.user, Role.ADMIN)

    @admin.action(description=_("Revoke the selected API tokens"), permissions=["revoke"])
    def revoke_tokens(self, request, queryset):
        asked = action_confirmation(
            self, request, queryset, title=_("Revoke %(n)d API token(s)?") % {"n": queryset.count()},
            consequences=[_("Every program signed in with these tokens is refused from its next request on; "
                            "their owners sign in again to get a new one."), _("This cannot be undone.")],
            action_label=_("Yes, revoke them"),
            describe=lambda token: _("%(user)s, signed in %(created)s") % {
                "user": token.user.username, "created": localtime(token.created).strftime("%Y-%m-%d %H:%M")})
        if asked is not None:
            return asked
        revoked = 0
        for token in queryset.select_related("user"):
            api_token_revoke(token=token, actor=request.user)
            revoked += 1
        messages.success(request, _("%(n)d API token(s) revoked.") % {"n": revoked})
