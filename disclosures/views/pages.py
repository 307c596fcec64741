"""The officers' dashboard, the transparency report and the legal-basis table, and the customer's own notices page."""
from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.timezone import localdate

from traffic.exports import csv_lines

from .common import officer_only
from ..forms import ReportForm, SearchForm
from ..models import Notice
from ..bases import BASES
from ..search import SEARCH_LIMIT, disclosure_request_search
from ..selectors import (
    disclosure_deadlines,
    disclosure_preservations,
    disclosure_request_list,
    notice_list_for_user,
    transparency_report,
    transparency_rows,
)


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    officer_only(request)
    search = SearchForm(request.GET or None)
    searched = search.is_bound and search.is_valid() and search.cleaned_data["q"].strip()
    return render(request, "disclosures/dashboard.html", {
        "search": search, "searched": searched, "search_limit": SEARCH_LIMIT,
        "found": disclosure_request_search(actor=request.user, query=searched) if searched else None,
        "deadlines": disclosure_deadlines(actor=request.user),
        "preservations": disclosure_preservations(actor=request.user),
        "legal_representative": settings.EEVIDENCE_LEGAL_REPRESENTATIVE,
        # Delivered and not yet closed: off the deadline list, but the officers still owe the close (which
        # schedules the release of the hold), so they stay in sight.
        "delivered": disclosure_request_list(actor=request.user).filter(status="delivered").order_by("delivered_at"),
        # Delivered, the user to be told, and the notice still a draft: an officer reviews and sends it.
        "notice_drafts": disclosure_request_list(actor=request.user).filter(
            notice_user=True, notices__state=Notice.State.DRAFT).distinct().order_by("delivered_at"),
        "closed": disclosure_request_list(actor=request.user).filter(status__in=["closed", "rejected", "withdrawn"])
        .order_by("-closed_at")[:20],
    }, status=400 if search.errors else 200)


def _report_form(request: HttpRequest) -> ReportForm:
    today = localdate()  # the half-year just ended, counted in Amsterdam days as the report is
    default = {"year": today.year if today.month > 6 else today.year - 1, "half": 1 if today.month > 6 else 2}
    return ReportForm(request.GET or default)


@login_required
def report(request: HttpRequest) -> HttpResponse:
    officer_only(request)
    form = _report_form(request)
    if not form.is_valid():
        return render(request, "disclosures/report.html", {"form": form}, status=400)
    data = transparency_report(actor=request.user, **form.cleaned_data)
    if request.GET.get("format") == "csv":
        response = HttpResponse("".join(csv_lines(transparency_rows(data))), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="transparency-{data["period"]}.csv"'
        return response
    return render(request, "disclosures/report.html", {"form": form, "report": data})


@login_required
def bases(request: HttpRequest) -> HttpResponse:
    """The legal-basis table the intake checks against: categories, future reach, deadlines, source."""
    officer_only(request)
    return render(request, "disclosures/bases.html", {
        "bases": list(BASES.values()), "legal_representative": settings.EEVIDENCE_LEGAL_REPRESENTATIVE,
        "written_order_days": settings.DISCLOSURE_WRITTEN_ORDER_DAYS})


@login_required
def notices(request: HttpRequest) -> HttpResponse:
    """The one disclosures page a customer sees: notices about their own data that were sent."""
    return render(request, "disclosures/notices.html", {"notices": notice_list_for_user(actor=request.user)})
