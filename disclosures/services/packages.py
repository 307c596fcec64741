"""The package of an approved request: built by the Celery task that `transitions.disclosure_production_start`
queues (the rows come from the approved scope only, see production.py), sent back for a retry when the
build fails, and downloaded by an officer once the output is checked, every download logged."""
from __future__ import annotations

import hashlib

from django.db import transaction
from django.utils.timezone import now as tz_now

from voipxs.exceptions import ApplicationError

from ..models import DisclosureRequest, Package, PackageDownload, Status
from ..production import build_package, package_zip
from .checks import WRONG_STATE, request_audit, request_locked, request_move, require_officer, require_state


@transaction.atomic
def disclosure_package_build(*, request_id: int, actor) -> Package:
    """Build and seal the package (production.py); the request moves to PRODUCED. A row outside the
    approved scope raises ScopeViolation and nothing is stored."""
    req = DisclosureRequest.objects.select_for_update().select_related("authority").get(pk=request_id)
    require_state(req, Status.PRODUCING)
    package = build_package(request=req, actor=actor)
    req.produced_at = tz_now()
    request_move(req=req, status=Status.PRODUCED, fields=["produced_at"])
    request_audit(actor=actor, action="produce", req=req, package=package.pk, records=package.record_count)
    return package


@transaction.atomic
def disclosure_production_failed(*, request_id: int, actor, error: str) -> DisclosureRequest:
    """Back to APPROVED with the reason (a class name, never data), so the officers can look and retry."""
    req = DisclosureRequest.objects.select_for_update().get(pk=request_id)
    require_state(req, Status.PRODUCING)
    req.production_error = error[:300]
    request_move(req=req, status=Status.APPROVED, fields=["production_error"])
    request_audit(actor=actor, action="production_failed", req=req, error=error[:100])
    return req


@transaction.atomic
def disclosure_package_download(*, actor, request: DisclosureRequest) -> tuple[str, bytes]:
    """The ZIP of the sealed package, logged per download. Only after the output check."""
    require_officer(actor)
    req = request_locked(request=request)
    require_state(req, Status.CHECKED, Status.DELIVERED)
    package = Package.objects.get(request=req)
    if package.state != Package.State.SEALED:
        raise ApplicationError(WRONG_STATE, extra={"field": "package"})
    data = package_zip(package)
    digest = hashlib.sha256(data).hexdigest()
    PackageDownload.objects.create(package=package, downloaded_by=actor, zip_sha256=digest)
    request_audit(actor=actor, action="package_download", req=req, package=package.pk, sha256=digest)
    return f"disclosure-{req.pk}.zip", data
