"""Every layout a switch writes (issue 11, item 2), each imported twice (the second time stores nothing).

- Asterisk cdr_csv with 16 to 21 columns (cdr/cdr_csv.c: uniqueid and userfield each optional,
  newcdrcolumns appends peeraccount, linkedid, sequence), from the real console Master.csv line of
  ../shared/cdr-samples;
- Asterisk cdr_custom with the operator's mapping line, given to `cdr_source add --columns` exactly as it
  stands in cdr_custom.conf;
- FreeSWITCH mod_cdr_csv with each stock template of cdr_csv.conf.xml by name and with a template string;
- FreeSWITCH mod_xml_cdr documents; Kamailio acc dialog CDRs (syslog lines, acc_cdr.c log_write_cdr);
- a FreeSWITCH call answered and then ended by a non-normal cause is answered and billed."""
from __future__ import annotations

import io
import json
import re
from datetime import UTC, datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tests.traffic.test_importers_samples import sample
from traffic.importers import get_parser
from traffic.importers.layouts import STOCK_TEMPLATES, _variables
from traffic.models import Cdr, Source
from traffic.services.imports import cdr_bulk_import
from traffic.services.sources import source_create

AMS = "Europe/Amsterdam"


def import_twice(source, data: bytes):
    first = cdr_bulk_import(source=source, stream=io.BytesIO(data), file_name="cdr")
    again = cdr_bulk_import(source=source, stream=io.BytesIO(data), file_name="cdr")
    assert (again.imported, again.conflicts) == (0, 0), "a re-import stored rows"
    assert again.duplicates == first.imported
    return first


# --- Asterisk cdr_csv, 16 to 21 columns ---------------------------------------------------------------

def console_fields() -> list[str]:
    """The real Asterisk console call (18 columns: loguniqueid and loguserfield), as fields."""
    line = sample("asterisk_cdr_csv_console_Master.csv").decode().splitlines()[0]
    return next(__import__("csv").reader([line]))


def cdr_csv_line(*, uniqueid: bool, userfield: bool, new: bool) -> str:
    f = console_fields()
    out = f[:16] + ([f[16]] if uniqueid else []) + (["vip"] if userfield else [])
    if new:
        out += ["", "1270167992.0", "7"]  # peeraccount, linkedid, sequence
    return ",".join(f'"{v}"' if i != len(out) - 1 or not new else v for i, v in enumerate(out))


@pytest.mark.parametrize("uniqueid,userfield,new,width", [
    (False, False, False, 16), (True, False, False, 17), (False, True, False, 17), (True, True, False, 18),
    (False, False, True, 19), (True, False, True, 20), (False, True, True, 20), (True, True, True, 21),
])
def test_cdr_csv_of_every_width_is_read_with_its_ids(db, uniqueid, userfield, new, width):
    line = cdr_csv_line(uniqueid=uniqueid, userfield=userfield, new=new)
    assert len(next(__import__("csv").reader([line]))) == width
    (record,) = list(get_parser("asterisk-csv")(io.BytesIO(line.encode()), tz=UTC))
    assert (record.duration, record.billsec, record.disposition) == (7, 7, "answered")
    assert record.unique_id == "1270167992.0" if uniqueid else record.unique_id.startswith("h:")
    assert record.leg == ("seq:7" if new else "")
    assert record.call_id == ("1270167992.0" if new or uniqueid else record.unique_id)
    source = source_create(name=f"pbx-{width}-{int(uniqueid)}{int(userfield)}", format="asterisk-csv", timezone=AMS)
    assert import_twice(source, (line + "\n").encode()).imported == 1


def test_a_whole_21_column_file_lands(db):
    lines = [cdr_csv_line(uniqueid=True, userfield=True, new=True).replace('"1270167992.0"', f'"1270167992.{n}"', 1)
             .replace(",7\n", f",{n}\n") for n in range(5)]
    source = source_create(name="pbx-21", format="asterisk-csv", timezone=AMS)
    first = import_twice(source, ("\n".join(lines) + "\n").encode())
    assert (first.status, first.imported, first.report["rejected"]) == ("done", 5, [])


# --- Asterisk cdr_custom with the operator's mapping ----------------------------------------------------

