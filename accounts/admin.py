"""Staff admin for accounts: users, role requests, second-factor devices and role groups. Every write goes
through accounts.services; nothing here searches or filters by decrypting a column: users are searched by login
name. The other accounts admins live beside it (admin_audit, admin_contractors, admin_numbers, admin_restricted,
admin_tokens, ciot/admin, dsr/admin) and are registered by the imports at the end."""
from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import admin as auth_admin
from django.contrib.auth import forms as auth_forms
from django.contrib.auth.models import Group
from django.db.models import Q
from django.utils.text import capfirst
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from django.utils.translation import gettext_lazy as _
from knox.models import AuthToken

from voipxs.admin import ReadOnlyAdminMixin, action_confirmation, each_through_service
from voipxs.exceptions import ApplicationError
from voipxs.privacy.purposes import Role, has_role, roles_of

from .admin_contractors import CloseReasonActionForm  # also registers the Contractor admin
from .admin_restricted import RestrictedUserFilter, RestrictedUsersAdminMixin
from .models import AccountCloseReason, Contractor, RoleGrant, User
from .services.closing import CLOSE_ROLES, account_close
from .services.roles import SECOND_ADMIN_ROLES, role_grant_approve, role_grant_refuse, user_roles_set
from .services.users import user_create, user_password_set, user_update_admin

PASSWORD_BY_OWNER = _("Admins, legal officers and the DPO reset their own password by e-mail; no one sets it for them.")


class RolesField(forms.MultipleChoiceField):
    def __init__(self, **kwargs) -> None:
        super().__init__(choices=Role.choices, widget=forms.CheckboxSelectMultiple, required=False, label=_("roles"),
                         help_text=_("Staff roles make the account staff; staff must use two-factor sign-in."), **kwargs)


class UserAddForm(auth_forms.AdminUserCreationForm):
    email = forms.EmailField(label=capfirst(_("e-mail address")), required=False)
    contractor = forms.ModelChoiceField(Contractor.objects.filter(closed_at__isnull=True), required=False,
                                        label=capfirst(_("contractor")))
    roles = RolesField(initial=[Role.CUSTOMER])

    class Meta(auth_forms.AdminUserCreationForm.Meta):
        model = User
        fields = ("username",)


class UserChangeForm(auth_forms.UserChangeForm):
    roles = RolesField()

    class Meta(auth_forms.UserChangeForm.Meta):
        model = User
        fields = ("username", "password", "email", "contractor", "is_active")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["roles"].initial = sorted(self.instance.groups.values_list("name", flat=True))
        # A closed contractor takes no new users; its own keep it.
        self.fields["contractor"].queryset = Contractor.objects.filter(
            Q(closed_at__isnull=True) | Q(pk=self.instance.contractor_id))


class PasswordThroughServiceForm(auth_forms.AdminPasswordChangeForm):
    def clean(self):
        # An admin who could set a legal officer's or DPO's password could sign in as them (and enrol a
        # new second factor): those accounts reset their password themselves, by e-mail.
        data = super().clean()
        if roles_of(self.user) & SECOND_ADMIN_ROLES:
            self.add_error("password1", PASSWORD_BY_OWNER)  # the admin's page shows field errors only
        return data

    def save(self, commit: bool = True):
        if self.cleaned_data.get("usable_password") is False or not self.cleaned_data.get("password1"):
            return super().save(commit=commit)
        return user_password_set(user=self.user, password=self.cleaned_data["password1"])


class UserRoleFilter(admin.SimpleListFilter):
    """Users by role, each by its name: a role is a group named by the role's code, which "groups" would list."""

    title = _("role")
    parameter_name = "role"

    def lookups(self, request, model_admin) -> list[tuple[str, str]]:
        return Role.choices

    def queryset(self, request, queryset):
        return queryset.filter(groups__name=self.value()) if self.value() else queryset


