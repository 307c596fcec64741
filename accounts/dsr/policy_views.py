"""The DPO's privacy-policy versions page: a draft with its text and summary in English and, optionally, Dutch; publishing
after a confirmation that names what it does. Thin: accounts.dsr.policy does the work."""
from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from voipxs.confirm import confirmation_page, is_confirmed
from voipxs.exceptions import ApplicationError

from . import policy
from .models import PolicyVersion
from .selectors import require_dpo


class PolicyForm(forms.Form):
    version = forms.CharField(label=gettext_lazy("Version"), max_length=20)
    summary = forms.CharField(label=gettext_lazy("Summary"), widget=forms.Textarea(attrs={"rows": 3}))
    text = forms.CharField(label=gettext_lazy("Text"), widget=forms.Textarea(attrs={"rows": 12}))
    # Not stripped: a text of only spaces is given, and refused by the service (the field named); empty: none.
    text_nl = forms.CharField(label=gettext_lazy("Text in Dutch"), required=False, strip=False,
                              widget=forms.Textarea(attrs={"rows": 12}),
                              help_text=gettext_lazy("Optional. Without it, Dutch readers see the English text."))
    summary_nl = forms.CharField(label=gettext_lazy("Summary in Dutch"), required=False, strip=False,
                                 widget=forms.Textarea(attrs={"rows": 3}),
                                 help_text=gettext_lazy("Required with a text in Dutch; without it, Dutch readers "
                                                        "see the English summary."))
    substantive = forms.BooleanField(label=gettext_lazy("Substantive change"), required=False)

    field_order = ("version", "summary", "text", "summary_nl", "text_nl", "substantive")

    def clean_text_nl(self) -> str | None:
        return self.cleaned_data["text_nl"] or None

    def clean_summary_nl(self) -> str | None:
        return self.cleaned_data["summary_nl"] or None


def _publish_consequences(pv: PolicyVersion, email: bool) -> list[str]:
    lines = [_("Version %(version)s becomes the privacy policy in force now and is shown to everyone; a "
               "published version cannot be withdrawn or edited, only followed by a new one.") % {"version": pv.version}]
    if pv.substantive:
        lines.append(_("It is marked substantive: every signed-in user is asked to read it."))
    if not pv.text_nl:
        lines.append(_("It has no Dutch text: readers who chose Dutch see the English text, marked as such."))
    if email and pv.substantive:
        lines.append(_("Every user with an e-mail address is e-mailed about the change."))
    elif email:
        lines.append(_("No e-mail is sent: only substantive changes are e-mailed."))
    return lines


def _publish(request: HttpRequest) -> HttpResponse:
    """Publish a version, after a confirmation page naming what publishing does. 400: nothing done."""
    try:
        pv = PolicyVersion.objects.get(pk=int(request.POST.get("pk", "0")))
    except (PolicyVersion.DoesNotExist, ValueError):
        messages.error(request, _("Choose a version."))
        return HttpResponse(status=400)
    email = bool(request.POST.get("email"))
    if pv.published_at is None and not is_confirmed(request):
        return confirmation_page(request, title=_("Publish version %(version)s?") % {"version": pv.version},
                                 consequences=_publish_consequences(pv, email), action_label=_("Yes, publish it"),
                                 cancel_url=reverse("accounts_dsr:dpo-policy"))
    try:
        policy.policy_version_publish(policy=pv, actor=request.user, email_users=email)
    except ApplicationError as exc:
        messages.error(request, exc.shown())
        return HttpResponse(status=400)
    messages.success(request, _("Published."))
    return redirect("accounts_dsr:dpo-policy")


@login_required
def dpo_policy(request: HttpRequest) -> HttpResponse:
    require_dpo(request.user)
    form, status = PolicyForm(), 200
    if request.method == "POST":
        if request.POST.get("action") == "publish":
            response = _publish(request)
            if response.status_code != 400:
                return response
            status = 400
        else:
            form = PolicyForm(request.POST)
            if form.is_valid():
                try:
                    policy.policy_version_create(actor=request.user, **form.cleaned_data)
                    return redirect("accounts_dsr:dpo-policy")
                except ApplicationError as exc:
                    exc.add_to(form)
            status = 400
    versions = PolicyVersion.objects.order_by("-created_at", "-pk")
    return render(request, "accounts/policy/versions.html", {"versions": versions, "form": form}, status=status)
