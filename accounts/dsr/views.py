"""Pages of the data-subject workflow: the customer's "Your privacy" and the DPO's work lists and registers.
Thin: services and selectors do the work."""
from __future__ import annotations

from datetime import date, timedelta

from django import forms
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.timezone import localtime
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from voipxs.confirm import confirmation_page, is_confirmed, is_edit
from voipxs.exceptions import ApplicationError
from voipxs.post_only import post_only
from voipxs.privacy.audit_check import audit_chain_check_latest
from voipxs.privacy.register import processing_register_markdown, processing_register_shown

from .dpo_confirm import answer_confirmation, answered
from .erasure_confirm import erasure_confirmation
from .export import dsr_export_download_log, export_decrypt_stream
from .models import DataSubjectRequest, Restriction
from .objection_views import ObjectionPurposesField
from .panels import request_panels
from .recipients import requests_with_recipients_pending, requests_with_recipients_to_notify
from .restriction import (
    restriction_lift, restriction_lift_notice_record, restriction_lift_notice_request, restriction_step_check,
)
from .restriction_views import request_withdrawal
from .selectors import (
    dsr_export_get_own, dsr_request_get, dsr_request_list_closed,
    dsr_request_list_open, dsr_request_list_own, require_dpo, restriction_get, restriction_list_active,
)
from .services import (
    dsr_request_answer_check, dsr_request_complete, dsr_request_create, dsr_request_extend, dsr_request_reject,
    dsr_request_start,
)


class RequestForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("What do you ask for?"), choices=DataSubjectRequest.Kind.choices)
    purposes = ObjectionPurposesField(
        label=gettext_lazy("For an objection: the purposes you object to"), required=False,
        help_text=gettext_lazy("Only purposes we base on our legitimate interests (GDPR art. 6(1)(f)) can be "
                               "objected to; the others are listed with their legal basis on our privacy policy."))
    details = forms.CharField(label=gettext_lazy("Details (what is wrong, what to restrict)"), required=False,
                              widget=forms.Textarea(attrs={"rows": 3}), max_length=4000,
                              help_text=gettext_lazy("For an objection: the grounds relating to your particular "
                                                     "situation."))
    password = forms.CharField(label=gettext_lazy("Your password (needed for erasure)"), required=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))


class RestrictionTermsForm(forms.Form):
    """The ground and last day the DPO chooses when completing a restriction request (services check the rules)."""

    ground = forms.ChoiceField(label=gettext_lazy("Ground"), required=False,
                               choices=[("", "---------"), *Restriction.Ground.choices])
    ends_on = forms.DateField(label=gettext_lazy("End date (last day)"), required=False,
                              widget=forms.DateInput(attrs={"type": "date"}))


# --- customer ----------------------------------------------------------------------------------------

@login_required
def mine(request: HttpRequest, form: RequestForm | None = None, status: int = 200) -> HttpResponse:
    requests_ = list(dsr_request_list_own(actor=request.user))
    return render(request, "accounts/dsr/mine.html", {"requests": requests_, "form": form or RequestForm()}, status=status)


@login_required
@post_only("accounts_dsr:mine")
def create(request: HttpRequest) -> HttpResponse:
    form = RequestForm(request.POST)
    if not form.is_valid():
        return mine(request, form=form, status=400)
    erasure = form.cleaned_data["kind"] == DataSubjectRequest.Kind.ERASURE
    if erasure and not is_confirmed(request):
        return erasure_confirmation(request)
    try:
        req = dsr_request_create(user=request.user, kind=form.cleaned_data["kind"],
                                 details=form.cleaned_data["details"], password=form.cleaned_data["password"],
                                 purposes=form.cleaned_data["purposes"])
    except ApplicationError as exc:
        if erasure and exc.extra.get("field") == "password":  # asked again on the confirmation page, said there
            return erasure_confirmation(request, errors={"password": exc.shown()})
        exc.add_to(form)
        return mine(request, form=form, status=400)
    if req.kind == DataSubjectRequest.Kind.ERASURE:
        answer = req.answer
        logout(request)
        kept = [{**k, "until": date.fromisoformat(k["until"]) if k.get("until") else None}  # shown as a date
                for k in req.outcome.get("kept", [])]
        return render(request, "accounts/dsr/erased.html", {"answer": answer, "kept": kept})
    messages.success(request, _("Your request is registered. We answer by %(date)s.") % {
        "date": date_format(localtime(req.deadline), "DATE_FORMAT")})
    return redirect("accounts_dsr:mine")


