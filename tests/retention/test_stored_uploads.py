"""Stored CDR uploads that no import will read any more (a failed import's file kept for a re-run, an
import still queued because the broker was down) go after the cdr_technical period: a raw CDR file
carries SIP call-ids, channels and addresses, which retention keeps 30 days."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils.timezone import now

from retention.purge.run import purge_expired
from tests.traffic.test_import_api import pbx, private_dir  # noqa: F401  (fixtures)
from tests.traffic.test_import_recovery import master_csv, queued_upload
from traffic.models import CdrImport
from traffic.services import imports as services
from traffic.services.imports import IMPORT_FILE_GONE
from voipxs.exceptions import ApplicationError
from voipxs.models import AuditEntry


def _receipt(result: dict) -> dict:
    return next(r for r in result["receipts"] if r["category"] == "cdr_uploads")


def _purge(capture, **kwargs) -> dict:
    with capture(execute=True):  # the file goes once the import's row says so (on commit)
        return purge_expired(**kwargs)


def _failed_with_file(pbx, capture) -> CdrImport:
    cdr_import = queued_upload(pbx, master_csv(3), capture)
    services.cdr_import_fail(cdr_import, "The worker stopped mid-run.", keep_upload=True)
    return CdrImport.objects.get(pk=cdr_import.pk)


@pytest.mark.django_db
class StoredUploadPurgeTests:
    def test_a_failed_imports_file_stays_30_days_for_a_rerun_then_goes(self, pbx, private_dir,
                                                                     django_capture_on_commit_callbacks):
        failed = _failed_with_file(pbx, django_capture_on_commit_callbacks)
        stored = private_dir / "imports" / failed.upload_name
        assert stored.exists() and failed.can_rerun

        kept = _purge(django_capture_on_commit_callbacks, now=now() + timedelta(days=29))
        assert stored.exists() and _receipt(kept)["deleted"] == 0

        dry = _purge(django_capture_on_commit_callbacks, now=now() + timedelta(days=31), dry_run=True)
        assert _receipt(dry)["deleted"] == 1 and stored.exists()

        gone = _purge(django_capture_on_commit_callbacks, now=now() + timedelta(days=31))
        failed.refresh_from_db()
        assert not stored.exists() and _receipt(gone)["deleted"] == 1
        assert not failed.can_rerun and "retention policy" in failed.error
        assert AuditEntry.objects.filter(action="cdr_import.upload_deleted", target_id=str(failed.pk)).exists()
        with pytest.raises(ApplicationError, match=re.escape(IMPORT_FILE_GONE)):
            services.cdr_import_rerun(cdr_import=failed)

    def test_an_import_stuck_in_the_queue_is_failed_with_the_reason_when_its_file_goes(
            self, pbx, private_dir, django_capture_on_commit_callbacks):
        queued = queued_upload(pbx, master_csv(3), django_capture_on_commit_callbacks)
        stored = private_dir / "imports" / queued.upload_name

        _purge(django_capture_on_commit_callbacks, now=now() + timedelta(days=31))

        queued.refresh_from_db()
        assert queued.status == "failed" and "upload it again" in queued.error
        assert not stored.exists()

    def test_a_file_that_a_rerun_took_over_is_left_to_the_rerun(self, pbx, private_dir,
                                                              django_capture_on_commit_callbacks):
        failed = _failed_with_file(pbx, django_capture_on_commit_callbacks)
        name = failed.upload_name
        with django_capture_on_commit_callbacks(execute=False):
            rerun = services.cdr_import_rerun(cdr_import=failed)
        CdrImport.objects.filter(pk=rerun.pk).update(status="running", heartbeat_at=now())

        _purge(django_capture_on_commit_callbacks, now=now() + timedelta(days=31))

        assert (private_dir / "imports" / name).exists()  # the running re-run still reads it
