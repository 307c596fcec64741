"""The data-subject API: own requests, export download by the owner only, bad input named."""
from __future__ import annotations

import io
import json
import zipfile

import pytest

from accounts.dsr.models import ExportFile
from tests.accounts.helpers import _fresh_cache  # noqa: F401
from tests.factories import make_cdr


@pytest.fixture(autouse=True)
def _private_dir(settings, tmp_path):
    settings.PRIVATE_FILES_DIR = tmp_path


@pytest.mark.django_db
class DsrApiTests:
    def test_it_makes_an_access_request_and_lets_only_the_owner_download(self, client, alice, bob,
                                                                         django_capture_on_commit_callbacks):
        make_cdr(account=alice, dst="+31699993678")
        client.force_login(alice)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post("/api/v1/me/privacy-requests/", {"kind": "portability"}, content_type="application/json")
        assert response.status_code == 201 and response.json()["deadline"]
        listed = client.get("/api/v1/me/privacy-requests/").json()
        export_id = listed[0]["exports"][0]["id"]
        assert listed[0]["status"] == "completed" and listed[0]["exports"][0]["status"] == "ready"
        body = b"".join(client.get(f"/api/v1/me/exports/{export_id}/").streaming_content)
        data = json.loads(zipfile.ZipFile(io.BytesIO(body)).read("export.json"))
        assert next(s for s in data["sections"] if s["name"] == "calls")["rows"][0]["to"] == "+31699993678"
        client.logout()
        client.force_login(bob)
        assert client.get(f"/api/v1/me/exports/{export_id}/").status_code == 404
        assert client.get("/api/v1/me/privacy-requests/").json() == []
        assert ExportFile.objects.get(pk=export_id).downloads.count() == 1

    def test_it_names_the_bad_field(self, client, alice):
        client.force_login(alice)
        bad = client.post("/api/v1/me/privacy-requests/", {"kind": "all"}, content_type="application/json")
        assert bad.status_code == 400 and "kind" in bad.json()
        erase = client.post("/api/v1/me/privacy-requests/", {"kind": "erasure", "password": "nope"},
                            content_type="application/json")
        assert erase.status_code == 400 and "password" in json.dumps(erase.json()).lower()

    def test_it_is_in_the_schema(self, client, alice):
        client.force_login(alice)
        schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
        assert "/api/v1/me/privacy-requests/" in schema["paths"] and "/api/v1/me/exports/{id}/" in schema["paths"]
