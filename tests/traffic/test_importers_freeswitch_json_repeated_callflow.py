"""FreeSWITCH mod_json_cdr documents that repeat the "callflow" key, one per caller profile, latest first,
as real documents of 2014 and 2015 do (kept by cgrates/cgrates in general_tests/fsevcorelate_test.go,
`jsonCdr` and `jsonCdr2`, up to commit 63a83e655). The called number is the latest profile's: after a
transfer, the number the call was transferred to.

fixtures/freeswitch_json_cdr_repeated_callflow.json is written here in that shape: 0205554567 calls the
reception 0205550100 (profile 1), whose dialplan transfers the call to 0612345678 (profile 2, first)."""
from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from tests.traffic.test_push import URL, auth, pusher  # noqa: F401  (pusher: a fixture)
from traffic.importers import get_parser
from traffic.keys import decrypt_number
from traffic.models import Cdr
from traffic.services.imports import cdr_bulk_import
from traffic.services.sources import source_create

REPEATED = Path(__file__).parent / "fixtures" / "freeswitch_json_cdr_repeated_callflow.json"
UID = "5e8d2b17-3c6a-4f90-b1d4-7a29c0e6f358"
AFTER_TRANSFER = "+31612345678"  # profile 1 called +31205550100


@pytest.fixture
def fs_json(db):
    return source_create(name="fs-json", format="freeswitch-json", timezone="Europe/Amsterdam")


def one_line(text: str, uid: str = UID) -> str:
    """The document on one line, as a collector appends it (and as cgrates kept its two)."""
    return " ".join(part.strip() for part in text.splitlines()).replace(UID, uid)


def dst(cdr: Cdr) -> str:
    return decrypt_number(cdr.dst_enc, started_at=cdr.started_at)


class RepeatedCallflowTests:
    def test_import_cdrs_stores_the_number_the_call_was_transferred_to(self, fs_json):
        out = io.StringIO()
        call_command("import_cdrs", "--source", "fs-json", "--json", str(REPEATED), stdout=out)

        assert json.loads(out.getvalue())["imported"] == 1
        cdr = Cdr.objects.get(source=fs_json)
        assert (cdr.unique_id, cdr.disposition, cdr.billsec, cdr.duration) == (UID, "answered", 90, 96)
        assert cdr.answered_at == datetime(2026, 5, 4, 8, 0, 6, 717006, tzinfo=UTC)
        assert decrypt_number(cdr.src_enc, started_at=cdr.started_at) == "+31205554567"
        assert dst(cdr) == AFTER_TRANSFER

    def test_one_document_per_line_keeps_the_latest_profile_too(self, fs_json):
        text = REPEATED.read_text()
        data = "\n".join([one_line(text, "u-1"), one_line(text, "u-2")]) + "\n"

        result = cdr_bulk_import(source=fs_json, stream=io.BytesIO(data.encode()), file_name="cdrs.ndjson")

        assert (result.status, result.imported) == ("done", 2)
        assert [dst(cdr) for cdr in Cdr.objects.filter(source=fs_json)] == [AFTER_TRANSFER] * 2

    def test_a_pushed_document_keeps_the_latest_profile(self, client, pusher):  # noqa: F811
        response = client.post(URL, data=REPEATED.read_bytes(), content_type="application/json", **auth(pusher))

        assert response.status_code == 201, response.content
        assert dst(Cdr.objects.get(unique_id=UID)) == AFTER_TRANSFER

    def test_another_repeated_key_keeps_its_last_value_as_before(self):
        text = one_line(REPEATED.read_text()).replace('"billsec": "90"', '"billsec": "1", "billsec": "90"')

        (record,) = get_parser("freeswitch-json")(io.BytesIO(text.encode()), tz=ZoneInfo("Europe/Amsterdam"))

        assert (record.billsec, record.dst) == (90, "0612345678")
