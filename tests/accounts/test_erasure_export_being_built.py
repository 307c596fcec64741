"""Erasure while the person's data export is still being built ("send me my data, then erase me"): the export
file the build finishes must not outlive the account. Erasure waits for the build's row lock and then deletes
the finished file; it must not mark the export deleted while leaving its file on disk, where no purge looks
again (the purge deletes ready and failed exports only)."""
from __future__ import annotations

import threading
from unittest import mock

import pytest
from django.db import connection

from accounts.dsr import export as export_module
from accounts.dsr.models import DataSubjectRequest, ExportFile
from accounts.dsr.services import dsr_request_create
from tests.factories import PASSWORD, make_cdr

from .test_dsr_export_requeue import unsent_export

Kind = DataSubjectRequest.Kind


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
class ErasureWhileExportIsBuiltTests:
    def test_no_export_file_of_the_erased_person_stays_on_disk(self, alice, settings, tmp_path, audit_log_flushable):
        settings.PRIVATE_FILES_DIR = tmp_path
        make_cdr(account=alice, dst="+31699993678")
        export = unsent_export(alice)  # the access request's export, its build about to run
        written, release = threading.Event(), threading.Event()
        original_write = export_module._export_file_write

        def write_then_wait(export_file):  # the ZIP is written; the build holds the row until `ready`
            result = original_write(export_file)
            written.set()
            release.wait(20)
            return result

        failures = []

        def build():
            try:
                with mock.patch.object(export_module, "_export_file_write", write_then_wait):
                    export_module.dsr_export_build(export_id=export.pk)
            except Exception as exc:  # e.g. a deadlock, were the erasure to lock in another order
                failures.append(type(exc).__name__)
            finally:
                connection.close()

        worker = threading.Thread(target=build)
        worker.start()
        try:
            assert written.wait(20)
            # The build finishes a moment after the erasure has begun (and found the export still pending).
            threading.Timer(3, release.set).start()
            erasure = dsr_request_create(user=alice, kind=Kind.ERASURE, password=PASSWORD)
        finally:
            release.set()
            worker.join()

        assert failures == []  # the build finished: the erasure waited for it, in the same lock order
        assert erasure.status == DataSubjectRequest.Status.COMPLETED
        assert ExportFile.objects.get(pk=export.pk).status == ExportFile.Status.DELETED
        assert sorted(p.name for p in (tmp_path / "exports").rglob("*") if p.is_file()) == []
