"""A collector's file of mod_xml_cdr documents in which one document was cut off (the switch or the collector
stopped mid-write, and the next CDR was appended after it): that document is rejected at its line, and the
documents after it still land, as a broken row of a CSV file costs only itself."""
from __future__ import annotations

import pytest

from tests.traffic.test_importers_freeswitch_xml import NOLOCAL, import_text
from traffic.importers.freeswitch_xml import BAD_DOCUMENT
from traffic.models import Cdr
from traffic.services.sources import source_create

UID = "0f3a7c52-9d41-4e8b-a6f0-2c5d81b7e903"


@pytest.fixture
def fs_xml(db):
    return source_create(name="fs-xml-cut", format="freeswitch-xml", timezone="Europe/Amsterdam")


def test_a_cut_off_document_is_rejected_and_the_next_one_still_lands(fs_xml):
    document = NOLOCAL.read_text().split("?>", 1)[1].lstrip("\n")
    cut = document[:document.index("</variables>")]  # no </variables>, no </cdr>
    second = document.replace(UID, "0f3a7c52-0000-4e8b-a6f0-000000000002")
    third = document.replace(UID, "0f3a7c52-0000-4e8b-a6f0-000000000003")
    text = document + cut + "\n" + second + third
    cut_line = document.count("\n") + 1

    result = import_text(fs_xml, text)

    assert (result.status, result.imported) == ("done", 3)
    assert result.report["rejected"] == [{"line": cut_line, "reason": BAD_DOCUMENT}]
    assert set(Cdr.objects.filter(source=fs_xml).values_list("unique_id", flat=True)) == {
        UID, "0f3a7c52-0000-4e8b-a6f0-000000000002", "0f3a7c52-0000-4e8b-a6f0-000000000003"}
