"""One download of the person's export (GDPR art. 15, 20) is one access in the audit log: an auditor counting the
accesses to a person's data counts it once. The download itself stays recorded (ExportDownload), and the entry
names who, for which purpose and which export."""
from __future__ import annotations

import pytest

from accounts.dsr.models import DataSubjectRequest, ExportDownload, ExportFile
from accounts.dsr.services import dsr_request_create
from tests.accounts.helpers import _fresh_cache  # noqa: F401
from tests.factories import make_cdr, verified_client
from voipxs.privacy.audit import actor_ref
from voipxs.privacy.models import AuditEntry

EXPORT_ACTIONS = ("dsr.export_get", "dsr.export_download")


@pytest.fixture(autouse=True)
def _private_dir(settings, tmp_path):
    settings.PRIVATE_FILES_DIR = tmp_path


@pytest.fixture
def ready_export(alice, django_capture_on_commit_callbacks) -> ExportFile:
    make_cdr(account=alice, dst="+31699993678")
    with django_capture_on_commit_callbacks(execute=True):
        req = dsr_request_create(user=alice, kind=DataSubjectRequest.Kind.ACCESS)
    export = ExportFile.objects.get(request=req)
    assert export.status == ExportFile.Status.READY
    return export


def _download_entries(export: ExportFile) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action__in=EXPORT_ACTIONS).order_by("pk"))


@pytest.mark.django_db
class ExportDownloadAuditTests:
    @pytest.mark.parametrize("url", ["/privacy-requests/exports/{pk}/download/", "/api/v1/me/exports/{pk}/"])
    def test_one_download_is_one_audited_access(self, client, alice, ready_export, url):
        verified_client(client, alice)
        response = client.get(url.format(pk=ready_export.pk))
        assert response.status_code == 200
        assert b"".join(response.streaming_content)[:2] == b"PK"
        [entry] = _download_entries(ready_export)
        assert entry.actor == actor_ref(alice) and entry.purpose == "self_service" and entry.outcome == "ok"
        assert entry.action == "dsr.export_download"
        assert (entry.target_type, entry.target_id) == ("dsr_export", str(ready_export.pk))
        assert ExportDownload.objects.filter(export=ready_export).count() == 1  # the download's own record stays

    def test_two_downloads_are_two_accesses(self, client, alice, ready_export):
        verified_client(client, alice)
        for _ in range(2):
            b"".join(client.get(f"/privacy-requests/exports/{ready_export.pk}/download/").streaming_content)
        assert len(_download_entries(ready_export)) == 2
        assert ExportDownload.objects.filter(export=ready_export).count() == 2

    def test_another_persons_try_is_recorded_once_and_downloads_nothing(self, client, bob, ready_export):
        verified_client(client, bob)
        assert client.get(f"/privacy-requests/exports/{ready_export.pk}/download/").status_code == 404
        [entry] = _download_entries(ready_export)
        assert entry.actor == actor_ref(bob)
        assert not ExportDownload.objects.exists()
