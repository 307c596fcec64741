from __future__ import annotations

from datetime import datetime

from django import forms
from django.utils.translation import gettext_lazy as _

from voipxs.timeutil import DayField, day_end, day_start

from .models import Category, LegalHold, RetentionPolicy


class PolicyForm(forms.Form):
    trigger = forms.CharField(label=_("Counted from"), max_length=200)
    period_months = forms.IntegerField(label=_("Months"), min_value=0, max_value=1200)
    period_days = forms.IntegerField(label=_("Days"), min_value=0, max_value=36500)
    action = forms.ChoiceField(label=_("Action"), choices=RetentionPolicy.Action.choices)
    legal_basis = forms.CharField(label=_("Legal basis"), max_length=200)
    change_reason = forms.CharField(max_length=300, label=_("Reason for the change"))


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.replace(",", "\n").splitlines() if part.strip()]


class HoldForm(forms.Form):
    reason = forms.ChoiceField(label=_("Reason"), choices=LegalHold.Reason.choices)
    reference = forms.CharField(label=_("Reference"), max_length=100,
                                help_text=_('e.g. "disclosure:12" or a court case number; no personal data'))
    account_ids = forms.CharField(required=False, label=_("Account ids"), help_text=_("comma separated"))
    numbers = forms.CharField(label=_("Numbers"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
                              help_text=_("one per line; stored only as a blind index"))
    categories = forms.MultipleChoiceField(label=_("Categories"),
                                           choices=Category.choices, widget=forms.CheckboxSelectMultiple,
                                           initial=[Category.CDR_BILLED, Category.CDR_UNBILLED])
    window_start = DayField(label=_("Start of the period"),
                            required=False, widget=forms.DateInput(attrs={"type": "date"}))
    window_end = DayField(label=_("End of the period"),
                          required=False, widget=forms.DateInput(attrs={"type": "date"}))
    expires_at = DayField(label=_("Expires on"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean_account_ids(self) -> list[int]:
        try:
            return [int(v) for v in _split(self.cleaned_data["account_ids"])]
        except ValueError:
            raise forms.ValidationError(_("Account ids are whole numbers.")) from None

    def clean_numbers(self) -> list[str]:
        return _split(self.cleaned_data["numbers"])

    # The dates are days as the DPO (and the page, in TIME_ZONE) reads them: the period from the first day's
    # midnight in Amsterdam up to the end of the last day (a hold's window_end is exclusive); a hold expiring on a
    # day ends at that day's midnight in Amsterdam.
    @staticmethod
    def as_day_start(value) -> datetime | None:
        return day_start(value) if value else None

    @staticmethod
    def as_day_end(value) -> datetime | None:
        return day_end(value) if value else None


class PolicyAtForm(forms.Form):
    at = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), label=_("Policy in force on"))
