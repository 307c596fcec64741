"""Billing staff's page of the national masking list (Bude art. 4.2): its size, a CSV export, a CSV
import (a column `number`) and taking numbers off (typed, one per line, after a confirmation); both take
effect from the next billing period on."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.timezone import localdate, now
from django.utils.translation import gettext as _

from voipxs.confirm import confirmation_page, is_confirmed
from voipxs.exceptions import ApplicationError

from .. import exports
from ..selectors.masking import masking_list_rows, masking_list_size
from ..services.masking import masking_list_import, masking_list_take_off, masking_list_take_off_check
from .access import require_billing

MAX_UPLOAD_BYTES = 5 * 1024 * 1024


@login_required
def staff_masking_list(request: HttpRequest) -> HttpResponse:
    require_billing(request)
    if request.method == "POST":
        return _take_off(request) if "numbers" in request.POST else _import(request)
    if request.GET.get("format") == "csv":
        rows = masking_list_rows(actor=request.user)
        response = StreamingHttpResponse(exports.csv_lines([["number", "valid_from", "valid_until"], *rows]),
                                         content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="masking-list-{now():%Y%m%d}.csv"'
        return response
    return _page(request)


def _page(request: HttpRequest, status: int = 200, **context) -> HttpResponse:
    entries, pending, leaving = masking_list_size()
    return render(request, "traffic/masking_list.html", {"entries": entries, "pending": pending, "leaving": leaving,
                                                         "numbers": request.POST.get("numbers", ""), **context},
                  status=status)


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
        return _page(request, 400, error=exc.shown())
    messages.success(request, _("%(n)s numbers added; they are masked on bills from %(date)s on.")
                     % {"n": added, "date": localdate(valid_from).isoformat()})
    return redirect("traffic:staff-masking-list")


def _take_off(request: HttpRequest) -> HttpResponse:
    """Numbers off the list: what it does is named and confirmed first (it shows numbers on bills again)."""
    text = request.POST.get("numbers", "")
    try:
        if not is_confirmed(request):
            count, since = masking_list_take_off_check(text)
            return confirmation_page(request, title=_("Take %(n)s numbers off the masking list?") % {"n": count},
                                     consequences=_take_off_consequences(since), cancel_url=reverse("traffic:staff-masking-list"),
                                     action_label=_("Yes, take them off"))
        taken, since = masking_list_take_off(actor=request.user, text=text)
    except ApplicationError as exc:
        return _page(request, 400, take_off_error=exc.shown())
    messages.success(request, _("%(n)s numbers taken off the list; calls from %(date)s on show them in full.")
                     % {"n": taken, "date": localdate(since).isoformat()})
    return redirect("traffic:staff-masking-list")


def _take_off_consequences(since) -> list[str]:
    return [
        _("Calls to these numbers made from %(date)s on (the next billing period) show them in full on bills.")
        % {"date": localdate(since).isoformat()},
        _("Calls made while they were on the list stay masked on every bill, old ones too."),
        _("Take a number off only when it has left the national masking list; importing it again masks it again."),
    ]