HIRES = ("Master.csv => ${CSV_QUOTE(${CDR(clid)})},${CSV_QUOTE(${CDR(src)})},${CSV_QUOTE(${CDR(dst)})},"
         "${CSV_QUOTE(${CDR(dcontext)})},${CSV_QUOTE(${CDR(channel)})},${CSV_QUOTE(${CDR(dstchannel)})},"
         "${CSV_QUOTE(${CDR(lastapp)})},${CSV_QUOTE(${CDR(lastdata)})},${CSV_QUOTE(${CDR(start,u)})},"
         "${CSV_QUOTE(${CDR(answer,u)})},${CSV_QUOTE(${CDR(end,u)})},${CSV_QUOTE(${CDR(duration,f)})},"
         "${CSV_QUOTE(${CDR(billsec,f)})},${CSV_QUOTE(${CDR(disposition)})},${CSV_QUOTE(${CDR(amaflags)})},"
         "${CSV_QUOTE(${CDR(accountcode)})},${CSV_QUOTE(${CDR(uniqueid)})},${CSV_QUOTE(${CDR(userfield)})},"
         "${CDR(linkedid)},${CDR(sequence)}")


def test_cdr_source_add_takes_the_mapping_line_as_it_stands_in_cdr_custom_conf(db):
    out = StringIO()
    call_command("cdr_source", "add", "pbx-hires", "--format", "asterisk-custom", "--timezone", AMS,
                 "--columns", HIRES, stdout=out)
    source = Source.objects.get(name="pbx-hires")
    assert source.columns == HIRES
    line = ('"""Piet"" <0205554567>","0205554567","0612345678","default","SIP/alice-0000000a","SIP/kpn-0000000b",'
            '"Dial","SIP/kpn/0612345678","1777881600.250000","1777881606.500000","1777881650.100000","49.850",'
            '"43.600","ANSWERED","DOCUMENTATION","acct7","1777881600.10","",1777881600.10,12\n')
    first = import_twice(source, line.encode())
    cdr = Cdr.objects.get(source=source)
    assert (first.imported, cdr.leg, cdr.billsec, cdr.duration, cdr.account_code) == (1, "seq:12", 44, 50, "acct7")
    assert cdr.started_at == datetime(2026, 5, 4, 8, 0, 0, 250000, tzinfo=UTC)  # an epoch: UTC, not local


def test_a_mapping_without_a_start_time_is_refused_naming_the_columns(db):
    with pytest.raises(CommandError, match="^columns: .*no start"):
        call_command("cdr_source", "add", "pbx-bad", "--format", "asterisk-custom", "--timezone", AMS,
                     "--columns", "Master.csv => ${CSV_QUOTE(${CDR(clid)})},${CDR(billsec)}")
    assert not Source.objects.filter(name="pbx-bad").exists()


# --- FreeSWITCH mod_cdr_csv: stock templates and a template string -----------------------------------------

CALL = {
    "caller_id_name": "Piet", "caller_id_number": "0205554567", "ani": "0205554567", "destination_number": "0612345678",
    "context": "default", "caller_id": '"Piet" <0205554567>', "start_stamp": "2026-05-04 10:00:00",
    "answer_stamp": "2026-05-04 10:00:05", "end_stamp": "2026-05-04 10:01:05", "duration": "65", "billsec": "60",
    "hangup_cause": "NORMAL_CLEARING", "uuid": "a7f3e8f2-1c36-4f0c-9a55-7c3e2b1d0e01", "bleg_uuid": "", "accountcode": "",
}


def fill(template: str, values: dict[str, str]) -> str:
    out, last = [], 0
    for start, end, inner in _variables(template):
        out += [template[last:start], values.get(inner, "x" if "(" in inner else "")]
        last = end
    return "".join(out + [template[last:]])


