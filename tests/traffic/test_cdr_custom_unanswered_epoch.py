"""Asterisk cdr_custom with epoch times (`${CDR(answer,u)}`): main/cdr.c cdr_get_tv writes an unset answer
time in raw mode as "0.000000", so every unanswered call carries it. That call is stored unanswered, not
rejected (a busy or unanswered call must still be kept: retention, the customer's own call list)."""
from __future__ import annotations

import io

from tests.traffic.test_cdr_layouts import HIRES
from traffic.models import Cdr
from traffic.services.imports import cdr_bulk_import
from traffic.services.sources import source_create

UNANSWERED = ('"""Piet"" <0205554567>","0205554567","0699991234","default","SIP/alice-0000000c","SIP/kpn-0000000d",'
              '"Dial","SIP/kpn/0699991234","1777881700.250000","0.000000","1777881720.250000","20.000",'
              '"0.000","NO ANSWER","DOCUMENTATION","acct7","1777881700.11","",1777881700.11,13\n')


def test_an_unanswered_call_with_a_raw_zero_answer_time_is_stored_unanswered(db):
    source = source_create(name="pbx-hires-na", format="asterisk-custom", timezone="Europe/Amsterdam",
                           columns=HIRES)
    done = cdr_bulk_import(source=source, stream=io.BytesIO(UNANSWERED.encode()), file_name="Master.csv")
    assert (done.status, done.imported, done.report.get("rejected")) == ("done", 1, []), done.error
    cdr = Cdr.objects.get(source=source)
    assert (cdr.disposition, cdr.billsec, cdr.answered_at, cdr.price) == ("no_answer", 0, None, 0)
