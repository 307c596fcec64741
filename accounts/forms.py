"""Portal forms for signing in. Django 5.2 renders each field group with its errors tied to the
input (aria-describedby, aria-invalid), so templates use `{{ field.as_field_group }}`."""
from __future__ import annotations

from django import forms
from django.contrib.auth import forms as auth_forms
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from voipxs.mail import person_language

from . import selectors
from .models import Itemisation
from .services import billing_address
from .services.sign_in import REAUTH_STOPPED, password_reauth_failed, password_reauth_stopped
from .services.users import user_password_set

OTP_TOKEN_INVALID = _("That code is wrong or has expired. Wait for a new code and try again.")
OTP_TOKEN_THROTTLED = _("Too many wrong codes. Wait a little before you try again.")


class OtpTokenForm(forms.Form):
    """One field, `otp_token`: a 6-digit code from the authenticator app or a recovery code."""

    otp_token = forms.CharField(
        label=_("Code"),
        max_length=32,
        help_text=_("The 6-digit code from your authenticator app, or one of your recovery codes."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autocapitalize": "off", "spellcheck": "false",
                                      "autofocus": True}),
    )

    def clean_otp_token(self) -> str:
        return "".join(self.cleaned_data["otp_token"].split())


class PasswordResetByIndexForm(auth_forms.PasswordResetForm):
    """Django's reset form looks users up with `email__iexact`, which cannot work on an encrypted
    column. This one finds the user through the e-mail blind index. The view answers the same
    whether or not the address exists."""

    def get_users(self, email: str):
        user = selectors.user_by_email(email=email)
        if user is not None and user.has_usable_password() and user.email:
            yield user

    def send_mail(self, subject_template_name, email_template_name, context, *args, **kwargs) -> None:
        """In the account holder's language where they chose one, else in the language of the page the
        request came from (the person asking for a reset is usually the holder)."""
        with person_language(context["user"].language or get_language()):
            super().send_mail(subject_template_name, email_template_name, context, *args, **kwargs)


class PasswordChangeThroughServiceForm(auth_forms.PasswordChangeForm):
    def clean_old_password(self) -> str:
        """Wrong old passwords count with those given again elsewhere (sign_in.password_reauth_stopped)."""
        if password_reauth_stopped(user=self.user):
            raise forms.ValidationError(_(REAUTH_STOPPED), code="too_many")
        try:
            return super().clean_old_password()
        except forms.ValidationError:
            password_reauth_failed(user=self.user)
            raise

    def save(self, commit: bool = True):
        return user_password_set(user=self.user, password=self.cleaned_data["new_password1"])


class SetPasswordThroughServiceForm(auth_forms.SetPasswordForm):
    def save(self, commit: bool = True):
        return user_password_set(user=self.user, password=self.cleaned_data["new_password1"])


class ItemisationForm(forms.Form):
    """An individual subscriber's choice of itemised bills (accounts.services.users.user_itemisation_set)."""

    itemisation = forms.ChoiceField(label=_("List of calls on your bills"), widget=forms.RadioSelect, choices=[
        (Itemisation.NONE, _("Not itemised: totals only")),
        (Itemisation.MASKED, _("Itemised: each call, with the last digits of the number hidden")),
        (Itemisation.FULL, _("Itemised: each call, with the full number")),
    ])
    # Unticked (also when left out): calls to free and helpline numbers stay off the bill, the default.
    list_free_numbers = forms.BooleanField(label=_("Also list calls to free and helpline numbers (such as 0800, 112, "
                                                   "113 and 116 numbers)"), required=False)

    def service_arguments(self) -> dict:
        """The cleaned choice as the services take it (`omit_free_numbers`)."""
        data = dict(self.cleaned_data)
        data["omit_free_numbers"] = not data.pop("list_free_numbers", False)
        return data


class BillingAddressForm(forms.Form):
    """The name and address invoices are made out to; checked by the service's own rules."""

    name = forms.CharField(label=_("Name on the invoice"), max_length=billing_address.MAX_LENGTH,
                           help_text=_("Your name, or your company's registered name."),
                           widget=forms.TextInput(attrs={"autocomplete": "name"}))
    street = forms.CharField(label=_("Street"), max_length=billing_address.MAX_LENGTH, widget=forms.TextInput(attrs={"autocomplete": "address-line1"}))
    house_number = forms.CharField(label=_("House number and addition"), max_length=billing_address.MAX_LENGTH)
    postcode = forms.CharField(label=_("Postcode"), max_length=billing_address.MAX_LENGTH, widget=forms.TextInput(attrs={"autocomplete": "postal-code"}))
    town = forms.CharField(label=_("Town"), max_length=billing_address.MAX_LENGTH, widget=forms.TextInput(attrs={"autocomplete": "address-level2"}))
    country = forms.ChoiceField(label=_("Country"), choices=billing_address.COUNTRY_CHOICES, initial="NL")

    def clean(self) -> dict:
        data = super().clean()
        clean, errors = billing_address.billing_address_errors({**self.data.dict(), **data})
        for field, message in errors.items():
            if field not in self.errors:
                self.add_error(field, message)
        return {**data, **{k: v for k, v in clean.items() if k not in errors}}
