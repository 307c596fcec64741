"""FreeSWITCH B legs: a bridged call logged with both legs (mod_cdr_csv `legs="ab"`, mod_json_cdr and
mod_xml_cdr `log-b-leg`) is billed once. FreeSWITCH gives the B leg, and only it, the A leg's uuid in
`originator` (switch_core_session.c, on the outgoing channel) and `originating_leg_uuid` (switch_ivr_originate.c),
and writes the A leg's caller profile into the B leg's callflow (`originator` / `originator_caller_profiles`,
switch_ivr.c). The B leg is a leg of the A leg's call; it is not billed when it carries the A leg's caller (an
outgoing call: the A leg is billed), and billed as itself when it carries another (a forward that shows the
customer's number). These documents are written here in the shape FreeSWITCH writes them; no real B-leg file is
in ../shared/cdr-samples."""
from __future__ import annotations

import io
import json
from datetime import date
from decimal import Decimal

import pytest

from traffic.importers.base import FLAG_BILLED_ON_A_LEG
from traffic.models import Cdr, Tariff
from traffic.selectors.calls import cdr_list
from traffic.services.imports import cdr_bulk_import
from traffic.services.sources import source_create
from voipxs.privacy.purposes import Purpose

A, B = "7f1c2d3e-0000-4000-8000-00000000000a", "7f1c2d3e-0000-4000-8000-00000000000b"
ALICE = "0205550101"  # +31205550101, alice's number (tests/factories.py)
MOBILE = "0612345678"
TEMPLATE = ('"${caller_id_name}","${caller_id_number}","${destination_number}","${context}","${start_stamp}",'
            '"${answer_stamp}","${end_stamp}","${duration}","${billsec}","${hangup_cause}","${uuid}","${bleg_uuid}",'
            '"${accountcode}","${originator}"')


@pytest.fixture
def tariffs(db):
    Tariff.objects.create(prefix="316", zone="NL mobile", price_per_minute=Decimal("0.12"), valid_from=date(2020, 1, 1))


def csv_line(uuid: str, *, caller: str, dst: str, originator: str = "", start: str = "2026-05-04 10:00:00",
             answer: str = "2026-05-04 10:00:05") -> str:
    return (f'"Alice","{caller}","{dst}","default","{start}","{answer}","2026-05-04 10:01:05","65","60",'
            f'"NORMAL_CLEARING","{uuid}","","","{originator}"')


def json_doc(uuid: str, *, caller: str, dst: str, a_leg: str = "", a_caller: str = "") -> dict:
    profile = {"caller_id_number": caller, "destination_number": dst, "uuid": uuid}
    variables = {"uuid": uuid, "call_uuid": a_leg or uuid, "caller_id_number": caller, "destination_number": dst,
                 "start_epoch": "1777881600", "answer_epoch": "1777881605", "end_epoch": "1777881665",
                 "duration": "65", "billsec": "60", "hangup_cause": "NORMAL_CLEARING"}
    if a_leg:
        variables |= {"originator": a_leg, "originating_leg_uuid": a_leg}
        profile["originator"] = {"originator_caller_profiles": [
            {"uuid": a_leg, "caller_id_number": a_caller, "destination_number": dst}]}
    return {"core-uuid": "4b2e9a4c", "switchname": "fs1", "variables": variables,
            "callflow": [{"dialplan": "XML", "profile_index": "1", "caller_profile": profile}]}


def xml_doc(uuid: str, *, caller: str, dst: str, a_leg: str = "", a_caller: str = "") -> str:
    origin = (f"<originator><originator_caller_profile><uuid>{a_leg}</uuid><caller_id_number>{a_caller}"
              f"</caller_id_number></originator_caller_profile></originator>") if a_leg else ""
    b_vars = f"<originator>{a_leg}</originator><originating_leg_uuid>{a_leg}</originating_leg_uuid>" if a_leg else ""
    return f"""<?xml version="1.0"?>
<cdr core-uuid="4b2e9a4c" switchname="fs1">
  <variables><uuid>{uuid}</uuid><call_uuid>{a_leg or uuid}</call_uuid>{b_vars}
    <caller_id_number>{caller}</caller_id_number><destination_number>{dst}</destination_number>
    <start_epoch>1777881600</start_epoch><answer_epoch>1777881605</answer_epoch><end_epoch>1777881665</end_epoch>
    <duration>65</duration><billsec>60</billsec><hangup_cause>NORMAL_CLEARING</hangup_cause></variables>
  <callflow dialplan="XML" profile_index="1">
    <caller_profile><caller_id_number>{caller}</caller_id_number><destination_number>{dst}</destination_number>
      <uuid>{uuid}</uuid>{origin}</caller_profile>
  </callflow>
</cdr>
"""


