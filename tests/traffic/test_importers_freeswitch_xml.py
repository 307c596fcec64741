"""FreeSWITCH mod_xml_cdr: a channel variable whose name has a prefix (`<nolocal:req_uuid>`) is read like
any other, and what the XML reader refuses (DTDs, entity declarations, external entities) stays refused.

fixtures/freeswitch_xml_cdr_nolocal_variable.xml is written here, shaped like a real FreeSWITCH 1.6.20
mod_xml_cdr document (an answered call of 263 s with `export nolocal:req_uuid=${uuid}` in its dialplan)
that a load-test script posts; that document was refused whole before the reader ignored namespaces."""
from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.core.management import call_command

from tests.traffic.test_push import URL, auth, pusher  # noqa: F401  (pusher: a fixture)
from traffic.importers import freeswitch_xml
from traffic.importers.freeswitch_xml import BAD_DOCUMENT, DTD_REFUSED
from traffic.keys import decrypt_number
from traffic.models import Cdr
from traffic.services.imports import cdr_bulk_import
from traffic.services.sources import source_create

FIXTURES = Path(__file__).parent / "fixtures"
NOLOCAL = FIXTURES / "freeswitch_xml_cdr_nolocal_variable.xml"


@pytest.fixture
def fs_xml(db):
    return source_create(name="fs-xml", format="freeswitch-xml", timezone="Europe/Amsterdam")


def import_text(source, text: str):
    return cdr_bulk_import(source=source, stream=io.BytesIO(text.encode()), file_name="cdr.xml")


def number(cdr: Cdr, field: str) -> str:
    return decrypt_number(getattr(cdr, field), started_at=cdr.started_at)


class PrefixedVariableTests:
    def test_import_cdrs_stores_the_answered_call_of_a_document_with_a_nolocal_variable(self, fs_xml):
        out = io.StringIO()
        call_command("import_cdrs", "--source", "fs-xml", "--json", str(NOLOCAL), stdout=out)

        summary = json.loads(out.getvalue())
        assert (summary["imported"], summary["rejected"]) == (1, [])
        cdr = Cdr.objects.get(source=fs_xml)
        assert (cdr.unique_id, cdr.disposition, cdr.billsec, cdr.duration) == (
            "0f3a7c52-9d41-4e8b-a6f0-2c5d81b7e903", "answered", 263, 264)
        assert cdr.answered_at == datetime(2026, 5, 4, 8, 0, 1, 993409, tzinfo=UTC)
        assert (number(cdr, "src_enc"), number(cdr, "dst_enc")) == ("+31205554567", "+31612345678")

    def test_a_collector_file_of_such_documents_is_stored_whole(self, fs_xml):
        document = NOLOCAL.read_text().split("?>", 1)[1]
        other = document.replace("0f3a7c52-9d41-4e8b-a6f0-2c5d81b7e903", "0f3a7c52-0000-4e8b-a6f0-000000000002")

        result = import_text(fs_xml, document + other)

        assert (result.status, result.imported, result.report["rejected"]) == ("done", 2, [])


class RefusalTests:
    """What the reader refused when it was defusedxml's, it still refuses."""

    @pytest.mark.parametrize("prolog", [
        '<!DOCTYPE cdr [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>',  # expansion
        '<!DOCTYPE cdr [<!ENTITY leak SYSTEM "file:///etc/passwd">]>',  # external entity
        '<!DOCTYPE cdr SYSTEM "http://192.0.2.1/cdr.dtd">',  # external DTD
        '<!DOCTYPE cdr [<!ENTITY % remote SYSTEM "http://192.0.2.1/x.dtd"> %remote;]>',  # parameter entity
    ])
    def test_a_file_with_a_document_type_declaration_is_refused_whole(self, fs_xml, prolog):
        refused = import_text(fs_xml, NOLOCAL.read_text().replace("?>", "?>" + prolog, 1))

        assert (refused.status, refused.imported) == ("failed", 0) and DTD_REFUSED in refused.error
        assert not Cdr.objects.exists()

    def test_an_entity_reference_is_that_documents_error_and_never_expanded(self, fs_xml):
        good = NOLOCAL.read_text().split("?>", 1)[1].lstrip()
        bad = good.replace("0f3a7c52-9d41-4e8b-a6f0-2c5d81b7e903", "u-entity").replace(
            "<billsec>263</billsec>", "<billsec>&leak;</billsec>")

        result = import_text(fs_xml, good + bad)

        assert (result.status, result.imported) == ("done", 1)
        assert [(r["line"], r["reason"]) for r in result.report["rejected"]] == [
            (good.count("\n") + 1, BAD_DOCUMENT)]
        assert not Cdr.objects.filter(unique_id="u-entity").exists()

    def test_predefined_entities_and_character_references_are_still_read(self, fs_xml):
        document = NOLOCAL.read_text().replace(
            "<caller_id_name>0205554567</caller_id_name>", "<caller_id_name>Jansen &amp; Zn&#46;</caller_id_name>")

        assert import_text(fs_xml, document).imported == 1

        cdr = Cdr.objects.get(source=fs_xml)
        assert number(cdr, "caller_name_enc") == "Jansen & Zn."

    @pytest.mark.parametrize("document", [
        '<!DOCTYPE cdr [<!ENTITY x "y">]><cdr><variables><a>&x;</a></variables></cdr>',
        '<!DOCTYPE cdr [<!ENTITY leak SYSTEM "file:///etc/passwd">]><cdr><a>&leak;</a></cdr>',
        '<!DOCTYPE cdr [<!ENTITY % remote SYSTEM "http://192.0.2.1/x.dtd"> %remote;]><cdr/>',
        '<!DOCTYPE cdr [<!ENTITY logo SYSTEM "logo.png" NDATA png><!NOTATION png SYSTEM "png">]><cdr/>',
        '<!DOCTYPE cdr SYSTEM "http://192.0.2.1/cdr.dtd"><cdr/>',
        '<!DOCTYPE cdr><cdr/>',
        '<cdr><a>&leak;</a></cdr>',
    ])
    def test_the_reader_itself_refuses_dtds_and_entities_not_only_the_check_before_it(self, document):
        # parse() refuses "<!DOCTYPE" before reading; the reader must not rely on that check alone, so that
        # a caller handing it a document directly is as safe.
        with pytest.raises(freeswitch_xml.UnreadableXml):
            freeswitch_xml.element_tree(document)


class PushedTests:
    def test_a_pushed_document_with_a_nolocal_variable_is_stored(self, client, pusher):  # noqa: F811
        # mod_xml_cdr `encode` textxml: the XML alone. The push read it with its own parser, which refused it.
        response = client.post(URL, data=NOLOCAL.read_bytes(), content_type="text/xml", **auth(pusher))

        assert response.status_code == 201, response.content
        cdr = Cdr.objects.get(unique_id="0f3a7c52-9d41-4e8b-a6f0-2c5d81b7e903")
        assert (cdr.billsec, number(cdr, "dst_enc")) == (263, "+31612345678")

    def test_a_pushed_document_type_declaration_is_still_refused(self, client, pusher):  # noqa: F811
        body = b'<?xml version="1.0"?><!DOCTYPE cdr [<!ENTITY x "y">]><cdr><variables/></cdr>'
        response = client.post(URL, data=body, content_type="text/xml", **auth(pusher))
        assert response.status_code == 400 and not Cdr.objects.exists()
