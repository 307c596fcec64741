"""The staff admin runs on django-otp's OTPAdminSite: its login asks for the TOTP (or recovery)
code, and only a session verified by the second factor may enter.

INSTALLED_APPS lists `voipxs.admin.OTPAdminConfig` instead of `django.contrib.admin`, so the
default `admin.site` that every app registers with is this site. Django imports this module while
it is still loading apps, before any model may be imported; the site class is therefore built on
first use, inside `otp_admin_site()`.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib.admin.apps import AdminConfig

if TYPE_CHECKING:
    from django.http import HttpRequest


class OTPAdminConfig(AdminConfig):
    default_site = "voipxs.admin.otp_admin_site"


def otp_admin_site():
    from django.shortcuts import redirect
    from django.utils.translation import gettext_lazy as _
    from django_otp.admin import OTPAdminSite

    class VoipxsAdminSite(OTPAdminSite):
        site_header = _("VoIPXS staff admin")
        site_title = _("VoIPXS admin")
        index_title = _("Administration")

        def password_change(self, request, extra_context=None):
            # Django admin's own form would save the password past `user_password_set`, leaving the
            # account's API tokens alive; the portal's form goes through the service.
            return redirect("accounts:password-change")

    return VoipxsAdminSite(name="admin")


class ReadOnlyAdminMixin:
    """For a ModelAdmin whose rows change only through services (or never): the admin shows them but
    offers no add, change or delete. Put it before `admin.ModelAdmin` in the bases. A plain class,
    so this module stays importable while Django is still loading apps."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class AuditedReadsAdminMixin:
    """For a read-only ModelAdmin of call records (LEGAL.md section 5 row 21): every page reads through `reads`
    (traffic.selectors.admin_calls.AdminCallReads), which checks the purpose before anything is read and records
    what the page read: the list page the ids it shows, an object's page (change, history, delete) its id. Put it
    before `admin.ModelAdmin` in the bases."""

    reads: Any = None

    def get_queryset(self, request: HttpRequest) -> Any:
        qs = self.reads.queryset(actor=request.user)
        ordering = self.get_ordering(request)
        return qs.order_by(*ordering) if ordering else qs

    def get_changelist_instance(self, request: HttpRequest) -> Any:
        changelist = super().get_changelist_instance(request)
        changelist.result_list = self.reads.page(actor=request.user, rows=changelist.result_list)
        return changelist

    def get_object(self, request: HttpRequest, object_id: str, from_field: str | None = None) -> Any:
        return self.reads.get(actor=request.user, obj=super().get_object(request, object_id, from_field))


def action_confirmation(modeladmin: Any, request: HttpRequest, queryset: Any, *, title: str,
                        consequences: list[str], action_label: str, describe: Any = str) -> Any:
    """An admin action that changes or removes rows asks first, like Django's own "delete selected":
    None once the staff member confirmed (the action then runs), else the page that names what will
    happen to which rows. The action's own fields (a reason, say) are carried through the page."""
    from django.template.response import TemplateResponse

    if request.POST.get("post") == "yes":
        return None
    carried = [(name, value) for name, values in request.POST.lists()
               if name not in ("csrfmiddlewaretoken", "post") for value in values]
    opts = modeladmin.model._meta
    return TemplateResponse(request, "admin/action_confirm.html", {
        **modeladmin.admin_site.each_context(request), "title": title, "subtitle": None, "opts": opts,
        "consequences": consequences, "action_label": action_label, "objects": [describe(o) for o in queryset[:100]],
        "more": max(0, queryset.count() - 100), "carried": carried,
    })


def each_through_service(request: HttpRequest, objects: Any, act: Any, *, name: Any = str) -> int:
    """An admin action's service call `act(obj)` for each object on its own: a refusal (ApplicationError) is
    an error message naming the object and the others go on. Returns how many went through."""
    from django.contrib import messages

    from voipxs.exceptions import ApplicationError

    done = 0
    for obj in objects:
        try:
            act(obj)
        except ApplicationError as exc:
            messages.error(request, f"{name(obj)}: {exc.shown()}")
            continue
        done += 1
    return done
