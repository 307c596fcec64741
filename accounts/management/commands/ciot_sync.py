"""Deliver the CIOT subscriber file now (beat runs it hourly: accounts.tasks.ciot_sync_task)."""
from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from accounts.ciot.models import CiotSyncRun
from accounts.ciot.services import ciot_sync
from voipxs.exceptions import ApplicationError


class Command(BaseCommand):
    help = "Build the CIOT subscriber file (Tw art. 13.4) and deliver it through CIOT_ADAPTER; log the run."

    def handle(self, *args, **options) -> None:
        try:
            run = ciot_sync()
        except ApplicationError as exc:
            raise CommandError(str(exc)) from None
        if run.status != CiotSyncRun.Status.DONE:
            raise CommandError(f"CIOT sync run {run.pk} failed: {run.error} (the DPOs and administrators were e-mailed)")
        self.stdout.write(f"CIOT sync run {run.pk}: {run.records} records, {run.current} current, "
                          f"{run.incomplete} without name and address, changed: {run.changed}, sha256 {run.sha256}")
