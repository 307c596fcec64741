"""The DPO records that a recipient was told of a request carried out (GDPR art. 19): one POST from the request's
page (templates/dpo/_recipients.html). Thin: accounts/dsr/recipients.py does the work."""
from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from voipxs.exceptions import ApplicationError

from .recipient_models import RecipientNotification
from .recipients import recipient_notification_get, recipient_notification_record
from .selectors import dsr_request_get


class NotifiedForm(forms.Form):
    notified_on = forms.DateField(required=False)
    how = forms.ChoiceField(choices=RecipientNotification.How.choices, required=False)


@login_required
@require_POST
def dpo_recipient_notified(request: HttpRequest, pk: int, notification_pk: int) -> HttpResponse:
    req = dsr_request_get(actor=request.user, request_id=pk)
    try:
        notification = recipient_notification_get(actor=request.user, req=req, pk=notification_pk)
    except RecipientNotification.DoesNotExist:
        raise Http404 from None
    form = NotifiedForm(request.POST)
    form.is_valid()  # a bad day or way is left empty, and the service refuses it with its own message
    data = form.cleaned_data
    try:
        recipient_notification_record(notification=notification, notified_on=data.get("notified_on"),
                                      how=data.get("how") or "", actor=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.shown())
    else:
        messages.success(request, _("Recorded that the recipient was notified."))
    return redirect("accounts_dsr:dpo-request", pk=req.pk)
