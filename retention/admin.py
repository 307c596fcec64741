"""Admin for retention. Every write goes through retention.services: a policy "change" saves a new
version, a hold is placed or released through its service; receipts and runs are read-only."""
from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.http import HttpRequest
from django.utils.formats import date_format
from django.utils.timezone import localtime
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from voipxs.admin import AuditedReadsAdminMixin, ReadOnlyAdminMixin, action_confirmation
from voipxs.exceptions import ApplicationError
from voipxs.privacy.purposes import Role, has_role

from .models import HeldCdr, LegalHold, PurgeReceipt, PurgeRun, RetentionPolicy
from .selectors import HELD_CDR_ADMIN_READS
from .services import legal_hold_place, legal_hold_release, retention_policy_changes, retention_policy_update


class RetentionPolicyAdminForm(forms.ModelForm):
    """Runs the service's checks (no change, an action the purge cannot carry out) as form
    validation, so that a refused change comes back as a form error instead of an error page."""

    class Meta:
        model = RetentionPolicy
        fields = ("category", "trigger", "period_months", "period_days", "action", "legal_basis", "change_reason")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # The reason is why this change is made, as on the DPO's page: it starts empty (not the shown version's
        # reason, "DESIGN.md defaults" for version 1) and must be given.
        self.initial["change_reason"] = ""
        self.fields["change_reason"].required = True

    def clean(self) -> dict:
        cleaned = super().clean()
        category = self.instance.category if self.instance.pk else cleaned.get("category")
        current = RetentionPolicy.objects.filter(category=category).order_by("-version").first()
        try:
            retention_policy_changes(category=category, current=current, **{
                f: cleaned.get(f) for f in ("trigger", "period_months", "period_days", "action", "legal_basis")})
        except ApplicationError as exc:
            raise ValidationError({exc.extra.get("field", NON_FIELD_ERRORS): exc.shown()}) from None
        return cleaned


class _DpoOnly:
    """The DPO only, as on the retention pages and API: the admin role (a superuser) neither shortens a
    retention period nor places or releases holds, and must not see a disclosure request's hold (its
    reason, reference and targets), whose very existence can be secret. Put it before ModelAdmin
    (and after ReadOnlyAdminMixin) in the bases."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return has_role(request.user, Role.DPO)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return has_role(request.user, Role.DPO)

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return has_role(request.user, Role.DPO)  # saved through the services (save_model)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return has_role(request.user, Role.DPO)


class _RefusalShown:
    """A refusal of the service that save_model calls is the same form again, with what was entered and the refusal
    on it (at the field it names, when the form has that field), the add or change rolled back (changeform_view's
    transaction); not a server error, and not an empty form that loses the input."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ApplicationError as exc:
            # The form is made and checked again, in a new transaction, and this time fails with the refusal.
            request._service_refusal = exc
            return super().changeform_view(request, object_id, form_url, extra_context)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        refusal = getattr(request, "_service_refusal", None)
        if refusal is None:
            return form

        class Refused(form):
            def clean(self) -> dict:
                cleaned = super().clean()
                refusal.add_to(self)
                return cleaned

        return Refused


class _DpoSeesToo:
    """Receipts and runs hold counts only: the admin keeps seeing them, and so does the DPO."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return has_role(request.user, Role.DPO) or super().has_module_permission(request)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return has_role(request.user, Role.DPO) or super().has_view_permission(request, obj)


@admin.register(RetentionPolicy)
class RetentionPolicyAdmin(_RefusalShown, _DpoOnly, admin.ModelAdmin):
    form = RetentionPolicyAdminForm
    list_display = ("category", "version", "period_months", "period_days", "action", "legal_basis", "valid_from_shown",
                    "changed_by")
    list_filter = ("category",)
    list_select_related = ("changed_by",)
    fields = ("category", "trigger", "period_months", "period_days", "action", "legal_basis", "change_reason")
    readonly_fields = ()

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        return ("category",) if obj else ()

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # history is never rewritten

    @admin.display(description=_("Valid from"), ordering="valid_from")
    def valid_from_shown(self, obj: RetentionPolicy) -> str:
        """The seeded version 1 is in force since installation (it is stored as from 1 January 2000, which no one
        chose), as on the DPO's retention page; every later version from when it was saved."""
        return str(_("since installation")) if obj.seeded else date_format(localtime(obj.valid_from), "DATETIME_FORMAT")

    def save_model(self, request, obj, form, change) -> None:
        # A change never edits the row: it saves a new version through the service.
        new = retention_policy_update(
            category=obj.category, actor=request.user, trigger=obj.trigger, period_months=obj.period_months,
            period_days=obj.period_days, action=obj.action, legal_basis=obj.legal_basis,
            change_reason=obj.change_reason or "changed in admin")
        obj.pk, obj.version = new.pk, new.version


