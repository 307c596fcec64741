"""The pages the DPO confirms before a step that cannot be taken back (voipxs/confirm.py), each shown once the
service's check has passed: answering a request for good (views.dpo_request, "complete" and "reject"; the answer
goes to the customer, who reads it under "Your privacy"). The breach register's: breach_confirm.py."""
from __future__ import annotations

from datetime import date

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.timezone import localtime
from django.utils.translation import gettext as _

from voipxs.confirm import confirmation_page

from .models import DataSubjectRequest, Restriction


def answer_confirmation(request: HttpRequest, req: DataSubjectRequest, *, action: str, answer: str,
                        terms: dict, withdrawal: str = "") -> HttpResponse:
    told = _("The answer below goes to the customer: they read it under “Your privacy”. Once sent it cannot be "
             "taken back or changed.")
    quoted = _("The answer: “%(answer)s”") % {"answer": answer.strip()}
    if action == "reject":
        return confirmation_page(
            request, title=_("Reject request #%(pk)s?") % {"pk": req.pk},
            consequences=[told, _("Nothing of what the customer asked for is done; the request is closed as "
                                  "rejected."), quoted],
            action_label=_("Yes, reject the request and send the answer"), cancel_url=_cancel(req),
            edit_anchor="answer-title")
    lines = [told, _("The request is closed as completed."), quoted]
    if req.kind == DataSubjectRequest.Kind.RESTRICTION:
        lines.insert(1, _restricted(terms["ground"], terms["ends_on"]))
        if withdrawal:
            lines.insert(2, withdrawal)
    return confirmation_page(
        request, title=_("Complete request #%(pk)s?") % {"pk": req.pk}, consequences=lines,
        action_label=_("Yes, complete the request and send the answer"), cancel_url=_cancel(req),
        edit_anchor="answer-title")


def _restricted(ground: str, ends_on: date | None) -> str:
    label = Restriction.Ground(ground).label
    if ends_on is None:
        return _("The customer's data is restricted from now on (%(ground)s), with no end date.") % {"ground": label}
    return _("The customer's data is restricted from now on (%(ground)s), to %(date)s inclusive.") % {
        "ground": label, "date": date_format(ends_on, "DATE_FORMAT")}


def _cancel(req: DataSubjectRequest) -> str:
    return reverse("accounts_dsr:dpo-request", kwargs={"pk": req.pk}) + "#answer-title"


def answered(req: DataSubjectRequest, action: str) -> str:
    """What the DPO's step on `req` did, said after it (views.dpo_request)."""
    if action == "start":
        return _("Request #%(pk)s is in progress.") % {"pk": req.pk}
    if action == "extend":
        return _("Request #%(pk)s is extended to %(date)s; the customer is e-mailed the reason.") % {
            "pk": req.pk, "date": date_format(localtime(req.deadline), "DATE_FORMAT")}
    if action == "complete":
        return _("Request #%(pk)s is completed; the customer reads your answer under “Your privacy”.") % {"pk": req.pk}
    return _("Request #%(pk)s is rejected; the customer reads your answer under “Your privacy”.") % {"pk": req.pk}