@pytest.mark.parametrize("name", sorted(STOCK_TEMPLATES))
def test_each_stock_template_is_read_by_name(db, name):
    source = source_create(name=f"fs-{name}", format="freeswitch-csv", timezone=AMS, columns=name)
    lines = [fill(STOCK_TEMPLATES[name], dict(CALL, uuid=CALL["uuid"][:-2] + f"{n:02d}")) for n in range(3)]
    first = import_twice(source, ("\n".join(lines) + "\n").encode())
    assert (first.imported, first.report["rejected"]) == (3, [])
    cdr = Cdr.objects.filter(source=source).first()
    assert (cdr.disposition, cdr.billsec, cdr.rating != "pending") == ("answered", 60, True)


def test_a_template_string_from_cdr_csv_conf_xml_is_read(db):
    template = '${uuid}|${call_uuid}|${caller_id_number}|${destination_number}|${start_epoch}|${answer_epoch}|' \
               '${end_epoch}|${billsec}|${hangup_cause}'
    source = source_create(name="fs-pipes", format="freeswitch-csv", timezone=AMS, columns=template)
    line = "b-leg-1|a-leg-1|0205554567|0612345678|1777881600|1777881605|1777881665|60|NORMAL_CLEARING\n"
    first = import_twice(source, line.encode())
    cdr = Cdr.objects.get(source=source)
    assert (first.imported, cdr.unique_id, cdr.call_id, cdr.billsec) == (1, "b-leg-1", "a-leg-1", 60)


NON_NORMAL = ("SYSTEM_SHUTDOWN", "MEDIA_TIMEOUT", "ALLOTTED_TIMEOUT", "RECOVERY_ON_TIMER_EXPIRE",
              "NORMAL_TEMPORARY_FAILURE", "DESTINATION_OUT_OF_ORDER", "LOSE_RACE")


@pytest.mark.parametrize("cause", NON_NORMAL)
def test_a_freeswitch_call_answered_then_ended_by_a_non_normal_cause_is_answered_and_billed(db, cause):
    source = source_create(name=f"fs-{cause.lower().replace('_', '-')}", format="freeswitch-csv", timezone=AMS)
    talked = fill(STOCK_TEMPLATES["example"], dict(CALL, hangup_cause=cause, billsec="3600", duration="3605",
                                                  end_stamp="2026-05-04 11:00:05"))
    never = fill(STOCK_TEMPLATES["example"], dict(CALL, hangup_cause=cause, uuid="u-2", answer_stamp="", billsec="0"))
    import_twice(source, (talked + "\n" + never + "\n").encode())
    answered = Cdr.objects.get(source=source, unique_id=CALL["uuid"])
    assert (answered.disposition, answered.billsec) == ("answered", 3600)
    assert Cdr.objects.get(source=source, unique_id="u-2").disposition != "answered"


@pytest.mark.parametrize("cause", NON_NORMAL)
def test_mod_json_cdr_answered_then_ended_by_a_non_normal_cause_is_answered(cause):
    doc = json.loads(sample("freeswitch_json_cdr_cgrates_fixture.json"))
    doc["variables"]["hangup_cause"] = cause
    (record,) = list(get_parser("freeswitch-json")(io.BytesIO(json.dumps(doc).encode()), tz=UTC))
    assert (record.disposition, record.billsec) == ("answered", 68)


# --- FreeSWITCH mod_xml_cdr --------------------------------------------------------------------------------

def xml_cdr(uuid: str, cause: str = "MEDIA_TIMEOUT") -> str:
    return f"""<?xml version="1.0"?>
<cdr core-uuid="4b2e9a4c-7b1e-4c62-8d2b-3a1d9e0f5c11" switchname="fs1">
  <channel_data><state>CS_REPORTING</state><direction>inbound</direction></channel_data>
  <variables>
    <uuid>{uuid}</uuid><call_uuid>{uuid}</call_uuid><sip_call_id>a84b4c76e66710%40pc33</sip_call_id>
    <caller_id_name>Piet%20Jansen</caller_id_name><caller_id_number>0205554567</caller_id_number>
    <start_epoch>1777881600</start_epoch><answer_epoch>1777881605</answer_epoch><end_epoch>1777881665</end_epoch>
    <start_uepoch>1777881600000000</start_uepoch><answer_uepoch>1777881605000000</answer_uepoch>
    <end_uepoch>1777881665000000</end_uepoch><duration>65</duration><billsec>60</billsec>
    <hangup_cause>{cause}</hangup_cause>
  </variables>
  <callflow dialplan="XML" profile_index="1">
    <caller_profile><username>1000</username><caller_id_number>0205554567</caller_id_number>
      <destination_number>0612345678</destination_number><uuid>{uuid}</uuid></caller_profile>
  </callflow>
</cdr>
"""


