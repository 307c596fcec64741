"""Access and portability: the export ZIP, its schema, its encryption, its owner-only download."""
from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.utils.formats import date_format
from django.utils.timezone import localtime, now

from accounts.dsr.export import dsr_exports_purge
from accounts.dsr.models import DataSubjectRequest, ExportDownload, ExportFile
from accounts.dsr.services import dsr_request_create
from tests.accounts.dsr_helpers import delivered_disclosure, export_json_valid, export_zip, section
from tests.factories import make_cdr, verified_client


@pytest.fixture(autouse=True)
def _private_dir(settings, tmp_path):
    settings.PRIVATE_FILES_DIR = tmp_path


@pytest.fixture
def export_for(django_capture_on_commit_callbacks):
    def build(user) -> ExportFile:
        with django_capture_on_commit_callbacks(execute=True):
            req = dsr_request_create(user=user, kind=DataSubjectRequest.Kind.ACCESS)
        return ExportFile.objects.get(request=req)
    return build


@pytest.mark.django_db
class ExportTests:
    def test_it_validates_against_the_schema_with_own_calls_and_no_secret_disclosure(self, alice, bob, legal1,
                                                                                       export_for):
        make_cdr(account=alice, src="+31205550101", dst="+31699993678", caller_name="=HYPERLINK(\"x\")")
        make_cdr(account=alice, src="+31205550101", dst="+31699997321")
        make_cdr(account=bob, src="+31205550201", dst="+31699999999", caller_name="Bob Secret")
        delivered_disclosure(user=alice, officer=legal1, reference="OPEN-1", secrecy_days=None)
        delivered_disclosure(user=alice, officer=legal1, reference="SECRET-1", secrecy_days=60)

        export = export_for(alice)
        export.refresh_from_db()
        assert export.status == ExportFile.Status.READY
        data = export_json_valid(export)

        calls = section(data, "calls")
        assert sorted(c["to"] for c in calls["rows"]) == ["+31699993678", "+31699997321"]
        assert calls["count"] == 2 and calls["legal_basis"] and calls["retention"]
        names = {s["name"] for s in data["sections"]}
        assert {"profile", "numbers", "calls", "invoices", "requests", "disclosures"} <= names
        assert section(data, "numbers")["rows"][0]["number"] == "+31205550101"
        [profile] = section(data, "profile")["rows"]
        assert profile["itemised_bills"] == "full" and profile["number_masked_on_others_bills"] is False
        disclosures = section(data, "disclosures")["rows"]
        assert len(disclosures) == 1  # the open one; the one under a running secrecy order is not there
        everything = b"".join(export_zip(export).read(n) for n in export_zip(export).namelist())
        assert b"+31205550201" not in everything and b"Bob Secret" not in everything and b"+31699999999" not in everything
        assert b"bob@" not in everything

    def test_it_neutralises_formulas_in_the_csv(self, alice, export_for):
        make_cdr(account=alice, caller_name="=cmd|' /C calc'!A0")
        rows = list(csv.DictReader(io.StringIO(export_zip(export_for(alice)).read("calls.csv").decode())))
        assert rows[0]["caller_name"].startswith("'=")
        cats = export_zip(ExportFile.objects.get()).read("categories.csv").decode()
        assert "calls" in cats and "Tw art. 11.5(2)" in cats

    def test_it_stores_the_file_encrypted(self, alice, settings, export_for):
        make_cdr(account=alice, dst="+31699993678")
        export = export_for(alice)
        export.refresh_from_db()
        raw = (settings.PRIVATE_FILES_DIR / "exports" / export.file_name).read_bytes()
        assert b"PK" not in raw[:64] and b"+31699993678" not in raw and b"calls" not in raw

    def test_it_lets_only_the_owner_download_and_logs_each_download(self, client, alice, bob, export_for):
        export = export_for(alice)
        url = f"/privacy-requests/exports/{export.pk}/download/"
        assert verified_client(client, bob).get(url).status_code == 404
        client.logout()
        response = verified_client(client, alice).get(url)
        assert response.status_code == 200
        body = b"".join(response.streaming_content)
        assert body[:2] == b"PK" and response["Content-Disposition"].startswith("attachment")
        assert ExportDownload.objects.filter(export=export).count() == 1

    def test_the_persons_page_says_once_until_when_they_can_download_it(self, client, alice, export_for):
        export = export_for(alice)
        export.refresh_from_db()
        page = verified_client(client, alice).get("/privacy-requests/").content.decode()
        last_day = date_format(localtime(export.expires_at), "DATE_FORMAT")
        assert "Your data is ready to download." in page and "Download your data (ZIP)" in page
        assert page.count(last_day) == 1  # beside the link, not in the answer too

    def test_it_deletes_the_file_after_seven_days(self, alice, settings, export_for):
        export = export_for(alice)
        export.refresh_from_db()
        path = settings.PRIVATE_FILES_DIR / "exports" / export.file_name
        assert dsr_exports_purge(now=now() + timedelta(days=6))["deleted"] == 0 and path.exists()
        assert dsr_exports_purge(now=now() + timedelta(days=7, minutes=1))["deleted"] == 1
        export.refresh_from_db()
        assert export.status == ExportFile.Status.DELETED and not path.exists()
