"""Writes for the CIOT subscriber file: the subscriber's name and address (versioned) and the sync runs.

A run is logged before it starts and finished in its own transaction, so a failure leaves a FAILED row
(the error class, never the message: exceptions can quote a name or an address) and an alert: an e-mail
to the DPOs and administrators, and the status on the DPO's CIOT page.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils.timezone import now
from django.utils.translation import gettext, gettext_noop

from voipxs.exceptions import ApplicationError
from voipxs.models import AuditEntry
from voipxs.mail import mail_datetime
from voipxs.privacy.audit import audit_record
from voipxs.privacy.purposes import Purpose, Role, SystemActor

from ..models import User
from ..services.roles import staff_role_mail
from .adapters import CiotAdapter, ciot_adapter
from .models import CiotSyncRun, SubscriberDetails
from .selectors import ciot_current_count, ciot_records, ciot_sync_last_done

logger = logging.getLogger(__name__)
CIOT_ACTOR = SystemActor("ciot_sync", frozenset({Purpose.CIOT}))
# One message per field, so a Dutch page names the field in Dutch too.
SUBSCRIBER_FIELD_REQUIRED = {
    "name": gettext_noop("Fill in the name."), "street": gettext_noop("Fill in the street."),
    "house_number": gettext_noop("Fill in the house number."), "postcode": gettext_noop("Fill in the postcode."),
    "town": gettext_noop("Fill in the town."),
}
SUBSCRIBER_FIELDS = tuple(SUBSCRIBER_FIELD_REQUIRED)
ADDRESS_NOT_AFTER_CURRENT = gettext_noop("A new address must start after the current one.")
RUN_IN_PROGRESS = gettext_noop("A CIOT sync is already running.")
# A run still RUNNING after this long lost its worker: it is marked failed, and the next run may start. Longer than
# the task's hard time limit (CELERY_TASK_TIME_LIMIT, 35 minutes), so a run its worker may still finish is never reaped.
RUN_LEASE = timedelta(minutes=40)
# Beat runs the sync hourly (voipxs/beat.py "ciot-sync"): no successful run for longer than this, one missed hour and
# a run's lease, is a stopped sync (failing, hanging, or not started at all), alerted once (ciot_sync_stale_check).
CIOT_STALE_AFTER = timedelta(hours=2)
STALE_ACTION = "ciot.sync_stale"


@transaction.atomic
def subscriber_details_set(*, user: User, actor: Any, at: datetime | None = None, **values: str) -> SubscriberDetails:
    """Record the user's name and address from `at` (default now): the current version ends there."""
    cleaned = {f: (values.get(f) or "").strip() for f in SUBSCRIBER_FIELDS}
    for field, value in cleaned.items():
        if not value:
            raise ApplicationError(SUBSCRIBER_FIELD_REQUIRED[field], extra={"field": field})
    cleaned["postcode"] = cleaned["postcode"].upper()
    at = at or now()
    User.objects.select_for_update().filter(pk=user.pk).first()  # one change per user at a time
    current = SubscriberDetails.objects.filter(user=user, valid_to__isnull=True).first()
    if current is not None:
        if at <= current.valid_from:
            raise ApplicationError(ADDRESS_NOT_AFTER_CURRENT, extra={"field": "valid_from"})
        current.valid_to = at
        current.save(update_fields=["valid_to"])
    details = SubscriberDetails(user=user, valid_from=at, **cleaned)
    details.full_clean()
    details.save(force_insert=True)
    audit_record(actor=actor, action="subscriber_details.set", purpose=Purpose.CIOT, target_type="user",
                 target_id=user.pk, extra={"version": details.pk})
    return details


def _run_start(adapter_name: str) -> CiotSyncRun:
    with transaction.atomic():
        running = CiotSyncRun.objects.select_for_update().filter(status=CiotSyncRun.Status.RUNNING)
        stale = [_run_fail(r, error="LeaseExpired: the worker stopped mid-run")
                 for r in running.filter(started_at__lt=now() - RUN_LEASE)]
        busy = running.filter(started_at__gte=now() - RUN_LEASE).exists()
        run = None if busy else CiotSyncRun.objects.create(adapter=adapter_name)
    for r in stale:
        _alert(r)
    if run is None:
        raise ApplicationError(RUN_IN_PROGRESS)
    return run


def _run_fail(run: CiotSyncRun, *, error: str) -> CiotSyncRun:
    run.status, run.finished_at, run.error = CiotSyncRun.Status.FAILED, now(), error[:200]
    run.save(update_fields=["status", "finished_at", "error"])
    audit_record(actor=CIOT_ACTOR, action="ciot.sync_failed", purpose=Purpose.CIOT, target_type="ciot_sync_run",
                 target_id=run.pk, extra={"error": run.error})
    return run


def _alert(run: CiotSyncRun) -> None:
    """After the failure is committed. A mail outage must not hide the failure: it stays on the status page
    (alerted_at empty) and in the log."""
    try:
        ciot_sync_alert(run_id=run.pk)
        run.refresh_from_db(fields=["alerted_at"])
    except Exception as exc:  # noqa: BLE001
        logger.error("CIOT sync run %s failed and its alert e-mail could not be sent (%s)", run.pk, type(exc).__name__)