def test_mod_xml_cdr_documents_are_read(db):
    source = source_create(name="fs-xml", format="freeswitch-xml", timezone=AMS)
    one = xml_cdr("6d2c0a1e-0000-4000-8000-000000000001")
    data = (one + xml_cdr("6d2c0a1e-0000-4000-8000-000000000002")).encode()
    first = import_twice(source, data)
    assert first.imported == 2
    records = list(get_parser("freeswitch-xml")(io.BytesIO(data), tz=UTC))
    second = 2 + one.count("\n")  # each record's line is where its <cdr> starts
    assert [(r.line, r.dst, r.caller_name, r.disposition, r.billsec, r.sip_call_id) for r in records] == [
        (2, "0612345678", "Piet Jansen", "answered", 60, "a84b4c76e66710@pc33"),
        (second, "0612345678", "Piet Jansen", "answered", 60, "a84b4c76e66710@pc33")]


def test_an_xml_cdr_with_a_document_type_declaration_is_refused_whole(db):
    source = source_create(name="fs-xml-dtd", format="freeswitch-xml", timezone=AMS)
    data = '<?xml version="1.0"?><!DOCTYPE cdr [<!ENTITY x "y">]>' + xml_cdr("u-1").split("?>", 1)[1]
    refused = cdr_bulk_import(source=source, stream=io.BytesIO(data.encode()), file_name="cdr.xml")
    assert (refused.status, refused.imported) == ("failed", 0) and "document type declaration" in refused.error


# --- Kamailio acc dialog CDRs --------------------------------------------------------------------------------

KAMAILIO = """Dec  4 10:00:00 sip1 kamailio[812]: INFO: <script>: new call
May  4 10:01:05 sip1 kamailio[812]: NOTICE: acc [acc_cdr.c:255]: start_time=1777881605.120000; end_time=1777881665.730000; duration=60.610000; callid=a84b4c76e66710@pc33; src_user=0205550101; dst_user=0612345678
May  4 10:02:00 sip1 kamailio[812]: NOTICE: acc [acc_cdr.c:255]: start_time=1777881720.000000; end_time=1777881720.000000; duration=0.000000; callid=b99@pc33; src_user=0205550101; dst_user=0612345678; sip_code=486
"""


CONFIRMED = 'modparam("acc", "cdr_enable", 1)\nmodparam("acc", "cdr_start_on_confirmed", 1)'


def test_kamailio_acc_cdr_lines_are_read_and_other_syslog_lines_skipped(db):
    source = source_create(name="kam-acc", format="kamailio-acc", timezone=AMS, columns=CONFIRMED)
    first = import_twice(source, KAMAILIO.encode())
    assert (first.imported, first.report["rejected"]) == (2, [])
    answered, busy = Cdr.objects.filter(source=source).order_by("started_at")
    assert (answered.disposition, answered.billsec, answered.duration) == ("answered", 61, 61)
    assert answered.started_at == datetime(2026, 5, 4, 8, 0, 5, 120000, tzinfo=UTC)
    assert (busy.disposition, busy.billsec) == ("busy", 0)
    assert re.fullmatch(r"kc:[0-9a-f]{24}", answered.unique_id)  # the Call-ID may hold a host: hashed


# Kamailio's default, cdr_start_on_confirmed=0: start_time is the INVITE (acc_cdr.c set_start_time on the
# dialog's creation), so duration holds the ringing: 20 s ringing, 40 s talked, in both lines below.
RINGING = """May  4 10:01:25 sip1 kamailio[812]: NOTICE: acc [acc_cdr.c:255]: start_time=1777881600.000000; end_time=1777881660.000000; duration=60.000000; callid=ring1@pc33; src_user=0205550101; dst_user=0612345678
May  4 10:03:25 sip1 kamailio[812]: NOTICE: acc [acc_cdr.c:255]: start_time=1777881720.000000; end_time=1777881780.000000; duration=60.000000; callid=ring2@pc33; src_user=0205550101; dst_user=0612345678; answer_time=1777881740.000000
"""