def imported(source, data: bytes) -> dict[str, Cdr]:
    first = cdr_bulk_import(source=source, stream=io.BytesIO(data), file_name="cdr")
    again = cdr_bulk_import(source=source, stream=io.BytesIO(data), file_name="cdr")
    assert (first.imported, first.report["rejected"], again.imported) == (2, [], 0)
    return {cdr.unique_id: cdr for cdr in Cdr.objects.filter(source=source)}


def assert_billed_once(rows: dict[str, Cdr], alice) -> None:
    assert (rows[A].rating, rows[A].price, rows[A].account_id) == ("rated", Decimal("0.12000"), alice.pk)
    assert (rows[B].rating, rows[B].price) == ("free", 0) and FLAG_BILLED_ON_A_LEG in rows[B].flags.split(",")
    assert (rows[A].call_id or rows[A].unique_id) == rows[B].call_id == A  # "": the call is the leg's own id
    (call,) = cdr_list(actor=alice, purpose=Purpose.SELF_SERVICE).rows  # one call, its two legs, one price
    assert (call.price, call.billsec, len(call.legs)) == (Decimal("0.12000"), 60, 2)


def test_cdr_csv_with_both_legs_bills_an_outgoing_call_once(alice, tariffs):
    source = source_create(name="fs-ab", format="freeswitch-csv", timezone="Europe/Amsterdam", columns=TEMPLATE)
    b_first = [csv_line(B, caller=ALICE, dst=MOBILE, originator=A), csv_line(A, caller=ALICE, dst=MOBILE)]
    assert_billed_once(imported(source, ("\n".join(b_first) + "\n").encode()), alice)


def test_cdr_csv_without_originator_in_the_template_is_read_as_before(alice, tariffs):
    template = TEMPLATE.rsplit(",", 1)[0]  # the stock example's columns: a B leg cannot be told apart
    source = source_create(name="fs-a", format="freeswitch-csv", timezone="Europe/Amsterdam", columns=template)
    line = csv_line(A, caller=ALICE, dst=MOBILE).rsplit(",", 1)[0]
    cdr_bulk_import(source=source, stream=io.BytesIO((line + "\n").encode()), file_name="Master.csv")
    cdr = Cdr.objects.get(source=source)
    assert (cdr.rating, cdr.call_id, cdr.flags) == ("rated", "", "")


@pytest.mark.parametrize("fmt", ["freeswitch-json", "freeswitch-xml"])
def test_a_b_leg_document_with_the_a_legs_caller_is_not_billed_again(alice, tariffs, fmt):
    source = source_create(name=f"fs-{fmt}", format=fmt, timezone="UTC")
    if fmt == "freeswitch-json":
        docs = [json_doc(B, caller=ALICE, dst=MOBILE, a_leg=A, a_caller=ALICE), json_doc(A, caller=ALICE, dst=MOBILE)]
        data = "\n".join(json.dumps(doc) for doc in docs).encode()
    else:
        data = (xml_doc(B, caller=ALICE, dst=MOBILE, a_leg=A, a_caller=ALICE)
                + xml_doc(A, caller=ALICE, dst=MOBILE)).encode()
    assert_billed_once(imported(source, data), alice)


@pytest.mark.parametrize("fmt", ["freeswitch-json", "freeswitch-xml"])
def test_a_forward_that_shows_the_customers_number_bills_its_outgoing_leg(alice, tariffs, fmt):
    """A caller rings alice's number (A leg, incoming: free); the switch forwards it to her mobile with her
    number as caller ID (B leg): the forward is hers to pay, and the two are one call in her history."""
    source = source_create(name=f"fs-fwd-{fmt}", format=fmt, timezone="UTC")
    caller, forward_to = "0687654321", MOBILE
    if fmt == "freeswitch-json":
        docs = [json_doc(A, caller=caller, dst=ALICE),
                json_doc(B, caller=ALICE, dst=forward_to, a_leg=A, a_caller=caller)]
        data = "\n".join(json.dumps(doc) for doc in docs).encode()
    else:
        data = (xml_doc(A, caller=caller, dst=ALICE)
                + xml_doc(B, caller=ALICE, dst=forward_to, a_leg=A, a_caller=caller)).encode()
    rows = imported(source, data)
    assert (rows[A].direction, rows[A].rating, rows[A].account_id) == ("in", "free", alice.pk)
    assert (rows[B].direction, rows[B].rating, rows[B].price) == ("out", "rated", Decimal("0.12000"))
    assert FLAG_BILLED_ON_A_LEG not in rows[B].flags and rows[B].call_id == A
    (call,) = cdr_list(actor=alice, purpose=Purpose.SELF_SERVICE).rows
    assert len(call.legs) == 2
