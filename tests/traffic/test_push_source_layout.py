"""A push is read with its source's declared layout (`--columns`), as a file of that source is: a Kamailio
proxy that declares `cdr_start_on_confirmed` 1 has its pushed calls billed, not stored unbilled."""
from __future__ import annotations

import io
import json

from django.core.management import call_command

from tests.traffic.test_push import URL, auth
from traffic.models import Cdr

START = 1777881600  # 2026-05-04 08:00:00 UTC
KAMAILIO_LINE = (f"May  4 08:01:00 proxy kamailio[812]: NOTICE: acc [acc_cdr.c:255]: start_time={START}.000000; "
                 f"end_time={START + 60}.000000; duration=60.000000; callid=push-kc-1@10.0.0.1; "
                 "src_user=0205550101; dst_user=0699990001; sip_code=200\n")


def _push_source(name: str, *extra: str) -> dict:
    out = io.StringIO()
    call_command("cdr_source", "add", name, *extra, "--timezone", "UTC", "--push", stdout=out)
    return json.loads(out.getvalue().strip().splitlines()[-1])


def test_a_pushed_kamailio_line_is_billed_as_its_sources_modparam_says(client, db):
    creds = _push_source("kam-push", "--format", "kamailio-acc",
                         "--columns", 'modparam("acc", "cdr_start_on_confirmed", 1)')
    response = client.post(URL, data=KAMAILIO_LINE.encode(), content_type="text/plain", **auth(creds))
    assert response.status_code == 201, response.content
    cdr = Cdr.objects.get()
    assert (cdr.disposition, cdr.billsec) == ("answered", 60)
    assert "answer_time_unknown" not in cdr.flags


def test_a_pushed_line_of_the_sources_own_cdr_custom_mapping_is_stored(client, db):
    mapping = ("Master.csv => ${CSV_QUOTE(${CDR(uniqueid)})},${CSV_QUOTE(${CDR(src)})},${CSV_QUOTE(${CDR(dst)})},"
               "${CSV_QUOTE(${CDR(start)})},${CSV_QUOTE(${CDR(answer)})},${CSV_QUOTE(${CDR(end)})},"
               "${CSV_QUOTE(${CDR(duration)})},${CSV_QUOTE(${CDR(billsec)})},${CSV_QUOTE(${CDR(disposition)})}")
    creds = _push_source("ast-custom-push", "--format", "asterisk-custom", "--columns", mapping)
    line = ('"1777881600.7","0205550101","0699990001","2026-05-04 08:00:00","2026-05-04 08:00:05",'
            '"2026-05-04 08:01:06","66","61","ANSWERED"\n')
    response = client.post(URL, data=line.encode(), content_type="text/csv", **auth(creds))
    assert response.status_code == 201, response.content
    cdr = Cdr.objects.get()
    assert (cdr.unique_id, cdr.billsec, cdr.disposition) == ("1777881600.7", 61, "answered")
