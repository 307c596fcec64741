"""The package of an approved request: built by the Celery task that `transitions.disclosure_production_start`
queues (the rows come from the approved scope only, see production.py), sent back for a retry when the
build fails, sent again by the reaper when its task never arrived (`disclosure_productions_requeue`,
beat), and downloaded by an officer once the output is checked, every download logged."""
from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils.timezone import now as tz_now

from voipxs.exceptions import ApplicationError
from voipxs.queue import tasks_resend

from ..models import DisclosureRequest, Package, PackageDownload, Status
from ..production import build_package, package_zip
from .checks import WRONG_STATE, request_audit, request_locked, request_move, require_officer, require_state


@transaction.atomic
def disclosure_package_build(*, request_id: int, actor) -> Package | None:
    """Build and seal the package (production.py); the request moves to PRODUCED. A row outside the
    approved scope raises ScopeViolation and nothing is stored.

    Idempotent, because its task may arrive twice (a redelivery, the reaper's send): the build holds the
    request's row lock from its check to PRODUCED, so another delivery finds the row locked (being built)
    or no longer producing (done, or failed back to approved) and answers None without doing anything."""
    req = (DisclosureRequest.objects.select_for_update(skip_locked=True, of=("self",)).select_related("authority")
           .filter(pk=request_id, status=Status.PRODUCING).first())
    if req is None:
        return None
    package = build_package(request=req, actor=actor)
    req.produced_at = tz_now()
    request_move(req=req, status=Status.PRODUCED, fields=["produced_at"])
    request_audit(actor=actor, action="produce", req=req, package=package.pk, records=package.record_count)
    return package


def _production_idle(request_id: int) -> bool:
    """Still producing and not being built: no build holds its row lock (skip_locked passes over a
    locked row). The lock ends with the transaction, before the task is sent, so the build can take it."""
    with transaction.atomic():
        return (DisclosureRequest.objects.select_for_update(skip_locked=True)
                .filter(pk=request_id, status=Status.PRODUCING).values_list("pk", flat=True).first()) is not None


def disclosure_productions_requeue(*, at: datetime | None = None) -> list[int]:
    """Beat: send again the package build of every request still producing TASK_RESEND_AFTER_SECONDS
    after its production started and not being built: the broker was down when the officer started it
    (the step was stored and answered), or the task was lost with the broker. Stops at the first send
    the broker refuses (the next run tries again). Returns the request ids sent (voipxs/queue.py)."""
    from ..tasks import disclosure_package_build_task  # lazy: the services-to-tasks pair (tasks import this module)

    cutoff = (at or tz_now()) - timedelta(seconds=settings.TASK_RESEND_AFTER_SECONDS)
    # A request left producing by code older than production_started_at has no start time: it is old.
    waiting = (DisclosureRequest.objects.filter(status=Status.PRODUCING, production_started_by__isnull=False)
               .filter(Q(production_started_at__lt=cutoff) | Q(production_started_at__isnull=True)).order_by("pk")
               .values_list("pk", "production_started_by_id"))
    return tasks_resend(disclosure_package_build_task, [ids for ids in waiting if _production_idle(ids[0])])


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
