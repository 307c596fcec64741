"""The CSV export of a customer's own calls. Up to STREAM_MAX_CALLS calls the file is streamed at once,
as it always was; more are written by a Celery task (traffic.services.call_exports), because one big
export held a web worker for seconds (issue 16). The export's page shows its status, refreshes itself
with a <meta> refresh while it waits (the CSP allows no inline script) and links the file once ready."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from voipxs.exceptions import ApplicationError
from voipxs.privacy.purposes import Purpose

from .. import exports
from ..models import CallExport, Cdr
from ..selectors.call_exports import call_export_file, call_export_get_own
from ..selectors.calls import cdr_export_rows, cdr_export_size
from ..services.call_exports import ACTIVE_MAX, STREAM_MAX_CALLS, CallExportBusy, call_export_request
from .calls import CallFilterForm, call_filters

REFRESH_SECONDS = 3  # how often a waiting export's page reloads itself


def _back_to_calls(request: HttpRequest) -> HttpResponse:
    """The call page with the same filter: a wrong one (the dates the wrong way round, a number that is no phone
    number) is shown there at its field, in the reader's language, where it can be corrected."""
    return redirect(reverse("traffic:history") + (f"?{request.GET.urlencode()}" if request.GET else ""))


@login_required
def call_export(request: HttpRequest) -> HttpResponse:
    """The user's own calls as CSV (formula injection neutralised): streamed when small, else handed to
    a task and answered with a redirect to the export's page."""
    form = CallFilterForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        return _back_to_calls(request)
    filters = call_filters(form) if form.is_bound else {}
    try:
        size = cdr_export_size(actor=request.user, purpose=Purpose.SELF_SERVICE, at_most=STREAM_MAX_CALLS, **filters)
        if size > STREAM_MAX_CALLS:
            export = call_export_request(owner=request.user, **filters)
            return redirect("traffic:call-export", export_id=export.pk)
        rows = cdr_export_rows(actor=request.user, purpose=Purpose.SELF_SERVICE, **filters)
    except CallExportBusy:
        messages.warning(request, _("You already have %(n)s exports being prepared; ask for another one once "
                                    "one of them is ready.") % {"n": ACTIVE_MAX})
        return _back_to_calls(request)
    except ApplicationError:
        return _back_to_calls(request)
    response = StreamingHttpResponse(exports.calls_csv(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="calls-{timezone.now():%Y%m%d}.csv"'
    return response


@login_required
def call_export_status(request: HttpRequest, export_id: int) -> HttpResponse:
    export = call_export_get_own(actor=request.user, export_id=export_id)
    direction = str(Cdr.Direction(export.direction).label) if export.direction in Cdr.Direction.values else ""
    return render(request, "traffic/call_export.html", {
        "export": export, "direction": direction, "refresh_seconds": REFRESH_SECONDS,
    })


@login_required
def call_export_download(request: HttpRequest, export_id: int) -> HttpResponse:
    export = call_export_get_own(actor=request.user, export_id=export_id)
    if export.status != CallExport.Status.READY:
        return redirect("traffic:call-export", export_id=export.pk)
    response = StreamingHttpResponse(call_export_file(actor=request.user, export=export),
                                     content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime(export.created_at)
    response["Content-Disposition"] = f'attachment; filename="calls-{stamp:%Y%m%d}-{export.pk}.csv"'
    response["Content-Length"] = str(export.size)
    return response
