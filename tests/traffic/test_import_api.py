"""Staff upload API: the file is kept privately, only the import id goes to the task, the report is
readable afterwards, and the file is gone once imported. Plus a real Celery worker on Redis."""
from __future__ import annotations

import os
import time

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.factories import verified_client
from traffic.models import Cdr, CdrImport
from traffic.services.sources import source_create

pytest.importorskip("traffic.importers", reason="the CDR parsers (traffic/importers) are not in the tree yet")

URL = "/api/v1/staff/cdr-imports/"


def master_csv(*uids: str, bad_line: bool = False) -> bytes:
    lines = [
        f'"","0205550101","0699993678","ctx","""Alice"" <0205550101>","SIP/a-1","SIP/b-1","Dial","",'
        f'"2026-05-04 10:00:00","2026-05-04 10:00:05","2026-05-04 10:01:06",66,61,"ANSWERED","DOCUMENTATION","{uid}",""'
        for uid in uids
    ]
    if bad_line:
        lines.insert(1, '"","0205550101","0699993678","ctx","x"')
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture
def private_dir(tmp_path, settings):
    settings.PRIVATE_FILES_DIR = tmp_path
    return tmp_path


@pytest.fixture
def pbx(db):
    return source_create(name="pbx-upload", format="asterisk-csv", timezone="Europe/Amsterdam")


class CdrImportApiTests:
    def test_billing_staff_upload_a_file_and_read_its_report(self, client, billing_staff, alice, pbx, private_dir,
                                                            django_capture_on_commit_callbacks):
        client = verified_client(client, billing_staff)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(URL, {"source": "pbx-upload",
                                         "file": SimpleUploadedFile("Master.csv", master_csv("a.1", "a.2", bad_line=True))})

        assert response.status_code == 202
        body = response.json()
        assert set(body) == {"id", "status"}
        report = client.get(f"{URL}{body['id']}/").json()
        assert (report["status"], report["imported"], report["source"]) == ("done", 2, "pbx-upload")
        assert [row["line"] for row in report["rejected"]] == [2]
        assert Cdr.objects.filter(import_batch_id=body["id"]).count() == 2
        assert list((private_dir / "imports").iterdir()) == []  # the upload is deleted after import

    def test_the_task_gets_only_the_import_id(self, client, billing_staff, alice, pbx, private_dir,
                                             django_capture_on_commit_callbacks):
        from celery.signals import task_prerun

        seen = []

        def record(sender=None, args=None, kwargs=None, **_extra):
            seen.append((sender.name, list(args or ()), dict(kwargs or {})))

        task_prerun.connect(record, weak=False)
        try:
            with django_capture_on_commit_callbacks(execute=True):
                response = verified_client(client, billing_staff).post(
                    URL, {"source": "pbx-upload", "file": SimpleUploadedFile("x.csv", master_csv("t.1"))})
        finally:
            task_prerun.disconnect(record)
        assert seen == [("traffic.tasks.cdr_import_run", [response.json()["id"]], {})]

    def test_the_upload_is_kept_privately_until_the_task_runs(self, client, billing_staff, pbx, private_dir):
        # No on_commit here: the task is not run, so the saved upload can be inspected.
        response = verified_client(client, billing_staff).post(
            URL, {"source": "pbx-upload", "file": SimpleUploadedFile("x.csv", master_csv("t.1"))})
        assert response.status_code == 202
        cdr_import = CdrImport.objects.get()
        assert cdr_import.status == "queued"
        stored = list((private_dir / "imports").iterdir())
        assert len(stored) == 1 and stored[0].read_bytes() == master_csv("t.1")
        assert oct(stored[0].stat().st_mode & 0o777) == "0o600"
        assert stored[0].name not in ("x.csv",) and len(stored[0].name) == 36  # a uuid, not the user's file name

    @pytest.mark.parametrize("data, field", [
        ({"source": "nope"}, "source"),
        ({"source": "pbx-upload"}, "file"),
        ({"source": "pbx-upload", "file": "empty"}, "file"),
    ])
    def test_bad_uploads_get_400_naming_the_field(self, client, admin_user, pbx, private_dir, data, field):
        data = dict(data)
        if data.get("file") == "empty":
            data["file"] = SimpleUploadedFile("empty.csv", b"")
        elif data["source"] == "nope":
            data["file"] = SimpleUploadedFile("x.csv", master_csv("n.1"))
        response = verified_client(client, admin_user).post(URL, data)
        assert response.status_code == 400
        assert field in response.json()
        assert not CdrImport.objects.exists()

    @pytest.mark.parametrize("persona", ["alice", "support", "dpo", "fraud_analyst"])
    def test_other_roles_cannot_upload_or_read(self, client, persona, request, pbx, private_dir):
        client = verified_client(client, request.getfixturevalue(persona))
        response = client.post(URL, {"source": "pbx-upload", "file": SimpleUploadedFile("x.csv", master_csv("r.1"))})
        assert response.status_code == 403
        assert client.get(f"{URL}1/").status_code == 403
        assert not CdrImport.objects.exists()

    def test_a_refused_file_shows_the_reason(self, client, billing_staff, pbx, private_dir,
                                             django_capture_on_commit_callbacks):
        cel = b'"CHAN_START","1335310195.513823","","","","","","s","default","TinCan/string","","","3","","1335310195.0","1335310195.0","","","",""\n'
        client = verified_client(client, billing_staff)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(URL, {"source": "pbx-upload", "file": SimpleUploadedFile("CEL.csv", cel)})
        report = client.get(f"{URL}{response.json()['id']}/").json()
        assert report["status"] == "failed" and "event log" in report["error"]


