"""README "Connecting your switch": mod_xml_cdr pushes into a source of format freeswitch-json, and the CDRs it could
not push land in its err-log-dir as mod_xml_cdr files, to be imported "later with import_cdrs --source fs1 FILE...
(the ones that did arrive count as duplicates)". Those files are XML: the source reads them, and a call that did
arrive is not stored (nor billed) twice."""
from __future__ import annotations

import io
import json

from django.core.management import call_command

from tests.traffic.test_importers_freeswitch_xml import NOLOCAL
from tests.traffic.test_push import URL, auth
from traffic.models import Cdr, Source
from traffic.services.imports import cdr_bulk_import

UID = "0f3a7c52-9d41-4e8b-a6f0-2c5d81b7e903"


def test_the_err_log_files_of_a_pushing_mod_xml_cdr_are_imported_into_its_source(client, db):
    out = io.StringIO()
    call_command("cdr_source", "add", "fs-xml-push", "--format", "freeswitch-json", "--timezone", "Europe/Amsterdam",
                 "--push", stdout=out)
    creds = json.loads(out.getvalue().strip().splitlines()[-1])
    source = Source.objects.get(name="fs-xml-push")
    arrived = NOLOCAL.read_bytes()
    response = client.post(URL, data=arrived, content_type="text/xml", **auth(creds))
    assert response.status_code == 201, response.content
    failed = arrived.replace(UID.encode(), b"0f3a7c52-0000-4e8b-a6f0-000000000009")

    both = cdr_bulk_import(source=source, stream=io.BytesIO(arrived + b"\n" + failed), file_name="err-log.cdr.xml")

    assert (both.status, both.imported, both.duplicates, both.report["rejected"]) == ("done", 1, 1, [])
    assert Cdr.objects.filter(source=source).count() == 2
