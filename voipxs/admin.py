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
