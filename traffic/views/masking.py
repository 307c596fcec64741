"""Billing staff's page of the national masking list (Bude art. 4.2): its size, a CSV export and a
CSV import (a column `number`); imported numbers are masked from the next billing period on."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.timezone import now
from django.utils.translation import gettext as _

from voipxs.exceptions import ApplicationError

from .. import exports
from ..selectors.masking import masking_list_rows, masking_list_size
from ..services.masking import masking_list_import
from .access import require_billing

MAX_UPLOAD_BYTES = 5 * 1024 * 1024


@login_required
def staff_masking_list(request: HttpRequest) -> HttpResponse:
    require_billing(request)
    if request.method == "POST":
        return _import(request)
    if request.GET.get("format") == "csv":
        rows = masking_list_rows(actor=request.user)
        response = StreamingHttpResponse(exports.csv_lines([["number", "valid_from"], *rows]),
                                         content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="masking-list-{now():%Y%m%d}.csv"'
        return response
    entries, pending = masking_list_size()
    return render(request, "traffic/masking_list.html", {"entries": entries, "pending": pending})


def _import(request: HttpRequest) -> HttpResponse:
    upload = request.FILES.get("file")
    try:
        if upload is None or upload.size > MAX_UPLOAD_BYTES:
            raise ApplicationError(_("Choose a CSV file of at most 5 MB."), {"field": "file"})
        try:
            text = upload.read().decode("utf-8")
        except UnicodeDecodeError:
            raise ApplicationError(_("The file must be UTF-8 text."), {"field": "file"}) from None
        added, valid_from = masking_list_import(actor=request.user, text=text)
    except ApplicationError as exc:
        entries, pending = masking_list_size()
        return render(request, "traffic/masking_list.html", {"entries": entries, "pending": pending,
                                                             "error": exc.message}, status=400)
    messages.success(request, _("%(n)s numbers added; they are masked on bills from %(date)s on.")
                     % {"n": added, "date": valid_from.date().isoformat()})
    return redirect("traffic:staff-masking-list")
