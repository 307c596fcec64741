"""The user admin and restricted accounts (GDPR art. 18, LEGAL.md section 5 row 26). A restricted person's data is
only stored: the user list, its search and a user's own pages leave restricted accounts out, as every selector does
for a purpose that does not see restricted rows (accounts.selectors.SEES_RESTRICTED; the user admin reads under
SECURITY, which does not). Security still needs to know that such accounts exist and whether they can sign in, so
an explicit filter, "restricted (art. 18)", lists them as restricted only: the account's id, since when, whether it
is active or staff; no login name, e-mail address or contractor, no link to the user's page, no action but closing
(the contract ends whatever the restriction; the accounts named by their id), and a search by the account's id
only (a login name found would name who is restricted). That listing is a read of its own, recorded with the ids
it shows."""
from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin import helpers
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from voipxs.privacy.purposes import Purpose, require_purpose

RESTRICTED_PARAM, RESTRICTED_ONLY = "restricted", "yes"
RESTRICTED_LIST_DISPLAY = ("account", "restricted_at", "is_active", "is_staff")
RESTRICTED_ACTIONS = frozenset({"close_accounts"})


class RestrictedUserFilter(admin.SimpleListFilter):
    """Which accounts the list shows: by default those not restricted; on request the restricted ones, only as
    restricted. The admin's queryset does the selecting (RestrictedUsersAdminMixin), so the default is "not
    restricted" and not Django's "All"."""

    title = _("restricted (art. 18)")
    parameter_name = RESTRICTED_PARAM

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(RESTRICTED_ONLY, _("restricted accounts only"))]

    def queryset(self, request: HttpRequest, queryset: Any) -> Any:
        return queryset

    def choices(self, changelist: Any):
        for choice in super().choices(changelist):
            if choice["query_string"] == changelist.get_query_string(remove=[self.parameter_name]):
                choice["display"] = _("not restricted")
            yield choice


class RestrictedUsersAdminMixin:
    """For the user admin: put it before auth_admin.UserAdmin in the bases. Only the list page may show restricted
    accounts (when asked by the filter); every other page (a user's change, history, password, delete) finds none."""

    def _restricted_listing(self, request: HttpRequest) -> bool:
        return getattr(request, "_voipxs_restricted_listing", False)

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> Any:
        request._voipxs_restricted_listing = request.GET.get(RESTRICTED_PARAM) == RESTRICTED_ONLY
        return super().changelist_view(request, extra_context)

    def get_queryset(self, request: HttpRequest) -> Any:
        # The list and forms show decrypted e-mail addresses: account administration is processing for SECURITY,
        # checked and audited like every other read of user data (the restricted listing records its ids too).
        restricted = self._restricted_listing(request)
        require_purpose(actor=request.user, purpose=Purpose.SECURITY, target_type="user",
                        action="admin.user.restricted.read" if restricted else "admin.user.read")
        return super().get_queryset(request).filter(restricted_at__isnull=not restricted)

    def get_changelist_instance(self, request: HttpRequest) -> Any:
        changelist = super().get_changelist_instance(request)
        if self._restricted_listing(request):
            rows = list(changelist.result_list)
            require_purpose(actor=request.user, purpose=Purpose.SECURITY, action="admin.user.restricted.list",
                            target_type="user", extra={"ids": [row.pk for row in rows]})
            for row in rows:
                row._voipxs_named_by_id = True  # its checkbox for the closing action names it by id (below)
            changelist.result_list = rows
        return changelist

    def get_list_display(self, request: HttpRequest) -> Any:
        return RESTRICTED_LIST_DISPLAY if self._restricted_listing(request) else super().get_list_display(request)

    def get_list_display_links(self, request: HttpRequest, list_display: Any) -> Any:
        return None if self._restricted_listing(request) else super().get_list_display_links(request, list_display)

    def get_search_fields(self, request: HttpRequest) -> Any:
        return ("=id",) if self._restricted_listing(request) else super().get_search_fields(request)

    def get_actions(self, request: HttpRequest) -> Any:
        """On the restricted listing, closing only (RESTRICTED_ACTIONS), for who may close accounts: the contract
        ends whatever the restriction, which stays in force and in the record. Nothing else is done from there."""
        actions = super().get_actions(request)
        if self._restricted_listing(request):
            return {name: action for name, action in actions.items() if name in RESTRICTED_ACTIONS}
        return actions

    def account_named(self, request: HttpRequest) -> Any:
        """How an action names an account on its confirmation page and in a refusal: by its id on the restricted
        listing (a login name would say who is restricted), else by its login name."""
        return (lambda user: f"#{user.pk}") if self._restricted_listing(request) else str

    def action_checkbox(self, obj: Any) -> Any:
        """Django's checkbox names the row's object (its login name) for screen readers: a restricted listing's row
        is named by its id, as the listing names it."""
        if not getattr(obj, "_voipxs_named_by_id", False):
            return super().action_checkbox(obj)
        attrs = {"class": "action-select", "aria-label": format_html(gettext("Select this object for an action - {}"),
                                                                     f"#{obj.pk}")}
        return forms.CheckboxInput(attrs, lambda value: False).render(helpers.ACTION_CHECKBOX_NAME, str(obj.pk))

    @admin.display(description=_("account"), ordering="pk")
    def account(self, obj: Any) -> str:
        return f"#{obj.pk}"
