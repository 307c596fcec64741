"""The DPO's breach register pages (breaches.py does the work): the register with its intake form, and one
incident, where the DPO records a notification, withdraws one recorded in error, or closes the incident; each of
the three asks first (breach_confirm.py), and "Go back and change" shows the form again as typed."""
from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.formats import date_format
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from voipxs.confirm import is_confirmed, is_edit
from voipxs.exceptions import ApplicationError

from . import breaches
from .breach_confirm import breach_close_confirmation, notification_confirmation, withdrawal_confirmation
from .models import BreachIncident, BreachNotification
from .selectors import breach_incident_get, breach_incident_list, require_dpo


class BreachForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("Title"), max_length=200)
    detected_at = forms.DateTimeField(label=gettext_lazy("Detected at (Europe/Amsterdam)"),
                                      widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    scope = forms.CharField(label=gettext_lazy("Scope"), widget=forms.Textarea(attrs={"rows": 3}))
    affected_count = forms.IntegerField(label=gettext_lazy("Number of people affected"), min_value=0, initial=0)
    telecom_service = forms.BooleanField(required=False, initial=True,
                                         label=gettext_lazy("Breach of the telecom service (24-hour clock)"),
                                         help_text=gettext_lazy("Subscriber, traffic or account data: leave it "
                                                                "ticked. Untick only for other data (72 hours)."))


class NotifyForm(forms.Form):
    recipient = forms.ChoiceField(label=gettext_lazy("Recipient"), choices=BreachNotification.Recipient.choices)
    stage = forms.ChoiceField(label=gettext_lazy("Stage"), choices=BreachNotification.Stage.choices)
    sent_at = forms.DateTimeField(label=gettext_lazy("Sent at (Europe/Amsterdam)"),
                                  widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    reference = forms.CharField(max_length=120, required=False, label=gettext_lazy("Authority's reference"),
                                help_text=gettext_lazy("The case number in the authority's confirmation "
                                                       "(required for the Dutch DPA and the ACM)."))
    note = forms.CharField(label=gettext_lazy("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class CloseForm(forms.Form):
    authority_not_notified_reason = forms.CharField(label=gettext_lazy("Why the authority was not notified"),
                                                    required=False, widget=forms.Textarea(attrs={"rows": 2}))
    users_not_notified_reason = forms.CharField(label=gettext_lazy("Why the users were not told"),
                                                required=False, widget=forms.Textarea(attrs={"rows": 2}))


class WithdrawForm(forms.Form):
    """Which standing record of the incident is withdrawn, and why (the register keeps the reason)."""

    notification = forms.TypedChoiceField(label=gettext_lazy("The record made in error"), coerce=int)
    reason = forms.CharField(label=gettext_lazy("Why it is withdrawn"), widget=forms.Textarea(attrs={"rows": 2}),
                             max_length=2000, help_text=gettext_lazy("The register shows the reason with the "
                                                                     "withdrawn record."))

    def __init__(self, *args, incident: BreachIncident, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.standing = {n.pk: n for n in incident.notifications.all() if n.withdrawn_at is None}
        self.fields["notification"].choices = [("", "---------")] + [
            (pk, f"{date_format(localtime(n.sent_at), 'DATETIME_FORMAT')}: {n.get_recipient_display()}, "
                 f"{n.get_stage_display()} {n.reference}".strip()) for pk, n in self.standing.items()]


@login_required
def dpo_breaches(request: HttpRequest) -> HttpResponse:
    form = BreachForm(request.POST or None)
    status = 200
    if request.method == "POST":
        require_dpo(request.user)
        if form.is_valid():
            try:
                incident = breaches.breach_incident_create(actor=request.user, **form.cleaned_data)
                return redirect("accounts_dsr:dpo-breach", pk=incident.pk)
            except ApplicationError as exc:
                exc.add_to(form)
        status = 400
    return render(request, "dpo/breaches.html", {"incidents": breach_incident_list(actor=request.user), "form": form},
                  status=status)


@login_required
def dpo_breach(request: HttpRequest, pk: int) -> HttpResponse:
    incident = breach_incident_get(actor=request.user, incident_id=pk)
    forms_ = {"notify": NotifyForm(), "close": CloseForm(), "withdraw": WithdrawForm(incident=incident)}
    status = 200
    if request.method == "POST":
        action = request.POST.get("action") if request.POST.get("action") in forms_ else "notify"
        data = request.POST
        forms_[action] = WithdrawForm(data, incident=incident) if action == "withdraw" else type(forms_[action])(data)
        if not is_edit(request):  # "Go back and change": the form as typed, nothing done
            response = _breach_step(request, incident, action, forms_[action])
            if response is not None:
                return response
            status = 400
    return render(request, "dpo/breach.html", {"incident": incident, "notify_form": forms_["notify"],
                                               "close_form": forms_["close"], "withdraw_form": forms_["withdraw"]},
                  status=status)


def _breach_step(request: HttpRequest, incident: BreachIncident, action: str, form: forms.Form) -> HttpResponse | None:
    """One step on the incident, after its confirmation page; None when refused (the form says why)."""
    if not form.is_valid():
        return None
    data, actor = form.cleaned_data, request.user
    try:
        if action == "close":
            closed = breaches.breach_incident_close_check(incident=incident, **data)
            if not is_confirmed(request):
                return breach_close_confirmation(request, closed)
            breaches.breach_incident_close(incident=incident, actor=actor, **data)
        elif action == "withdraw":
            record = form.standing[data["notification"]]
            after = breaches.breach_notification_withdraw_check(notification=record, reason=data["reason"])
            if not is_confirmed(request):
                return withdrawal_confirmation(request, record, data["reason"], after)
            breaches.breach_notification_withdraw(notification=record, reason=data["reason"], actor=actor)
            messages.success(request, _("The record is withdrawn; the register shows it with your reason."))
        else:
            breaches.breach_notification_check(incident=incident, **{k: v for k, v in data.items() if k != "note"})
            if not is_confirmed(request):
                return notification_confirmation(request, incident, data)
            breaches.breach_notification_record(incident=incident, actor=actor, **data)
    except ApplicationError as exc:
        exc.add_to(form)
        return None
    return redirect("accounts_dsr:dpo-breach", pk=incident.pk)
