"""Admin for the subscriber's name and address (the CIOT file's user data). Adding a version goes through
`subscriber_details_set` (it closes the current one); versions are never edited or deleted here, so the
history the CIOT file shows stays what it was. Reading them is account administration (SECURITY), audited."""
from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from voipxs.exceptions import ApplicationError
from voipxs.privacy.purposes import Purpose, require_purpose

from .models import SubscriberDetails
from .services import subscriber_details_set

DETAIL_FIELDS = ("name", "street", "house_number", "postcode", "town")


def _label(field: str):
    """A field's name as the admin heads a model's own fields: its verbose name, capitalised ("Postcode")."""
    return capfirst(SubscriberDetails._meta.get_field(field).verbose_name)


class SubscriberDetailsAddForm(forms.ModelForm):
    name = forms.CharField(label=_label("name"), max_length=200)
    street = forms.CharField(label=_label("street"), max_length=200)
    house_number = forms.CharField(label=_label("house_number"), max_length=20)
    postcode = forms.CharField(label=_label("postcode"), max_length=12)
    town = forms.CharField(label=_label("town"), max_length=100)
    valid_from = forms.DateTimeField(label=_label("valid_from"), required=False,
                                     help_text=_("Empty: from now. The current version ends at this moment."))

    class Meta:
        model = SubscriberDetails
        fields = ("user",)


@admin.register(SubscriberDetails)
class SubscriberDetailsAdmin(admin.ModelAdmin):
    list_display = ("__str__", "user", "valid_from", "valid_to")
    list_select_related = ("user",)
    raw_id_fields = ("user",)
    search_fields = ("user__username",)
    show_full_result_count = False

    def get_queryset(self, request):
        require_purpose(actor=request.user, purpose=Purpose.SECURITY, action="admin.subscriber_details.read",
                        target_type="subscriber_details")
        # A restricted person's name and address are only stored (GDPR art. 18, as in the user admin): SECURITY does
        # not see them; the CIOT sync reads them under its own purpose.
        return super().get_queryset(request).filter(user__restricted_at__isnull=True)

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = SubscriberDetailsAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("user", *DETAIL_FIELDS, "valid_from")
        return ("user", *DETAIL_FIELDS, "valid_from", "valid_to")

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj) if obj is not None else ()

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # a change is a new version (add), never an edit of history

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # removed with the account's user data (account_anonymise, erasure)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        """A refusal of the service (save_model put its message on the page) rolls the add back and shows the
        form again, not a server error."""
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ApplicationError:
            return HttpResponseRedirect(request.get_full_path())

    def save_model(self, request, obj, form, change) -> None:
        data = form.cleaned_data
        try:
            details = subscriber_details_set(user=data["user"], actor=request.user, at=data.get("valid_from"),
                                             **{f: data[f] for f in DETAIL_FIELDS})
        except ApplicationError as exc:
            messages.error(request, exc.shown())
            raise
        obj.pk, obj._state.adding, obj._state.db = details.pk, False, details._state.db
