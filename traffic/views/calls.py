"""Call pages: the call history (own calls), a contractor's Users' calls (masked) and the usage chart.
Thin: every read goes through `traffic.selectors.calls`. The CSV export is in `call_exports`."""
from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from accounts.selectors import contractor_user_names
from voipxs.exceptions import ApplicationError
from voipxs.privacy.purposes import Purpose, Role, has_role

from ..models import Cdr
from ..selectors.calls import cdr_list, cdr_usage_by_month
from ..usage_chart import usage_chart


class CallFilterForm(forms.Form):
    since = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    direction = forms.ChoiceField(label=_("Direction"), required=False,
                                  choices=[("", _("all"))] + list(Cdr.Direction.choices))
    number = forms.CharField(label=_("Number"), required=False, max_length=40)

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            self.add_error("until", _("The end date must not be before the start date."))
        return data


class ContractorCallFilterForm(CallFilterForm):
    # Numbers are masked for a contractor, so they are no search key either (selectors.calls.NUMBER_FILTER_MASKED).
    number = None


def call_filters(form: CallFilterForm) -> dict:
    """The selectors' filter arguments from a valid form (the call pages and the CSV export)."""
    data = form.cleaned_data
    return {"since": data.get("since"), "until": data.get("until"), "direction": data.get("direction") or None,
            "number": (data.get("number") or "").strip() or None}


def _query_without_cursor(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("after", None)
    return query.urlencode()


def _call_page(request: HttpRequest, *, purpose: Purpose, template: str, title: str,
               form_class: type[CallFilterForm] = CallFilterForm, **scope) -> HttpResponse:
    form = form_class(request.GET or None)
    page, error = None, None
    if form.is_bound and not form.is_valid():
        status = 400
    else:
        status = 200
        try:
            page = cdr_list(actor=request.user, purpose=purpose, after=request.GET.get("after") or None,
                            **(call_filters(form) if form.is_bound else {}), **scope)
        except ApplicationError as exc:
            field = exc.extra.get("field")
            if field in form.fields and form.is_bound:
                form.add_error(field, exc.shown())
            else:
                error = exc.shown()
            status = 400
    # A contractor's page names the User of each call (the contractor's own login names for them).
    names = (contractor_user_names(actor=request.user, user_ids=[r.account_id for r in page.rows])
             if page is not None and purpose == Purpose.CONTRACTOR_INFORMATION else None)
    return render(request, template, {
        "form": form, "page": page, "error": error, "title": title, "query": _query_without_cursor(request),
        "is_first_page": not request.GET.get("after"), "user_names": names,
    }, status=status)


@transaction.non_atomic_requests  # reads only (the access record goes with the calls' read): no BEGIN, no COMMIT
@login_required
def call_history(request: HttpRequest) -> HttpResponse:
    return _call_page(request, purpose=Purpose.SELF_SERVICE, template="traffic/call_history.html",
                      title=str(_("My calls")))


@login_required
def contractor_calls(request: HttpRequest) -> HttpResponse:
    if not has_role(request.user, Role.CONTRACTOR_ADMIN):
        raise PermissionDenied
    return _call_page(request, purpose=Purpose.CONTRACTOR_INFORMATION, template="traffic/contractor_calls.html",
                      title=str(_("Calls of our users")), form_class=ContractorCallFilterForm)


# --- usage chart -------------------------------------------------------------------------------------

@login_required
def usage(request: HttpRequest) -> HttpResponse:
    months = cdr_usage_by_month(actor=request.user, purpose=Purpose.SELF_SERVICE, months=12)
    return render(request, "traffic/usage.html",
                  {"chart": usage_chart(months), "any_calls": any(month.calls for month in months)})
