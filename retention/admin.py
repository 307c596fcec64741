"""Admin for retention. Every write goes through retention.services: a policy "change" saves a new
version, a hold is placed or released through its service; receipts and runs are read-only."""
from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.http import HttpRequest

from voipxs.admin import ReadOnlyAdminMixin
from voipxs.exceptions import ApplicationError

from .models import HeldCdr, LegalHold, PurgeReceipt, PurgeRun, RetentionPolicy
from .services import legal_hold_place, legal_hold_release, retention_policy_changes, retention_policy_update


class RetentionPolicyAdminForm(forms.ModelForm):
    """Runs the service's checks (no change, an action the purge cannot carry out) as form
    validation, so that a refused change comes back as a form error instead of an error page."""

    class Meta:
        model = RetentionPolicy
        fields = ("category", "trigger", "period_months", "period_days", "action", "legal_basis", "change_reason")

    def clean(self) -> dict:
        cleaned = super().clean()
        category = self.instance.category if self.instance.pk else cleaned.get("category")
        current = RetentionPolicy.objects.filter(category=category).order_by("-version").first()
        try:
            retention_policy_changes(category=category, current=current, **{
                f: cleaned.get(f) for f in ("trigger", "period_months", "period_days", "action", "legal_basis")})
        except ApplicationError as exc:
            raise ValidationError({exc.extra.get("field", NON_FIELD_ERRORS): exc.message}) from None
        return cleaned


@admin.register(RetentionPolicy)
class RetentionPolicyAdmin(admin.ModelAdmin):
    form = RetentionPolicyAdminForm
    list_display = ("category", "version", "period_months", "period_days", "action", "legal_basis", "valid_from", "changed_by")
    list_filter = ("category",)
    list_select_related = ("changed_by",)
    fields = ("category", "trigger", "period_months", "period_days", "action", "legal_basis", "change_reason")
    readonly_fields = ()

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        return ("category",) if obj else ()

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # history is never rewritten

    def save_model(self, request, obj, form, change) -> None:
        # A change never edits the row: it saves a new version through the service.
        new = retention_policy_update(
            category=obj.category, actor=request.user, trigger=obj.trigger, period_months=obj.period_months,
            period_days=obj.period_days, action=obj.action, legal_basis=obj.legal_basis,
            change_reason=obj.change_reason or "changed in admin")
        obj.pk, obj.version = new.pk, new.version


@admin.register(LegalHold)
class LegalHoldAdmin(admin.ModelAdmin):
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

    @admin.action(description="Release the selected holds")
    def release_holds(self, request: HttpRequest, queryset) -> None:
        released = refused = 0
        for hold in queryset.filter(released_at__isnull=True):
            try:
                legal_hold_release(hold=hold, actor=request.user)
            except ApplicationError:
                refused += 1  # a disclosure's hold: it ends with its request
                continue
            released += 1
        self.message_user(request, f"{released} hold(s) released.", messages.SUCCESS)
        if refused:
            self.message_user(request, f"{refused} hold(s) belong to disclosure requests and stay.", messages.WARNING)


@admin.register(PurgeReceipt)
class PurgeReceiptAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "category", "deleted", "anonymised", "kept", "cutoff", "duration_ms", "dry_run")
    list_filter = ("category", "dry_run")


@admin.register(PurgeRun)
class PurgeRunAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("started_at", "as_of", "dry_run", "status", "heartbeat_at", "finished_at", "error")
    list_filter = ("status", "dry_run")


@admin.register(HeldCdr)
class HeldCdrAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    # Counts and ids only; numbers stay encrypted (read them through retention.selectors.held_cdr_list).
    list_display = ("cdr_id", "started_at", "account_id", "invoice_id", "held_at")
    fields = ("cdr_id", "started_at", "account_id", "invoice_id", "held_at")
    show_full_result_count = False