@admin.register(LegalHold)
class LegalHoldAdmin(_RefusalShown, _DpoOnly, admin.ModelAdmin):
    list_display = ("id", "reason", "reference", "starts_at", "expires_at", "released_at", "placed_by")
    list_filter = ("reason",)
    list_select_related = ("placed_by",)
    fields = ("reason", "reference", "account_ids", "number_indexes", "window_start", "window_end", "categories",
              "starts_at", "expires_at")
    actions = ["release_holds"]

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        return self.fields if obj else ()

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change) -> None:
        if change:
            return
        hold = legal_hold_place(
            reason=obj.reason, reference=obj.reference, categories=obj.categories, actor=request.user,
            account_ids=obj.account_ids or [], number_indexes=obj.number_indexes or [],
            window_start=obj.window_start, window_end=obj.window_end, starts_at=obj.starts_at,
            expires_at=obj.expires_at)
        obj.pk = hold.pk

    @admin.action(description=_("Release the selected holds"))
    def release_holds(self, request: HttpRequest, queryset):
        asked = action_confirmation(
            self, request, queryset, title=ngettext("Release %(n)d legal hold?", "Release %(n)d legal holds?",
                                                    queryset.count()) % {"n": queryset.count()},
            consequences=[_("The data each hold keeps is deleted by the next retention purge once its own "
                            "retention period has passed; a release cannot be undone."),
                          _("Holds of disclosure requests stay: they end with their request.")],
            action_label=_("Yes, release them"))
        if asked is not None:
            return asked
        released = refused = 0
        for hold in queryset.filter(released_at__isnull=True):
            try:
                legal_hold_release(hold=hold, actor=request.user)
            except ApplicationError:
                refused += 1  # a disclosure's hold: it ends with its request
                continue
            released += 1
        self.message_user(request, _("%(n)d hold(s) released.") % {"n": released}, messages.SUCCESS)
        if refused:
            self.message_user(request, _("%(n)d hold(s) belong to disclosure requests and stay.") % {"n": refused},
                              messages.WARNING)


@admin.register(PurgeReceipt)
class PurgeReceiptAdmin(ReadOnlyAdminMixin, _DpoSeesToo, admin.ModelAdmin):
    list_display = ("created_at", "category", "deleted", "anonymised", "kept", "cutoff", "duration_ms", "dry_run")
    list_filter = ("category", "dry_run")


@admin.register(PurgeRun)
class PurgeRunAdmin(ReadOnlyAdminMixin, _DpoSeesToo, admin.ModelAdmin):
    list_display = ("started_at", "as_of", "dry_run", "status", "heartbeat_at", "finished_at", "error")
    list_filter = ("status", "dry_run")


@admin.register(HeldCdr)
class HeldCdrAdmin(AuditedReadsAdminMixin, ReadOnlyAdminMixin, _DpoOnly, admin.ModelAdmin):
    # Counts and ids only; numbers stay encrypted (read them through retention.selectors.held_cdr_list). Every page
    # reads through the selector, which checks the purpose (LEGAL_OBLIGATION) and records the calls' ids.
    reads = HELD_CDR_ADMIN_READS
    list_display = ("cdr_id", "started_at", "account_id", "invoice_id", "held_at")
    fields = ("cdr_id", "started_at", "account_id", "invoice_id", "held_at")
    show_full_result_count = False