@pytest.fixture
def mobile_tariff(db):
    from datetime import date
    from decimal import Decimal

    from traffic.models import Tariff

    Tariff.objects.create(prefix="316", zone="NL mobile", price_per_minute=Decimal("0.12"), valid_from=date(2020, 1, 1))


def test_kamailio_acc_at_its_default_never_bills_the_ringing(alice, mobile_tariff):
    source = source_create(name="kam-default", format="kamailio-acc", timezone=AMS)  # nothing declared: defaults
    first = import_twice(source, RINGING.encode())
    assert (first.imported, first.flagged) == (2, 1)
    unknown, known = Cdr.objects.filter(source=source).order_by("started_at")
    # no answer time written: the call is kept, started at its INVITE, and not billed a second
    assert unknown.started_at == datetime(2026, 5, 4, 8, 0, 0, tzinfo=UTC)
    assert (unknown.disposition, unknown.duration, unknown.billsec, unknown.answered_at) == ("answered", 60, 0, None)
    assert "answer_time_unknown" in unknown.flags.split(",")
    assert (unknown.account_id, unknown.rating, unknown.price) == (alice.pk, "free", 0)
    # an answer time in cdr_extra: billed the 40 s talked, at the mobile tariff, not the 60 s with ringing
    assert (known.duration, known.billsec, known.flags) == (60, 40, "")
    assert known.answered_at == datetime(2026, 5, 4, 8, 2, 20, tzinfo=UTC)
    assert (known.account_id, known.rating) == (alice.pk, "rated") and known.price > 0


def test_kamailio_acc_with_start_on_confirmed_bills_its_duration(alice, mobile_tariff):
    source = source_create(name="kam-confirmed", format="kamailio-acc", timezone=AMS, columns=CONFIRMED)
    import_twice(source, RINGING.encode())
    first, second = Cdr.objects.filter(source=source).order_by("started_at")
    assert (first.billsec, first.answered_at, first.rating) == (60, first.started_at, "rated")
    assert second.billsec == 60  # start_time is the answer here: answer_time is not needed
    assert first.flags == ""


def test_kamailio_acc_attribute_names_are_the_declared_ones(alice, mobile_tariff):
    columns = ('# acc, as in our kamailio.cfg\nmodparam("acc|dialog", "cdr_start_on_confirmed", 1)\n'
               'modparam("acc", "cdr_start_id", "st")\n'
               'modparam("acc", "cdr_end_id", "et")\nmodparam("acc", "cdr_duration_id", "d");\n'
               'modparam("dialog", "dlg_flag", 4)')
    source = source_create(name="kam-names", format="kamailio-acc", timezone=AMS, columns=columns)
    line = ("May  4 10:01:25 sip1 kamailio[812]: NOTICE: acc [acc_cdr.c:255]: first=1; st=1777881600.000000; "
            "et=1777881645.000000; d=45.000000; callid=n1@pc33; src_user=0205550101; dst_user=0612345678\n")
    first = import_twice(source, line.encode())
    cdr = Cdr.objects.get(source=source)
    assert (first.imported, cdr.billsec, cdr.started_at) == (1, 45, datetime(2026, 5, 4, 8, 0, 0, tzinfo=UTC))


@pytest.mark.parametrize("columns,reason", [
    ('modparam("acc", "cdr_start_on_confirmed", 2)', "cdr_start_on_confirmed is 0 or 1"),
    ('modparam("acc", "cdr_start_id", "")', "cdr_start_id is no attribute name"),
    ("cdr_start_on_confirmed=1", 'line 1 is no modparam("acc", "name", value) line'),
])
def test_a_kamailio_declaration_that_is_not_one_is_refused_naming_the_field(db, columns, reason):
    from voipxs.exceptions import ApplicationError

    with pytest.raises(ApplicationError) as refused:
        source_create(name="kam-bad", format="kamailio-acc", timezone=AMS, columns=columns)
    assert refused.value.extra["field"] == "columns" and reason in refused.value.message
