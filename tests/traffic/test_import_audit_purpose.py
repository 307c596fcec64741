"""An import's "done" and "failed" audit entries name the purpose its start entry named: network operations upload
and re-run files for the security of the service (`ingest_purpose`), so the entries that close their imports say
security too, not billing; billing staff's and a command's stay under billing."""
from __future__ import annotations

import io

import pytest

from tests.traffic.test_ingest import AMS, ast
from traffic.services.imports import cdr_bulk_import, cdr_import_fail
from traffic.services.sources import source_create
from voipxs.privacy.models import AuditEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def pbx(db):
    return source_create(name="pbx-ams", format="asterisk-csv", timezone=AMS, default_country="NL")


def _purpose(action: str) -> str:
    return AuditEntry.objects.filter(action=action).values_list("purpose", flat=True).get()


def _import(source, actor, data: bytes):
    return cdr_bulk_import(source=source, stream=io.BytesIO(data), file_name="Master.csv", actor=actor)


class ImportCompletionPurposeTests:
    def test_a_noc_import_is_done_under_security(self, pbx, noc):
        assert _import(pbx, noc, (ast("n.1", dst="0205550199") + "\n").encode()).status == "done"
        assert _purpose("cdr_import.done") == "security"

    def test_a_noc_import_of_a_broken_file_fails_under_security(self, pbx, noc):
        assert _import(pbx, noc, b"\x00\x01 not a cdr file at all\n").status == "failed"
        assert _purpose("cdr_import.failed") == "security"

    def test_a_failure_recorded_later_follows_who_started_the_import(self, pbx, noc):
        done = _import(pbx, noc, (ast("n.2", dst="0205550199") + "\n").encode())
        cdr_import_fail(done, "stopped")  # a task or the reaper: no person of its own
        assert _purpose("cdr_import.failed") == "security"

    def test_billing_staff_and_a_command_stay_under_billing(self, pbx, billing_staff):
        _import(pbx, billing_staff, (ast("b.1", dst="0205550199") + "\n").encode())
        _import(pbx, None, (ast("c.1", dst="0205550198") + "\n").encode())
        assert set(AuditEntry.objects.filter(action="cdr_import.done").values_list("purpose", flat=True)) == {"billing"}
