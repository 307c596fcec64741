"""Traffic admin. Sources and tariffs are edited here; CDRs and imports are read-only, and the CDR
list never counts the whole table (HC's PingsPaginator): counting a partitioned table of tens of
millions of rows on every page view would be the slowest query of the site. Numbers stay encrypted."""
from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.paginator import Paginator
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from voipxs.admin import AuditedReadsAdminMixin, ReadOnlyAdminMixin
from voipxs.exceptions import ApplicationError
from voipxs.money import RATE, money

from .models import Cdr, CdrImport, Source, Tariff
from .selectors.admin_calls import CDR_ADMIN_READS
from .services import sources
from .services.tariffs import tariff_admin_delete, tariff_admin_save


def _money_column(model, field: str, places: int | str):
    """A list column that shows a stored amount as every page does (voipxs/money.py), not as the raw decimal
    ("0.06000"); headed by the field's name and sorted by it."""
    @admin.display(description=model._meta.get_field(field).verbose_name, ordering=field)
    def column(self, obj) -> str:
        return money(getattr(obj, field), places)
    return column


class NoCountPaginator(Paginator):
    """Pretends there is always one more page instead of counting (as HC hc/api/admin.py does)."""

    @cached_property
    def count(self) -> int:
        return 10**9


class SourceAdminForm(forms.ModelForm):
    class Meta:
        model = Source
        fields = ("name", "format", "timezone", "default_country", "carrier", "columns")

    def clean(self):
        data = super().clean()
        try:
            sources.source_validate(name=data.get("name") or (self.instance.name if self.instance.pk else ""),
                                    format=data.get("format", ""), timezone=(data.get("timezone") or "").strip(),
                                    country=(data.get("default_country") or "").strip().upper(),
                                    columns=(data.get("columns") or "").strip())
        except ApplicationError as exc:
            exc.add_to(self)
        return data


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    form = SourceAdminForm
    list_display = ("name", "format", "timezone", "default_country", "carrier", "created_at")
    search_fields = ("name", "carrier")

    def get_readonly_fields(self, request, obj=None):
        return ("name", "created_at") if obj else ("created_at",)

    def save_model(self, request, obj, form, change) -> None:
        # Through the services, so time zone and country are validated and the change is audited.
        if change:
            sources.source_update(source=obj, actor=request.user, format=obj.format, timezone=obj.timezone,
                                  default_country=obj.default_country, carrier=obj.carrier, columns=obj.columns)
        else:
            created = sources.source_create(name=obj.name, format=obj.format, timezone=obj.timezone,
                                            default_country=obj.default_country, carrier=obj.carrier,
                                            columns=obj.columns, actor=request.user)
            obj.pk = created.pk


@admin.register(CdrImport)
class CdrImportAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("id", "source", "file_name", "status", "imported", "duplicates", "conflicts", "flagged", "created_at")
    list_filter = ("status", "source")
    list_select_related = ("source",)
    show_full_result_count = False


@admin.register(Tariff)
class TariffAdmin(admin.ModelAdmin):
    list_display = ("prefix", "zone", "price_per_minute_shown", "setup_fee_shown", "increment_first", "increment_next",
                    "valid_from", "valid_to")
    search_fields = ("prefix", "zone")
    list_filter = ("zone",)
    price_per_minute_shown = _money_column(Tariff, "price_per_minute", RATE)
    setup_fee_shown = _money_column(Tariff, "setup_fee", RATE)

    def save_model(self, request, obj, form, change):
        tariff_admin_save(tariff=obj, changed=list(form.changed_data), actor=request.user)

    def delete_model(self, request, obj):
        tariff_admin_delete(tariff=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for tariff in queryset:
            tariff_admin_delete(tariff=tariff, actor=request.user)


@admin.register(Cdr)
class CdrAdmin(AuditedReadsAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only; numbers and caller names are not shown (they are encrypted and need a purpose). Every page reads
    through the selector, which checks the purpose (SECURITY) and records the ids of the calls it read."""

    reads = CDR_ADMIN_READS

    list_display = ("id", "started_at", "source", "direction", "disposition", "billsec", "rating", "zone", "price_shown",
                    "flags")
    list_filter = ("direction", "rating")
    paginator = NoCountPaginator
    show_full_result_count = False
    list_select_related = ("source",)
    exclude = ("src_enc", "dst_enc", "caller_name_enc", "src_index", "dst_index", "account", "contractor")
    ordering = ("-started_at", "-id")
    _BY_ID = {"account": "account_ref", "contractor": "contractor_ref"}
    price_shown = _money_column(Cdr, "price", 4)  # a call's price, four decimals as on the call list

    def get_readonly_fields(self, request, obj=None):
        # The account and the contractor by id: their names (a login name is personal data) are on their own
        # admin pages, where opening them is a read of its own.
        return [self._BY_ID.get(f.name, f.name) for f in Cdr._meta.fields
                if f.name in self._BY_ID or f.name not in self.exclude]

    @admin.display(description=_("account"))
    def account_ref(self, obj: Cdr) -> str:
        return _id_ref(obj.account_id)

    @admin.display(description=_("contractor"))
    def contractor_ref(self, obj: Cdr) -> str:
        return _id_ref(obj.contractor_id)


def _id_ref(pk: int | None) -> str:
    return f"#{pk}" if pk is not None else "-"
