"""The CIOT sync status page (DPO and administrators): the sync log, counts only, failures first in view."""
from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from voipxs.privacy.purposes import Role, has_role

from .selectors import ciot_sync_last_done, ciot_sync_run_list

CIOT_STATUS_ROLES = (Role.DPO, Role.ADMIN)


@require_GET
@login_required
def dpo_ciot(request: HttpRequest) -> HttpResponse:
    if not has_role(request.user, *CIOT_STATUS_ROLES):
        raise PermissionDenied
    runs = list(ciot_sync_run_list())
    latest = runs[0] if runs else None
    return render(request, "dpo/ciot.html", {"runs": runs, "latest": latest, "last_done": ciot_sync_last_done()})