@admin.register(User)
class UserAdmin(RestrictedUsersAdminMixin, auth_admin.UserAdmin):
    form = UserChangeForm
    add_form = UserAddForm
    change_password_form = PasswordThroughServiceForm
    list_display = ("username", "email", "contractor", "is_staff", "is_active", "last_login")
    list_filter = ("is_staff", "is_superuser", "is_active", UserRoleFilter, "contractor", RestrictedUserFilter)
    search_fields = ("username",)  # never by e-mail: that would mean decrypting the table
    search_help_text = _("Search by login name.")
    ordering = ("username",)
    readonly_fields = ("is_staff", "is_superuser", "last_login", "date_joined", "closed_at", "anonymised_at")
    filter_horizontal = ()
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Personal data"), {"fields": ("email", "contractor")}),
        (_("Roles and status"), {"fields": ("roles", "is_active", "is_staff", "is_superuser")}),
        (_("Dates"), {"fields": ("last_login", "date_joined", "closed_at", "anonymised_at")}),
    )
    actions = ("close_accounts",)
    action_form = CloseReasonActionForm
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "email", "contractor", "roles",
                                                 "usable_password", "password1", "password2")}),
    )

    def save_model(self, request, obj, form, change) -> None:
        data = form.cleaned_data
        roles = list(data.get("roles") or [])
        if not change:
            password = data.get("password1") if data.get("usable_password", True) is not False else None
            user = user_create(username=data["username"], password=password or None,
                               email=data.get("email") or None, roles=roles,
                               contractor=data.get("contractor"), actor=request.user)
            obj.pk, obj.password = user.pk, user.password
            obj._state.adding, obj._state.db = False, user._state.db
            self._say_pending(request, obj)
            return
        fields = {name: data[name] for name in form.changed_data if name in {"username", "email", "contractor", "is_active"}}
        user_update_admin(user=obj, fields=fields, actor=request.user)
        if "roles" in form.changed_data:
            # Sets the staff flags and revokes API tokens when the account becomes staff; a role of
            # SECOND_ADMIN_ROLES becomes a request that another admin approves.
            user_roles_set(user=obj, roles=roles, actor=request.user)
            obj.refresh_from_db(fields=["is_staff", "is_superuser"])
        self._say_pending(request, obj)

    def _say_pending(self, request, obj: User) -> None:
        pending = sorted(obj.role_grants.filter(status=RoleGrant.Status.PENDING).values_list("role", flat=True))
        if pending:
            messages.warning(request, _("Waiting for a second admin to approve: %(roles)s.")
                             % {"roles": ", ".join(str(Role(r).label) for r in pending)})

    def save_related(self, request, form, formsets, change) -> None:
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not has_role(request.user, *CLOSE_ROLES):
            actions.pop("close_accounts", None)
        return actions

    @admin.action(description=_("Close the selected accounts (no sign-in; data kept until retention anonymises it)"))
    def close_accounts(self, request, queryset):
        reason = request.POST.get("reason") or AccountCloseReason.CONTRACT_ENDED
        named = self.account_named(request)  # a restricted account by its id only (admin_restricted.py)
        consequences = [_("They can no longer sign in: sessions, API tokens and passwords stop working; their "
                          "numbers' periods end now."),
                        _("Their data is kept until the retention policy anonymises it; invoices are kept for the "
                          "fiscal retention."),
                        _("Reason recorded: %(reason)s.") % {"reason": AccountCloseReason(reason).label}]
        if self._restricted_listing(request):
            consequences.append(_("Their restriction (GDPR art. 18) stays in force and in the record."))
        asked = action_confirmation(self, request, queryset, title=_("Close %(n)d account(s)?") % {"n": queryset.count()},
                                    consequences=consequences, action_label=_("Yes, close them"), describe=named)
        if asked is not None:
            return asked
        closed = each_through_service(request, queryset.order_by("pk"), name=named,
                                      act=lambda user: account_close(user=user, actor=request.user, reason=reason))
        if closed:
            messages.success(request, _("%(n)d account(s) closed.") % {"n": closed})


@admin.register(RoleGrant)
class RoleGrantAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Roles of SECOND_ADMIN_ROLES asked for in the user form wait here for a second admin."""

    list_display = ("user", "role", "status", "requested_by", "requested_at", "decided_by", "decided_at")
    list_filter = ("status", "role")
    list_select_related = ("user", "requested_by", "decided_by")
    search_fields = ("user__username",)
    actions = ("approve", "refuse")

    def has_change_permission(self, request, obj=None) -> bool:
        return obj is None and has_role(request.user, Role.ADMIN)  # the list's actions, never an edit form

    def _decide(self, request, queryset, service) -> None:
        for grant in queryset.order_by("pk"):
            try:
                service(grant=grant, actor=request.user)
            except ApplicationError as exc:
                messages.error(request, f"{grant.user.username} ({grant.role}): {exc.shown()}")
            else:
                messages.success(request, f"{grant.user.username} ({grant.role}): {grant.get_status_display()}")

    @admin.action(description=_("Approve the selected role requests (as the second admin)"))
    def approve(self, request, queryset):
        asked = action_confirmation(
            self, request, queryset, title=_("Approve %(n)d role request(s)?") % {"n": queryset.count()},
            consequences=[_("Each user gets the requested role at once, with the data its purposes open to them."),
                          _("Your approval is recorded in the audit log as the second administrator's.")],
            action_label=_("Yes, approve them"), describe=lambda grant: f"{grant.user.username}: {Role(grant.role).label}")
        if asked is not None:
            return asked
        self._decide(request, queryset, role_grant_approve)

    @admin.action(description=_("Refuse the selected role requests"))
    def refuse(self, request, queryset) -> None:
        self._decide(request, queryset, role_grant_refuse)


class _DeviceAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Second-factor devices without their secrets: django-otp's own admin shows every staff member's
    TOTP key, its QR code and the recovery codes in plain text. Here a device shows only whose it is
    and when it was used; its secret is shown once, to its owner, at enrolment."""

    list_display = ("user", "name", "confirmed", "created_at", "last_used_at")
    list_filter = ("confirmed",)
    list_select_related = ("user",)
    search_fields = ("user__username",)
    fields = ("user", "name", "confirmed", "created_at", "last_used_at")


for _device in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(_device):
        admin.site.unregister(_device)
    admin.site.register(_device, _DeviceAdmin)


# Issue 16 (authorization matrix, F1 and F2): knox's token admin could mint an API token for anyone
# (a legal officer's included), and renaming groups turned any role into `legal_officer` without a
# second admin. Tokens come only from the login API; roles are groups whose names are fixed.
for _model in (AuthToken, Group):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)


@admin.register(Group)
class RoleGroupAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("name",)
    fields = ("name",)
from . import admin_audit as _admin_audit  # noqa: E402,F401  registers the audit log admin (read-only)
from . import admin_numbers as _admin_numbers  # noqa: E402,F401  registers the phone number admin
from . import admin_tokens as _admin_tokens  # noqa: E402,F401  registers the API token admin
from .ciot import admin as _ciot_admin  # noqa: E402,F401  registers the subscriber details admin
from .dsr import admin as _dsr_admin  # noqa: E402,F401  registers the restriction admin (read-only, the DPO's)
