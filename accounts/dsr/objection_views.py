"""The pages of GDPR art. 21(1) objections: the purposes field of the customer's request form, and the DPO's decision
with its balancing record per purpose (`/privacy-requests/dpo/<pk>/objection/`). Thin: dsr/objection.py decides."""
from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from voipxs.confirm import confirmation_page, is_confirmed, is_edit
from voipxs.exceptions import ApplicationError
from voipxs.privacy.purposes import Purpose, objectable_purposes

from .objection import BALANCING_FIELDS, dsr_objection_decide, objection_decide_check
from .objection_models import Objection
from .models import Restriction
from .selectors import dsr_request_get, restriction_active_for


class ObjectionPurposesField(forms.MultipleChoiceField):
    """The purposes an objection names: the page offers those on legitimate interests (art. 6(1)(f)); any other
    purpose sent reaches the service, which refuses it naming why (not a bare "not a valid choice")."""

    widget = forms.CheckboxSelectMultiple

    def __init__(self, **kwargs):
        super().__init__(choices=lambda: [(p.value, p.label) for p in objectable_purposes()], **kwargs)

    def valid_value(self, value: str) -> bool:
        return value in Purpose.values


class ObjectionDecisionForm(forms.Form):
    """One outcome and balancing record per purpose objected to, and the answer the person reads."""

    answer = forms.CharField(label=gettext_lazy("Answer (the person reads it, with each outcome and its reasons)"),
                             widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=8000)

    def __init__(self, *args, objections=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.purposes = []
        for objection in objections:
            p = objection.purpose
            decided = [c for c in Objection.Outcome.choices if c[0]]
            self.fields[f"outcome_{p}"] = forms.ChoiceField(
                label=gettext_lazy("Outcome"), required=False, choices=[("", "---------"), *decided])
            self.fields[f"legitimate_interest_{p}"] = forms.CharField(
                label=gettext_lazy("Legitimate interest relied on"), required=False, max_length=8000,
                widget=forms.Textarea(attrs={"rows": 2}))
            self.fields[f"person_interests_{p}"] = forms.CharField(
                label=gettext_lazy("The person's interests, rights and grounds"), required=False, max_length=8000,
                widget=forms.Textarea(attrs={"rows": 2}))
            self.fields[f"reasons_{p}"] = forms.CharField(
                label=gettext_lazy("Balancing outcome and reasons (the person reads them)"), required=False,
                max_length=8000, widget=forms.Textarea(attrs={"rows": 3}))
            self.purposes.append((Purpose(p).label, [self[f"{name}_{p}"] for name in ("outcome", *BALANCING_FIELDS)]))

    def decisions(self, objections) -> dict[str, dict[str, str]]:
        data = self.cleaned_data
        return {o.purpose: {name: data.get(f"{name}_{o.purpose}", "") for name in ("outcome", *BALANCING_FIELDS)}
                for o in objections}


@login_required
def dpo_objection_decide(request: HttpRequest, pk: int) -> HttpResponse:
    req = dsr_request_get(actor=request.user, request_id=pk)
    objections = list(req.objections.all())
    form = ObjectionDecisionForm(request.POST or None, objections=objections)
    status, acting = 200, request.method == "POST" and not is_edit(request)  # "Go back and change": form as typed
    if acting and form.is_valid():
        decisions, answer = form.decisions(objections), form.cleaned_data["answer"]
        try:
            if not is_confirmed(request):
                objection_decide_check(request=req, decisions=decisions, answer=answer)
                return _confirmation(request, req, decisions)
            dsr_objection_decide(request=req, decisions=decisions, answer=answer, actor=request.user)
            messages.success(request, _("The objection is decided and the person is answered."))
            return redirect("accounts_dsr:dpo-request", pk=req.pk)
        except ApplicationError as exc:
            messages.error(request, exc.shown())
            status = 400
    elif acting:
        status = 400
    # Art. 18(1)(d): a restriction while the objection is verified is not lifted by the decision (the person is told
    # before a lift, art. 18(3)); the page points the DPO to it.
    restriction = restriction_active_for(actor=request.user, user_id=req.user_id)
    pending = restriction is not None and restriction.ground == Restriction.Ground.OBJECTION_PENDING
    return render(request, "dpo/objection.html", {"req": req, "objections": objections, "form": form,
                                                  "objection_restriction": pending}, status=status)


def _confirmation(request: HttpRequest, req, decisions: dict) -> HttpResponse:
    outcomes = Objection.Outcome
    lines = [_("The answer goes to the person with each outcome, its reasons and their right to complain to the "
               "Autoriteit Persoonsgegevens. It cannot be taken back.")]
    lines += [_("%(purpose)s: %(outcome)s.") % {"purpose": Purpose(p).label, "outcome": outcomes(d["outcome"]).label}
              for p, d in decisions.items()]
    if any(d["outcome"] == outcomes.UPHELD for d in decisions.values()):
        lines.append(_("For each upheld purpose, the account is left out of that purpose's processing from now on."))
    return confirmation_page(
        request, title=_("Decide objection #%(pk)s?") % {"pk": req.pk}, consequences=lines,
        action_label=_("Yes, decide and send the answer"),
        cancel_url=reverse("accounts_dsr:dpo-objection", kwargs={"pk": req.pk}), edit_anchor="")
