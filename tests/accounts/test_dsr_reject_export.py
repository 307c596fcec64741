"""A refused access or portability request (GDPR art. 12(5): manifestly unfounded or excessive) gets no export:
its export, still waiting for its build when the DPO refused, is not built afterwards (by its task arriving late,
or the reaper sending it again), so the person is not handed the data the answer refused."""
from __future__ import annotations

import pytest

from accounts.dsr.export import dsr_export_build
from accounts.dsr.models import DataSubjectRequest, ExportFile
from accounts.dsr.services import dsr_request_create, dsr_request_reject


@pytest.fixture(autouse=True)
def _private_dir(settings, tmp_path):
    settings.PRIVATE_FILES_DIR = tmp_path


@pytest.mark.django_db
def test_the_export_of_a_refused_request_is_not_built(alice, dpo, settings):
    req = dsr_request_create(user=alice, kind=DataSubjectRequest.Kind.PORTABILITY)  # its task not run yet
    export = ExportFile.objects.get(request=req)
    dsr_request_reject(request=req, answer="Your fourth request this week: refused (GDPR art. 12(5)).", actor=dpo)
    dsr_export_build(export_id=export.pk)  # the task arrives after the refusal
    export.refresh_from_db()
    assert export.status == ExportFile.Status.DELETED and not export.file_name
    assert not list((settings.PRIVATE_FILES_DIR / "exports").glob("export-*"))
    req.refresh_from_db()
    assert req.status == DataSubjectRequest.Status.REJECTED
