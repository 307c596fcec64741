"""A call's notes (GDPR art. 16, traffic.annotations) go with it into the customer's own CSV export of their
calls, streamed or written by the task, in a last column `note`: what they see on the page, they get in the
file. A note's text is untrusted like a caller name, so a spreadsheet formula in it stays text."""
from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.utils.timezone import now

from accounts.dsr.models import DataSubjectRequest
from accounts.dsr.services import dsr_request_create
from tests.factories import make_cdr, make_cdrs, verified_client
from traffic.exports import CALL_HEADER
from traffic.models import CallExport
from traffic.services.annotations import cdr_annotate
from traffic.services.call_exports import STREAM_MAX_CALLS

pytestmark = pytest.mark.django_db

STATEMENT = "The customer states this call was not made from their line."
HOSTILE = '=HYPERLINK("http://evil.example/","x")'


@pytest.fixture(autouse=True)
def _private_dir(settings, tmp_path):
    settings.PRIVATE_FILES_DIR = tmp_path


def _rows(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(body)))


@pytest.fixture
def noted(alice, dpo):
    """Two of alice's calls, the older with two notes (the second a formula), the newer with none."""
    call = make_cdr(account=alice, started_at=now() - timedelta(days=2))
    plain = make_cdr(account=alice, started_at=now() - timedelta(days=1))
    req = dsr_request_create(user=alice, kind=DataSubjectRequest.Kind.RECTIFICATION, details="Not mine.")
    for text in (STATEMENT, HOSTILE):
        cdr_annotate(actor=dpo, cdr_id=call.id, started_at=call.started_at, text=text, dsr_request=req)
    return call, plain


@pytest.mark.parametrize("url", ["/calls/export.csv", "/api/v1/me/calls.csv"])
def test_the_streamed_export_has_each_calls_notes_in_its_last_column(client, alice, noted, url):
    rows = _rows(verified_client(client, alice).get(url))
    assert rows[0] == CALL_HEADER and rows[0][-1] == "note"
    newer, older = rows[1:]
    assert newer[-1] == ""
    assert older[-1] == f"{STATEMENT} | {HOSTILE}"


def test_a_note_that_starts_like_a_formula_is_neutralised(client, alice, dpo):
    call = make_cdr(account=alice, started_at=now() - timedelta(days=2))
    req = dsr_request_create(user=alice, kind=DataSubjectRequest.Kind.RECTIFICATION, details="Not mine.")
    cdr_annotate(actor=dpo, cdr_id=call.id, started_at=call.started_at, text=HOSTILE, dsr_request=req)
    [_header, row] = _rows(verified_client(client, alice).get("/calls/export.csv"))
    assert row[-1] == "'" + HOSTILE


def test_the_export_the_task_writes_has_the_notes_too(client, alice, dpo, django_capture_on_commit_callbacks):
    make_cdrs(account=alice, n=STREAM_MAX_CALLS)
    call = make_cdr(account=alice, started_at=now() - timedelta(days=400))  # the oldest: the file's last row
    req = dsr_request_create(user=alice, kind=DataSubjectRequest.Kind.RECTIFICATION, details="Not mine.")
    cdr_annotate(actor=dpo, cdr_id=call.id, started_at=call.started_at, text=STATEMENT, dsr_request=req)
    verified_client(client, alice)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.get("/calls/export.csv").status_code in (202, 302)
    rows = _rows(client.get(f"/calls/exports/{CallExport.objects.get().pk}/download/"))
    assert len(rows) == STREAM_MAX_CALLS + 2
    assert [row[-1] for row in rows[1:]].count(STATEMENT) == 1 and rows[-1][-1] == STATEMENT
