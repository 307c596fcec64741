"""The phone number admin: assign a number for a period, relabel it, release it. Writes go through
accounts.services.numbers; holders are read under SECURITY (audited), and a number is searched by its
blind index, never by decrypting the column. Registered when accounts/admin.py imports it."""
from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from voipxs.exceptions import ApplicationError
from voipxs.privacy.phone import InvalidNumber, mask, normalize_e164
from voipxs.privacy.purposes import Purpose, require_purpose

from .models import PhoneNumber
from .selectors import phone_number_period_free
from .services.numbers import phone_number_assign, phone_number_relabel, phone_number_release

NUMBER_TAKEN = _("Someone else holds this number in that period.")
NUMBER_INVALID = _("This is not a valid phone number.")
RELEASE_FINAL = _("This number was already released; assign it again instead.")
RELEASE_BEFORE_START = _("A number cannot be released before it was assigned.")


class PhoneNumberAddForm(forms.ModelForm):
    number = forms.CharField(label=_("number"), max_length=32, help_text=_("Any notation; stored as E.164, encrypted."))

    class Meta:
        model = PhoneNumber
        fields = ("user", "number", "label", "valid_from", "valid_to")

    def clean_number(self) -> str:
        try:
            return normalize_e164(self.cleaned_data["number"])
        except InvalidNumber:
            raise forms.ValidationError(NUMBER_INVALID) from None

    def clean(self):
        data = super().clean()
        if data.get("number") and data.get("valid_from") and not phone_number_period_free(
                number=data["number"], valid_from=data["valid_from"], valid_to=data.get("valid_to")):
            self.add_error("number", NUMBER_TAKEN)
        return data

    def _post_clean(self) -> None:
        pass  # the model's own validation runs in phone_number_assign


class PhoneNumberChangeForm(forms.ModelForm):
    class Meta:
        model = PhoneNumber
        fields = ("label", "valid_to")

    def clean_valid_to(self):
        value = self.cleaned_data.get("valid_to")
        if "valid_to" in self.changed_data:
            if self.instance.valid_to is not None:
                raise forms.ValidationError(RELEASE_FINAL)
            if value is not None and value <= self.instance.valid_from:
                raise forms.ValidationError(RELEASE_BEFORE_START)
        return value


@admin.register(PhoneNumber)
class PhoneNumberAdmin(admin.ModelAdmin):
    list_display = ("masked_number", "user", "label", "valid_from", "valid_to")
    list_select_related = ("user",)
    raw_id_fields = ("user",)
    search_fields = ("user__username",)
    search_help_text = _("Search by the holder's login name, or by an exact phone number.")

    @admin.display(description=_("number"))
    def masked_number(self, obj: PhoneNumber) -> str:
        return mask(obj.number)

    def get_queryset(self, request):
        # Holders' login names and (masked) numbers: read for SECURITY and audited, as the user admin reads users; a
        # restricted person's numbers are only stored (GDPR art. 18), as their account is in the user admin.
        require_purpose(actor=request.user, purpose=Purpose.SECURITY, action="admin.phone_number.read",
                        target_type="phone_number")
        return super().get_queryset(request).filter(user__restricted_at__isnull=True)

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = PhoneNumberChangeForm if obj is not None else PhoneNumberAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return ("user", "masked_number", "valid_from") if obj is not None else ()

    def get_fields(self, request, obj=None):
        if obj is not None:
            return ("user", "masked_number", "label", "valid_from", "valid_to")
        return ("user", "number", "label", "valid_from", "valid_to")

    def get_search_results(self, request, queryset, search_term):
        """An exact number is found through its blind index; anything else searches login names."""
        try:
            e164 = normalize_e164(search_term)
        except InvalidNumber:
            return super().get_search_results(request, queryset, search_term)
        index = PhoneNumber._meta.get_field("number_index").index_of(e164)
        return queryset.filter(number_index=index), False

    def save_model(self, request, obj, form, change) -> None:
        data = form.cleaned_data
        try:
            if not change:
                phone = phone_number_assign(user=data["user"], number=data["number"], label=data.get("label", ""),
                                            valid_from=data.get("valid_from"), valid_to=data.get("valid_to"),
                                            actor=request.user)
                obj.pk, obj._state.adding, obj._state.db = phone.pk, False, phone._state.db
                return
            if "label" in form.changed_data:
                phone_number_relabel(phone=obj, label=data["label"], actor=request.user)
            if "valid_to" in form.changed_data and data.get("valid_to"):
                phone_number_release(phone=obj, at=data["valid_to"], actor=request.user)
        except ApplicationError as exc:  # the forms check first; this is a race with another writer
            messages.error(request, exc.shown())
            raise