class ImportPageTests:
    def test_billing_staff_upload_on_the_page_and_see_the_report(self, client, billing_staff, alice, pbx, private_dir,
                                                                django_capture_on_commit_callbacks):
        client = verified_client(client, billing_staff)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post("/calls/staff/imports/", {
                "source": "pbx-upload", "file": SimpleUploadedFile("Master.csv", master_csv("p.1", bad_line=True))})
        assert response.status_code == 302
        page = client.get(response["Location"])
        assert page.status_code == 200
        assert b"Master.csv" in page.content
        assert b"0205550101" not in page.content and b"Alice" not in page.content
        listing = client.get("/calls/staff/imports/")
        assert b"pbx-upload" in listing.content



@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
class CdrImportWorkerTests:
    def test_a_real_worker_on_redis_imports_an_uploaded_file(self, client, tmp_path, settings, real_worker,
                                                              partitions_restored):
        from tests.factories import make_user
        from voipxs.privacy.purposes import Role

        settings.PRIVATE_FILES_DIR = tmp_path
        staff = make_user("billing-w", roles=(Role.BILLING,), totp=True)
        make_user("alice-w", numbers=["+31205550101"])
        source_create(name="pbx-worker", format="asterisk-csv", timezone="Europe/Amsterdam")

        response = verified_client(client, staff).post(
            URL, {"source": "pbx-worker", "file": SimpleUploadedFile("Master.csv", master_csv("w.1", "w.2", "w.1"))})
        assert response.status_code == 202
        import_id = response.json()["id"]
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and CdrImport.objects.get(pk=import_id).status in ("queued", "running"):
            time.sleep(0.2)
        cdr_import = CdrImport.objects.get(pk=import_id)
        assert (cdr_import.status, cdr_import.imported, cdr_import.duplicates) == ("done", 2, 1)
        assert Cdr.objects.filter(import_batch_id=import_id).count() == 2
        # The worker deletes the upload just after it marks the import done (a moment later, under load).
        while time.monotonic() < deadline and os.listdir(tmp_path / "imports"):
            time.sleep(0.05)
        assert os.listdir(tmp_path / "imports") == []
        assert settings.PRIVATE_FILES_DIR == tmp_path


class CdrImportRunTests:
    def test_a_second_delivery_of_the_task_does_nothing(self, alice, pbx, private_dir, client, billing_staff,
                                                        django_capture_on_commit_callbacks):
        from traffic.services.imports import cdr_import_run

        with django_capture_on_commit_callbacks(execute=True):
            response = verified_client(client, billing_staff).post(
                URL, {"source": "pbx-upload", "file": SimpleUploadedFile("x.csv", master_csv("twice.1"))})
        done = CdrImport.objects.get(pk=response.json()["id"])
        again = cdr_import_run(cdr_import=done)

        assert (done.status, again.status, again.imported) == ("done", "done", 1)
        assert Cdr.objects.count() == 1
