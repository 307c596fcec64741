"""The DPO's page to move the last day of an active restriction (GDPR art. 18), beside the list of restrictions
(views.dpo_restrictions), and what the page of a new restriction request says of a notice of the lift its new
decision withdraws (views.dpo_request). Thin: the form reads the date and the reason, restriction.py checks and
writes."""
from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from voipxs.confirm import confirmation_page, is_confirmed, is_edit
from voipxs.exceptions import ApplicationError

from .models import DataSubjectRequest, Restriction
from .restriction import restriction_continuation_by_email, restriction_end_change, restriction_end_change_check
from .selectors import require_dpo, restriction_active_for, restriction_get


class RestrictionEndForm(forms.Form):
    """The new last day and why (services check the rules: restriction_terms_check on the restriction's ground)."""

    ends_on = forms.DateField(label=gettext_lazy("New end date (last day)"), required=False,
                              widget=forms.DateInput(attrs={"type": "date"}),
                              help_text=gettext_lazy("Empty: no end date (only for a ground that needs none)."))
    reason = forms.ChoiceField(label=gettext_lazy("Reason"),
                               choices=[("", "---------"), *Restriction.EndChangeReason.choices])


def _day(day) -> str:
    return date_format(day, "DATE_FORMAT") if day else _("no end date")


def _withdrawal(restriction: Restriction) -> str:
    """What moving the end date does to a notice of the lift already given; "" when none was."""
    if restriction.lift_notice_sent_at is None:
        return ""
    told = {"date": date_format(localtime(restriction.lift_notice_sent_at), "DATE_FORMAT")}
    if restriction_continuation_by_email(restriction=restriction):
        return _("The person was told on %(date)s that the restriction will be lifted. That notice is withdrawn: "
                 "they are e-mailed that the restriction continues, and must be told again before the lift.") % told
    return _("The person was told on %(date)s that the restriction will be lifted. That notice is withdrawn, and "
             "they have no e-mail address: tell them another way that the restriction continues. They must be "
             "told again before the lift.") % told


def request_withdrawal(*, actor, req: DataSubjectRequest) -> str:
    """For the page of an open restriction request of a person already restricted and told of the lift: completing
    it records a new decision on that restriction, which withdraws the notice (restriction_record), as moving the
    end date does. "" otherwise."""
    if req.kind != DataSubjectRequest.Kind.RESTRICTION or not req.is_open:
        return ""
    active = restriction_active_for(actor=actor, user_id=req.user_id)
    withdrawal = _withdrawal(active) if active is not None else ""
    if not withdrawal:
        return ""
    return " ".join([_("This account is already restricted: completing this request records a new decision on its "
                       "restriction #%(restriction)s.") % {"restriction": active.pk}, withdrawal])


def _end_consequences(restriction: Restriction, ends_on) -> tuple[str, list[str]]:
    """The confirmation page's title and sentences: from which day to which, and what follows from it."""
    title = _("Change the end date of the restriction of account #%(account)s?") % {"account": restriction.user_id}
    withdrawal = _withdrawal(restriction)
    return title, [
        _("The last day of the restriction changes from %(before)s to %(after)s; its ground stays.") % {
            "before": _day(restriction.ends_on), "after": _day(ends_on)},
        *([withdrawal] if withdrawal else []),
        _("The data stays restricted until it is lifted; the person is told before the lift (GDPR art. 18(3)), "
          "and the reminders about the end date start again for the new date."),
        _("The change is recorded in the audit log with the dates and the reason."),
    ]


@login_required
def dpo_restriction_end(request: HttpRequest, pk: int) -> HttpResponse:
    require_dpo(request.user)
    restriction = restriction_get(actor=request.user, restriction_id=pk)
    form, status = RestrictionEndForm(initial={"ends_on": restriction.ends_on}), 200
    if request.method == "POST":
        form = RestrictionEndForm(request.POST)
    if request.method == "POST" and not is_edit(request):  # "Go back and change": the form as typed, nothing done
        if form.is_valid():
            ends_on, reason = form.cleaned_data["ends_on"], form.cleaned_data["reason"]
            try:
                restriction_end_change_check(restriction=restriction, ends_on=ends_on, reason=reason)
                if not is_confirmed(request):
                    title, consequences = _end_consequences(restriction, ends_on)
                    return confirmation_page(request, title=title, consequences=consequences,
                                             action_label=_("Yes, change the end date"),
                                             cancel_url=reverse("accounts_dsr:dpo-restrictions"),
                                             edit_anchor="")
                told = restriction.lift_notice_sent_at is not None
                restriction_end_change(restriction=restriction, ends_on=ends_on, reason=reason, actor=request.user)
                messages.success(request, _("The end date of the restriction is changed.") if not told else _(
                    "The end date of the restriction is changed, and the notice of the lift is withdrawn: tell the "
                    "person again before the lift."))
                return redirect(reverse("accounts_dsr:dpo-restrictions") + f"#restriction-{restriction.pk}")
            except ApplicationError as exc:
                exc.add_to(form)
        status = 400
    return render(request, "dpo/restriction_end.html", {"restriction": restriction, "form": form,
                                                        "withdrawal": _withdrawal(restriction)}, status=status)