@login_required
@require_GET
def download(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    export = dsr_export_get_own(actor=request.user, export_id=pk)
    dsr_export_download_log(export=export, actor=request.user)
    response = StreamingHttpResponse(export_decrypt_stream(export), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="voipxs-export-{export.pk}.zip"'
    response["Content-Length"] = str(export.size)
    response["Cache-Control"] = "no-store"
    return response


# --- DPO: requests ---------------------------------------------------------------------------------------

@login_required
def dpo_requests(request: HttpRequest) -> HttpResponse:
    closed = list(dsr_request_list_closed(actor=request.user))
    to_notify = requests_with_recipients_to_notify(actor=request.user, request_ids=[r.pk for r in closed])  # art. 19
    pending = requests_with_recipients_pending(actor=request.user)  # every request's, also those no longer recent
    return render(request, "dpo/requests.html", {"open": dsr_request_list_open(actor=request.user), "closed": closed,
                                                 "to_notify": to_notify, "chain": audit_chain_check_latest(),
                                                 "recipients_pending": pending,
                                                 "recipients_pending_count": sum(r["pending"] for r in pending)})


@login_required
def dpo_request(request: HttpRequest, pk: int) -> HttpResponse:
    req = dsr_request_get(actor=request.user, request_id=pk)
    status, withdrawal = 200, request_withdrawal(actor=request.user, req=req)  # a notice a new decision withdraws
    if request.method == "POST" and not is_edit(request):  # "Go back and change": the form as typed, nothing done
        action, text = request.POST.get("action", ""), request.POST.get("answer", "")
        terms = _restriction_terms(request, req) if action == "complete" else {}
        services = {"start": lambda: dsr_request_start(request=req, actor=request.user),
                    "extend": lambda: dsr_request_extend(request=req, reason=text, actor=request.user),
                    "complete": lambda: dsr_request_complete(request=req, answer=text, actor=request.user, **terms),
                    "reject": lambda: dsr_request_reject(request=req, answer=text, actor=request.user)}
        if terms is None:
            status = 400
        elif action not in services:
            messages.error(request, _("Choose an action."))
            status = 400
        else:
            try:
                if action in ("complete", "reject") and not is_confirmed(request):  # the customer is answered for good
                    dsr_request_answer_check(request=req, answer=text, completing=action == "complete", **terms)
                    return answer_confirmation(request, req, action=action, answer=text, terms=terms,
                                               withdrawal=withdrawal)
                messages.success(request, answered(services[action](), action))
                if action == "complete" and withdrawal:
                    messages.warning(request, withdrawal)
                return redirect("accounts_dsr:dpo-request", pk=req.pk)
            except ApplicationError as exc:
                messages.error(request, exc.shown())
                status = 400
    panels = request_panels(actor=request.user, req=req, params=request.GET)  # e.g. notes on the requester's calls
    # A refused answer comes back with what the DPO typed, chose and dated (`typed`), not blank.
    return render(request, "dpo/request.html", {"req": req, "panels": panels, "grounds": Restriction.Ground.choices,
                                                "withdrawal": withdrawal, "typed": request.POST}, status=status)


def _restriction_terms(request: HttpRequest, req: DataSubjectRequest) -> dict | None:
    """A restriction request's ground and last day from the form; None (an error message naming the field
    added) when the date cannot be read. Other kinds have none."""
    if req.kind != DataSubjectRequest.Kind.RESTRICTION:
        return {}
    form = RestrictionTermsForm(request.POST)
    if not form.is_valid():
        for name, errors in form.errors.items():
            messages.error(request, f"{form.fields[name].label}: {' '.join(errors)}")
        return None
    return {"ground": form.cleaned_data["ground"], "ends_on": form.cleaned_data["ends_on"]}


# --- DPO: restrictions (GDPR art. 18) --------------------------------------------------------------------

def _restriction_consequences(restriction: Restriction, step: str, channel: str) -> tuple[str, list[str], str]:
    """The confirmation page's title, sentences and button for a step."""
    if step == "notify":
        return (_("Tell account #%(account)s that the restriction will be lifted?") % {"account": restriction.user_id},
                [_("The person is e-mailed now that the restriction of their data (GDPR art. 18) will be lifted, "
                   "and on which ground it stood; the e-mail names nothing else."),
                 _("When the e-mail is sent, it is recorded; only then can the restriction be lifted.")],
                _("Yes, tell the person"))
    if step == "record":
        return (_("Record that account #%(account)s was told the restriction will be lifted?") % {
                    "account": restriction.user_id},
                [_("Record this only after the person was told %(channel)s that the restriction of their data "
                   "will be lifted, and on which ground it stood.") % {
                       "channel": Restriction.NoticeChannel(channel).label},
                 _("The record counts as the notice of GDPR art. 18(3): the restriction can be lifted after it.")],
                _("Yes, record it"))
    return (_("Lift the restriction of account #%(account)s?") % {"account": restriction.user_id},
            [_("Its data is processed again for every purpose of the privacy policy: staff, the portal and "
               "reports see it again."),
             _("The person was told on %(date)s.") % {
                 "date": date_format(localtime(restriction.lift_notice_sent_at), "DATE_FORMAT")}],
            _("Yes, lift the restriction"))


def _restriction_step(request: HttpRequest) -> HttpResponse | None:
    """One step on one restriction, after its confirmation page; None when refused (the message says why)."""
    step = request.POST.get("action", "")
    if step not in ("notify", "record", "lift"):
        messages.error(request, _("Choose an action."))
        return None
    try:
        restriction = restriction_get(actor=request.user, restriction_id=int(request.POST.get("restriction", "")))
    except ValueError:
        messages.error(request, _("Choose a restriction."))
        return None
    try:
        channel = request.POST.get("channel", "")
        restriction_step_check(restriction=restriction, step=step, channel=channel)
        if not is_confirmed(request):
            title, consequences, label = _restriction_consequences(restriction, step, channel)
            return confirmation_page(request, title=title, consequences=consequences, action_label=label,
                                     cancel_url=reverse("accounts_dsr:dpo-restrictions"))
        if step == "notify":
            restriction_lift_notice_request(restriction=restriction, actor=request.user)
            messages.success(request, _("The e-mail to the person is on its way; the lift is possible once it is "
                                        "recorded as sent."))
        elif step == "record":
            restriction_lift_notice_record(restriction=restriction, channel=channel, actor=request.user)
            messages.success(request, _("Recorded that the person was told; the restriction can now be lifted."))
        else:
            restriction_lift(restriction=restriction, actor=request.user)
            messages.success(request, _("The restriction is lifted."))
    except ApplicationError as exc:
        messages.error(request, exc.shown())
        return None
    return redirect("accounts_dsr:dpo-restrictions")


@login_required
def dpo_restrictions(request: HttpRequest) -> HttpResponse:
    require_dpo(request.user)
    status = 200
    if request.method == "POST":
        response = _restriction_step(request)
        if response is not None:
            return response
        status = 400
    other_channels = [(c.value, c.label) for c in Restriction.NoticeChannel if c != Restriction.NoticeChannel.EMAIL]
    today = localtime().date()
    return render(request, "dpo/restrictions.html", {
        "restrictions": restriction_list_active(actor=request.user), "today": today, "other_channels": other_channels,
        "due_soon_days": Restriction.DUE_SOON_DAYS, "due_soon_until": today + timedelta(days=Restriction.DUE_SOON_DAYS),
    }, status=status)


# --- DPO: processing register (the policy versions: policy_views) --------------------------------------------------------

@login_required
def dpo_register(request: HttpRequest) -> HttpResponse:
    require_dpo(request.user)
    if request.GET.get("format") == "md":
        return HttpResponse(processing_register_markdown(), content_type="text/markdown; charset=utf-8")
    return render(request, "dpo/register.html", {"register": processing_register_shown(get_language())})
