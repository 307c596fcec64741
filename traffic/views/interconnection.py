"""The interconnection report page for billing staff: answered calls per carrier and switch in a
month, as a table with totals or as CSV (`?format=csv`), the month cut in Amsterdam's time (the invoices', the
default) or in UTC (`?month_tz=utc`, as most carriers' statements); the CSV's file name says which."""
from __future__ import annotations

from decimal import Decimal

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils.timezone import localdate, now

from voipxs.exceptions import ApplicationError
from voipxs.privacy.purposes import Purpose

from .. import exports
from ..partitions import add_months, month_start
from ..selectors.interconnection import MonthZone, interconnection_report, parse_month, parse_month_zone
from .access import require_billing


@login_required
def staff_interconnection(request: HttpRequest) -> HttpResponse:
    require_billing(request)
    default = add_months(month_start(localdate(now())), -1).strftime("%Y-%m")  # last month in Amsterdam
    month_text, zone_text = request.GET.get("month") or default, request.GET.get("month_tz") or ""
    form = {"month": month_text, "month_tz": zone_text, "zones": MonthZone.choices}
    try:
        month, zone = parse_month(month_text), parse_month_zone(zone_text)
    except ApplicationError as exc:
        return render(request, "traffic/interconnection.html",
                      {**form, "rows": [], "error": exc.shown(), "error_field": exc.extra.get("field")}, status=400)
    rows = interconnection_report(actor=request.user, purpose=Purpose.INTERCONNECTION, month=month, month_tz=zone)
    if request.GET.get("format") == "csv":
        response = StreamingHttpResponse(exports.interconnection_csv(rows), content_type="text/csv; charset=utf-8")
        # The cut is in the file's name, so that the file stays a plain table under its usual header.
        response["Content-Disposition"] = f'attachment; filename="interconnection-{month:%Y-%m}-{zone.value}.csv"'
        return response
    totals = {"calls": sum(r.calls for r in rows), "seconds": sum(r.seconds for r in rows),
              "amount": sum((r.amount for r in rows), Decimal("0.00"))}
    return render(request, "traffic/interconnection.html",
                  {**form, "rows": rows, "month": month.strftime("%Y-%m"), "month_date": month,
                   "month_tz": zone.value, "totals": totals})
