"""The Contractor admin: create, rename, set how its Users' bills are itemised, and end its contract
(closing every account of its Users at once, after a confirmation). Writes go through accounts.services."""
from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from voipxs.admin import action_confirmation, each_through_service
from voipxs.privacy.purposes import has_role

from .models import AccountCloseReason, Contractor, Itemisation, User
from .selectors import itemisation_history
from .services.closing import CLOSE_ROLES, contractor_close
from .services.users import contractor_create, contractor_itemisation_set, contractor_rename


class ContractorForm(forms.ModelForm):
    class Meta:
        model = Contractor
        fields = ("name", "itemisation")

    # Unticked (also when left out): calls to free and helpline numbers stay off the bills, the default.
    list_free_numbers = forms.BooleanField(label=_("list calls to free and helpline numbers"), required=False)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["itemisation"].required = False  # left out: unchanged (new: not itemised)
        self.fields["itemisation"].help_text = _("Whether its users' bills list their calls (new: not itemised). A "
                                                 "change applies from next month's bills on.")
        self.fields["list_free_numbers"].help_text = _("Unticked: calls to free and helpline numbers (0800, 112, "
                                                       "113, 116 numbers) are not listed; they count in the totals.")
        self.fields["list_free_numbers"].initial = not getattr(self.instance, "omit_free_numbers", True)


class CloseReasonActionForm(ActionForm):
    """The reason an account (or a contractor's accounts) is closed, beside the action list."""

    reason = forms.ChoiceField(label=_("reason"), choices=AccountCloseReason.choices, required=False,
                               initial=AccountCloseReason.CONTRACT_ENDED)


@admin.register(Contractor)
class ContractorAdmin(admin.ModelAdmin):
    form = ContractorForm
    action_form = CloseReasonActionForm
    list_display = ("name", "itemisation", "itemisation_pending", "created_at", "closed_at")
    list_filter = (("closed_at", admin.EmptyFieldListFilter),)
    search_fields = ("name",)
    actions = ("close_contractors",)

    def save_model(self, request, obj, form, change) -> None:
        data = form.cleaned_data
        omit = not data.get("list_free_numbers")
        if not change:  # the contract's first choice applies to all its bills
            created = contractor_create(name=data["name"], actor=request.user, omit_free_numbers=omit,
                                        itemisation=data.get("itemisation") or Itemisation.NONE)
            obj.pk, obj._state.adding, obj._state.db = created.pk, False, created._state.db
            return
        contractor_rename(contractor=obj, name=data["name"], actor=request.user)
        if data.get("itemisation") or "list_free_numbers" in form.changed_data:  # from the next billing period
            itemisation = data.get("itemisation") or form.initial["itemisation"]
            contractor_itemisation_set(contractor=obj, itemisation=itemisation, omit_free_numbers=omit,
                                       actor=request.user)

    @admin.display(description=_("next month's bills"))
    def itemisation_pending(self, obj: Contractor) -> str:
        """The change waiting for the next billing period, if any (the bills of this month keep the setting)."""
        pending = itemisation_history(contractor=obj).pending()
        if pending is None:
            return "-"
        return _("from %(month)s: %(setting)s") % {"month": date_format(pending[0], "YEAR_MONTH_FORMAT"),
                                                  "setting": pending[1].label}

    def has_close_permission(self, request) -> bool:
        return has_role(request.user, *CLOSE_ROLES)

    @admin.action(description=_("End the contract of the selected contractors (closes all their users' accounts)"),
                  permissions=["close"])
    def close_contractors(self, request, queryset):
        reason = request.POST.get("reason") or AccountCloseReason.CONTRACT_ENDED
        users = User.objects.filter(contractor__in=queryset, closed_at__isnull=True).count()
        asked = action_confirmation(
            self, request, queryset, title=_("End the contract of %(n)d contractor(s)?") % {"n": queryset.count()},
            consequences=[
                _("All %(users)d open account(s) of their users are closed now: sessions, API tokens and "
                  "passwords stop working; their numbers' periods end now.") % {"users": users},
                _("No users can be added to them any more."),
                _("Their users' data, name and invoice address are kept until the retention policy anonymises "
                  "them after the final invoices; invoices are kept for the fiscal retention."),
                _("Reason recorded: %(reason)s.") % {"reason": AccountCloseReason(reason).label}],
            action_label=_("Yes, end their contracts"))
        if asked is not None:
            return asked
        closed = each_through_service(request, queryset.order_by("pk"), act=lambda contractor: contractor_close(
            contractor=contractor, actor=request.user, reason=reason))
        if closed:
            messages.success(request, _("%(n)d contractor(s) closed.") % {"n": closed})