def ciot_sync(*, actor: Any = CIOT_ACTOR, adapter: CiotAdapter | None = None) -> CiotSyncRun:
    """Build the full snapshot and deliver it through the adapter; log the run either way."""
    adapter = adapter or ciot_adapter()
    run = _run_start(adapter.name)
    try:
        rows, incomplete = ciot_records(actor=actor)
        sha256 = adapter.deliver(records=rows, run_id=run.pk, generated_at=run.started_at)
    except Exception as exc:  # noqa: BLE001  every failure is logged and alerted; the class only (no data)
        with transaction.atomic():
            _run_fail(run, error=f"{type(exc).__name__}: delivery or read failed")
        _alert(run)
        return run
    previous = ciot_sync_last_done()
    with transaction.atomic():
        run.status, run.finished_at, run.sha256 = CiotSyncRun.Status.DONE, now(), sha256
        run.records, run.current, run.incomplete = len(rows), ciot_current_count(rows), incomplete
        run.changed = previous is None or previous.sha256 != sha256
        run.save(update_fields=["status", "finished_at", "sha256", "records", "current", "incomplete", "changed"])
        audit_record(actor=actor, action="ciot.sync", purpose=Purpose.CIOT, target_type="ciot_sync_run",
                     target_id=run.pk, extra={"records": run.records, "incomplete": incomplete, "changed": run.changed})
    return run


def ciot_sync_alert(*, run_id: int) -> int:
    """E-mail the DPOs and administrators about a failed run (ids and the error class only); returns how many."""
    run = CiotSyncRun.objects.get(pk=run_id)
    url = getattr(settings, "SITE_URL", "").rstrip("/") + reverse("accounts_dsr:dpo-ciot")

    def compose() -> tuple[str, str]:
        values = {"run": run.pk, "started": mail_datetime(run.started_at), "error": run.error, "url": url}
        return (gettext("[VoIPXS] The CIOT subscriber file sync failed (run %(run)s)") % values,
                gettext("The CIOT subscriber file sync run %(run)s (started %(started)s) failed: %(error)s.\nThe CIOT "
                        "may now hold outdated user data (Tw art. 13.4). Status: %(url)s\n") % values)

    sent = sum(staff_role_mail(role=role, compose=compose) for role in (Role.DPO, Role.ADMIN))
    if sent:
        CiotSyncRun.objects.filter(pk=run.pk).update(alerted_at=now())
    else:  # no one to mail: not alerted, and said where an operator looks
        logger.error("CIOT sync run %s failed and no one was e-mailed: no active DPO or administrator has an "
                     "e-mail address", run.pk)
    return sent


def ciot_sync_stale_since(*, at: datetime | None = None, last: CiotSyncRun | None = None) -> datetime | None:
    """When the CIOT sync last succeeded (or first ran, if it never did) when that is longer than CIOT_STALE_AFTER
    before `at`; else None (fresh, or never run at all). For the alert mail and the staff pages' banner alike."""
    last = last or ciot_sync_last_done()
    first = None if last else CiotSyncRun.objects.order_by("started_at", "pk").first()
    since = last.finished_at or last.started_at if last else first.started_at if first else None
    return since if since is not None and (at or now()) - since > CIOT_STALE_AFTER else None


def ciot_sync_stale_check(*, at: datetime | None = None) -> int:
    """Beat, hourly: alert the DPOs and administrators when no run has succeeded for CIOT_STALE_AFTER (counted from
    the last success, or from the first run if none ever did): the CIOT may then hold outdated user data although no
    single run failed (the job stopped, hangs, or its alerts were missed). Once per last success, audited with ids
    and times only; not marked when no one could be mailed, so the next check tries again. Returns how many mailed."""
    moment = at or now()
    last = ciot_sync_last_done()
    since = ciot_sync_stale_since(at=moment, last=last)
    if since is None:
        return 0
    target = str(last.pk) if last else "none"
    if AuditEntry.objects.filter(action=STALE_ACTION, target_type="ciot_sync_run", target_id=target).exists():
        return 0
    url = getattr(settings, "SITE_URL", "").rstrip("/") + reverse("accounts_dsr:dpo-ciot")

    def compose() -> tuple[str, str]:
        values = {"since": mail_datetime(since), "url": url}
        return (gettext("[VoIPXS] The CIOT subscriber file sync has stopped"),
                gettext("The CIOT subscriber file sync has not succeeded since %(since)s, although it runs every "
                        "hour.\nThe CIOT may now hold outdated user data (Tw art. 13.4). Status: %(url)s\n") % values)

    sent = sum(staff_role_mail(role=role, compose=compose) for role in (Role.DPO, Role.ADMIN))
    if not sent:
        logger.error("The CIOT sync has not succeeded since run %s and no one was e-mailed: no active DPO or "
                     "administrator has an e-mail address", target)
        return 0
    audit_record(actor=CIOT_ACTOR, action=STALE_ACTION, purpose=Purpose.CIOT, target_type="ciot_sync_run",
                 target_id=target, extra={"last_done": since.isoformat(), "recipients": sent})
    return sent
