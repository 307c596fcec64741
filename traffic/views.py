"""Portal pages (HTML): thin; every read goes through traffic.selectors, every write through a service."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import prefetch_related_objects
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.timezone import now
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from voipxs.exceptions import ApplicationError
from voipxs.privacy.purposes import Purpose, Role, has_role

from . import exports, invoicing, selectors
from .models import Cdr, Invoice
from .partitions import add_months, month_start


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
    # Numbers are masked for a contractor, so they are no search key either (selectors.NUMBER_FILTER_MASKED).
    number = None


def _filters(form: CallFilterForm) -> dict:
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
            page = selectors.cdr_list(actor=request.user, purpose=purpose, after=request.GET.get("after") or None,
                                      **(_filters(form) if form.is_bound else {}), **scope)
        except ApplicationError as exc:
            field = exc.extra.get("field")
            if field in form.fields and form.is_bound:
                form.add_error(field, exc.message)
            else:
                error = exc.message
            status = 400
    return render(request, template, {
        "form": form, "page": page, "error": error, "title": title, "query": _query_without_cursor(request),
        "is_first_page": not request.GET.get("after"),
    }, status=status)


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


@login_required
def call_export(request: HttpRequest) -> HttpResponse:
    """The user's own calls as CSV (streamed; formula injection neutralised)."""
    form = CallFilterForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        return HttpResponse("; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items()), status=400,
                            content_type="text/plain; charset=utf-8")
    try:
        rows = selectors.cdr_export_rows(actor=request.user, purpose=Purpose.SELF_SERVICE,
                                         **(_filters(form) if form.is_bound else {}))
    except ApplicationError as exc:
        return HttpResponse(f"{exc.extra.get('field', 'detail')}: {exc.message}", status=400,
                            content_type="text/plain; charset=utf-8")
    response = StreamingHttpResponse(exports.calls_csv(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="calls-{now():%Y%m%d}.csv"'
    return response


# --- usage chart -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Bar:
    month: date
    calls: int
    seconds: int
    amount: Decimal
    x: float
    y: float
    height: float
    minutes: int


CHART_W, CHART_H, CHART_TOP, CHART_BOTTOM = 600, 220, 20, 30


def usage_bars(usage: list[selectors.UsageMonth]) -> list[Bar]:
    """Bar geometry for the server-rendered SVG: height proportional to minutes called."""
    peak = max((u.seconds for u in usage), default=0) or 1
    slot = CHART_W / max(len(usage), 1)
    usable = CHART_H - CHART_TOP - CHART_BOTTOM
    bars = []
    for i, u in enumerate(usage):
        height = round(usable * u.seconds / peak, 1)
        bars.append(Bar(month=u.month, calls=u.calls, seconds=u.seconds, amount=u.amount, x=round(i * slot + slot * 0.15, 1),
                        y=round(CHART_TOP + usable - height, 1), height=height, minutes=(u.seconds + 59) // 60))
    return bars


@login_required
def usage(request: HttpRequest) -> HttpResponse:
    months = selectors.cdr_usage_by_month(actor=request.user, purpose=Purpose.SELF_SERVICE, months=12)
    bars = usage_bars(months)
    slot = CHART_W / max(len(bars), 1)
    return render(request, "traffic/usage.html", {
        "bars": bars, "chart_w": CHART_W, "chart_h": CHART_H, "bar_w": round(slot * 0.7, 1),
        "label_y": CHART_H - 10, "baseline_y": CHART_H - CHART_BOTTOM, "half_slot": round(slot * 0.35, 1),
    })


# --- invoices ----------------------------------------------------------------------------------------

def _with_replacements(invoices: list[Invoice]) -> list[Invoice]:
    """The invoices a list shows, with the void one each replaces and the one that replaced it (the
    same account's, read in two queries rather than two per row)."""
    prefetch_related_objects(invoices, "replaces", "replaced_by")
    return invoices


@login_required
def invoice_list(request: HttpRequest) -> HttpResponse:
    invoices = _with_replacements(selectors.invoice_list(actor=request.user, purpose=Purpose.SELF_SERVICE))
    return render(request, "traffic/invoice_list.html", {"invoices": invoices})


@login_required
def invoice_detail(request: HttpRequest, invoice_id: int) -> HttpResponse:
    """The invoice and its itemised bill. Called numbers are masked unless the owner asks for them
    (`?full=1`), which the selector records as an unmasked read."""
    invoice = selectors.invoice_get(actor=request.user, purpose=Purpose.SELF_SERVICE, invoice_id=invoice_id)
    full = request.GET.get("full") == "1"
    try:
        page = selectors.cdr_list(actor=request.user, purpose=Purpose.SELF_SERVICE, invoice=invoice,
                                  masked=not full, after=request.GET.get("after") or None, limit=100)
        status, error = 200, None
    except ApplicationError as exc:
        page, status, error = None, 400, exc.message
    return render(request, "traffic/invoice_detail.html", {
        "invoice": invoice, "lines": selectors.invoice_lines(invoice=invoice), "page": page, "full": full,
        "error": error, "query": "full=1" if full else "", "is_first_page": not request.GET.get("after"),
    }, status=status)


# --- billing staff -----------------------------------------------------------------------------------

def _require_billing(request: HttpRequest) -> None:
    if not has_role(request.user, Role.BILLING):
        raise PermissionDenied


@login_required
def staff_invoices(request: HttpRequest) -> HttpResponse:
    _require_billing(request)
    status = request.GET.get("status") or None
    try:
        invoices = _with_replacements(
            selectors.invoice_list(actor=request.user, purpose=Purpose.BILLING, status=status))
        code = 200
    except ApplicationError as exc:
        invoices, code = [], 400
        messages.error(request, exc.message)
    return render(request, "traffic/staff_invoices.html", {
        "invoices": invoices, "status": status or "", "statuses": Invoice.Status.choices,
    }, status=code)


_TRANSITIONS = {
    "paid": (Purpose.BILLING, lambda invoice, actor: invoicing.invoice_mark_paid(invoice=invoice, actor=actor),
             _("Invoice %(number)s marked paid.")),
    "dispute": (Purpose.DISPUTE, lambda invoice, actor: invoicing.invoice_dispute(invoice=invoice, actor=actor),
                _("Invoice %(number)s is now disputed.")),
    "void": (Purpose.BILLING, lambda invoice, actor: invoicing.invoice_void(invoice=invoice, actor=actor),
             _("Invoice %(number)s voided.")),
    "reject-dispute": (Purpose.DISPUTE, lambda invoice, actor: invoicing.invoice_resolve_dispute(
        invoice=invoice, actor=actor, resolution="rejected"), _("Dispute on %(number)s rejected; the invoice stands.")),
    # The message names the new invoice: the service returns the corrected one, not the void one.
    "reissue": (Purpose.BILLING, lambda invoice, actor: invoicing.invoice_reissue(invoice=invoice, actor=actor),
                _("Corrected invoice %(number)s made.")),
}


@login_required
@require_POST
def staff_invoice_action(request: HttpRequest, invoice_id: int, action: str) -> HttpResponse:
    _require_billing(request)
    if action not in _TRANSITIONS:
        return HttpResponse(status=404)
    purpose, service, message = _TRANSITIONS[action]
    invoice = selectors.invoice_get(actor=request.user, purpose=purpose, invoice_id=invoice_id)
    try:
        invoice = service(invoice, request.user)
        messages.success(request, message % {"number": invoice.number})
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("traffic:staff-invoices")


@login_required
def staff_interconnection(request: HttpRequest) -> HttpResponse:
    _require_billing(request)
    default = add_months(month_start(now()), -1).strftime("%Y-%m")
    month_text = request.GET.get("month") or default
    try:
        month = selectors.parse_month(month_text)
    except ApplicationError as exc:
        return render(request, "traffic/interconnection.html", {"rows": [], "month": month_text, "error": exc.message},
                      status=400)
    rows = selectors.interconnection_report(actor=request.user, purpose=Purpose.INTERCONNECTION, month=month)
    if request.GET.get("format") == "csv":
        response = StreamingHttpResponse(exports.interconnection_csv(rows), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="interconnection-{month:%Y-%m}.csv"'
        return response
    totals = {"calls": sum(r.calls for r in rows), "seconds": sum(r.seconds for r in rows),
              "amount": sum((r.amount for r in rows), Decimal("0.00"))}
    return render(request, "traffic/interconnection.html", {"rows": rows, "month": month.strftime("%Y-%m"),
                                                            "totals": totals})
