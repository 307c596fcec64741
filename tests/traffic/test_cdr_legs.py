"""CDR legs (issue 11, item 1), from the Asterisk 12+ CDR specification (asterisk/asterisk main/cdr.c):
a CDR is written per pair of parties, its uniqueid is party A's channel, `sequence` is a global counter
(one per CDR) and `linkedid` is the call. So a ring group gives one CDR per phone rung, all with the
caller's uniqueid, and a Local-channel fork gives CDRs for both halves of each Local channel.

The files below are shaped like what Asterisk 13+ writes for those calls (cdr_csv with loguniqueid,
loguserfield and newcdrcolumns: 21 columns; without newcdrcolumns: 18; cdr_custom with the operator's
mapping). Every leg is stored once, the answered one whatever its place in the file; importing the file
again stores nothing; the customer's call list shows one call with its legs; a Local-channel hop is not
billed beside its other half."""
from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection

from tests.factories import verified_client
from traffic.importers.base import FLAG_LOCAL_HOP
from traffic.models import Cdr, Tariff
from traffic.selectors.calls import cdr_list
from traffic.services.imports import cdr_bulk_import
from traffic.services.sources import source_create
from voipxs.privacy.purposes import Purpose

UID = "1777881600.33"  # the caller's channel: every leg of the ring group carries it


def csv21(dst_channel: str, *, answer: str, end: str, duration: int, billsec: int, disposition: str,
          sequence: int, uid: str = UID, linkedid: str = UID, channel: str = "SIP/kpn-00000021",
          src: str = "0205554567", dst: str = "0205550101", clid: str = '"""Jan Jansen"" <0205554567>"') -> str:
    """One cdr_csv line with loguniqueid, loguserfield and newcdrcolumns (21 columns)."""
    return (f'"","{src}","{dst}","from-trunk",{clid},"{channel}","{dst_channel}","Dial",'
            f'"SIP/201&SIP/202&SIP/203,20","2026-05-04 10:00:00","{answer}","{end}",{duration},{billsec},'
            f'"{disposition}","DOCUMENTATION","{uid}","","","{linkedid}",{sequence}')


def ring_group() -> list[str]:
    """Dial(SIP/201&SIP/202&SIP/203,20): 202 answers after 6 s and talks 17 s; 201 and 203 rang 6 s."""
    return [
        csv21("SIP/201-00000022", answer="", end="2026-05-04 10:00:06", duration=6, billsec=0,
              disposition="NO ANSWER", sequence=40),
        csv21("SIP/202-00000023", answer="2026-05-04 10:00:06", end="2026-05-04 10:00:23", duration=23,
              billsec=17, disposition="ANSWERED", sequence=41),
        csv21("SIP/203-00000024", answer="", end="2026-05-04 10:00:06", duration=6, billsec=0,
              disposition="NO ANSWER", sequence=42),
    ]


def eighteen(line: str) -> str:
    """The same line as cdr_csv writes it without newcdrcolumns (no peeraccount, linkedid, sequence)."""
    return line.rsplit(",", 3)[0]


def text(lines: list[str]) -> bytes:
    return ("\n".join(lines) + "\n").encode()


def import_file(source, data: bytes):
    return cdr_bulk_import(source=source, stream=io.BytesIO(data), file_name="Master.csv")


def calls_of(user) -> list:
    return cdr_list(actor=user, purpose=Purpose.SELF_SERVICE).rows


@pytest.fixture
def pbx(db):
    return source_create(name="pbx-legs", format="asterisk-csv", timezone="Europe/Amsterdam")


class RingGroupTests:
    def test_every_leg_is_stored_and_the_answered_one_is_billed(self, pbx, alice):
        first = import_file(pbx, text(ring_group()))
        assert (first.status, first.imported, first.duplicates, first.conflicts) == ("done", 3, 0, 0)
        legs = Cdr.objects.filter(source=pbx).order_by("leg")
        assert [(c.leg, c.disposition, c.billsec) for c in legs] == [
            ("seq:40", "no_answer", 0), ("seq:41", "answered", 17), ("seq:42", "no_answer", 0)]
        assert {c.unique_id for c in legs} == {UID} and {c.call_id for c in legs} == {""}  # the call is the uniqueid

    def test_the_customer_sees_one_call_with_its_three_legs(self, pbx, alice):
        import_file(pbx, text(ring_group()))
        (call,) = calls_of(alice)
        assert (call.disposition, call.billsec, call.other_number, call.caller_name) == (
            "answered", 17, "+31205554567", "Jan Jansen")
        assert [(leg.disposition, leg.billsec) for leg in call.legs] == [
            ("no_answer", 0), ("answered", 17), ("no_answer", 0)]

    def test_the_call_history_page_and_the_api_show_the_legs_under_the_call(self, pbx, alice, client):
        import_file(pbx, text(ring_group()))
        signed_in = verified_client(client, alice)
        body = signed_in.get("/calls/").content.decode()
        assert body.count('<tr class="leg">') == 3 and "leg 2 of 3" in body
        (result,) = signed_in.get("/api/v1/me/calls/").json()["results"]
        assert (result["billsec"], [leg["billsec"] for leg in result["legs"]]) == (17, [0, 17, 0])

    def test_importing_the_file_again_stores_nothing(self, pbx, alice):
        import_file(pbx, text(ring_group()))
        again = import_file(pbx, text(ring_group()))
        assert (again.imported, again.duplicates, again.conflicts) == (0, 3, 0)
        assert Cdr.objects.filter(source=pbx).count() == 3

    def test_a_leg_stored_before_legs_existed_is_a_duplicate_not_a_second_row(self, pbx, alice):
        import_file(pbx, text(ring_group()))
        Cdr.objects.filter(source=pbx, leg="seq:41").update(leg="")  # as migration 0009 left older rows
        again = import_file(pbx, text(ring_group()))
        assert (again.imported, again.duplicates, again.conflicts) == (0, 3, 0)

    def test_without_sequence_the_destination_channel_tells_the_legs_apart(self, pbx, alice):
        first = import_file(pbx, text([eighteen(line) for line in ring_group()]))
        assert (first.imported, first.conflicts) == (3, 0)
        legs = list(Cdr.objects.filter(source=pbx))
        assert all(c.leg.startswith("ch:") for c in legs) and len({c.leg for c in legs}) == 3
        assert "SIP/20" not in "".join(c.leg for c in legs)  # a channel name may hold a number: hashed
        again = import_file(pbx, text([eighteen(line) for line in ring_group()]))
        assert (again.imported, again.duplicates) == (0, 3)
        (call,) = calls_of(alice)
        assert (call.billsec, len(call.legs)) == (17, 3)

    def test_the_same_leg_with_other_figures_is_a_conflict_not_a_new_row(self, pbx, alice):
        import_file(pbx, text(ring_group()))
        changed = ring_group()
        changed[1] = changed[1].replace(",23,17,", ",23,16,")
        again = import_file(pbx, text(changed))
        assert (again.imported, again.duplicates, again.conflicts) == (0, 2, 1)
        assert again.report["conflicts"] == [{"line": 2, "unique_id": UID}]
        assert Cdr.objects.get(source=pbx, leg="seq:41").billsec == 17


FORK_MAPPING = ("Master.csv => ${CSV_QUOTE(${CDR(clid)})},${CSV_QUOTE(${CDR(src)})},${CSV_QUOTE(${CDR(dst)})},"
                "${CSV_QUOTE(${CDR(dcontext)})},${CSV_QUOTE(${CDR(channel)})},${CSV_QUOTE(${CDR(dstchannel)})},"
                "${CSV_QUOTE(${CDR(lastapp)})},${CSV_QUOTE(${CDR(lastdata)})},${CSV_QUOTE(${CDR(start)})},"
                "${CSV_QUOTE(${CDR(answer)})},${CSV_QUOTE(${CDR(end)})},${CSV_QUOTE(${CDR(duration)})},"
                "${CSV_QUOTE(${CDR(billsec)})},${CSV_QUOTE(${CDR(disposition)})},${CSV_QUOTE(${CDR(amaflags)})},"
                "${CSV_QUOTE(${CDR(accountcode)})},${CSV_QUOTE(${CDR(uniqueid)})},${CSV_QUOTE(${CDR(userfield)})},"
                "${CSV_QUOTE(${CDR(linkedid)})},${CDR(sequence)}")
CALLER = "1777881700.50"  # SIP/kpn-00000030, the caller


def custom(uid: str, channel: str, dst: str, dst_channel: str, *, answer: str, end: str, duration: int,
           billsec: int, disposition: str, sequence: int, src: str = "0205554567") -> str:
    return (f'"""Jan Jansen"" <0205554567>","{src}","{dst}","followme","{channel}","{dst_channel}","Dial",'
            f'"Local/201@phones&Local/202@phones","2026-05-04 10:01:40","{answer}","{end}","{duration}",'
            f'"{billsec}","{disposition}","DOCUMENTATION","","{uid}","","{CALLER}",{sequence}')


def local_fork() -> list[str]:
    """Dial(Local/201@phones&Local/202@phones) on alice's number; each Local channel's ;2 half dials a
    phone. The caller's two legs come first; the legs of the ;2 halves after them, in the order they
    ended, so the answered one (202 after 5 s, 40 s of talk) is the LAST line of the file."""
    return [
        custom(CALLER, "SIP/kpn-00000030", "0205550101", "Local/201@phones-00000007;1", answer="",
               end="2026-05-04 10:01:45", duration=5, billsec=0, disposition="NO ANSWER", sequence=70),
        custom(CALLER, "SIP/kpn-00000030", "0205550101", "Local/202@phones-00000008;1",
               answer="2026-05-04 10:01:45", end="2026-05-04 10:02:25", duration=45, billsec=40,
               disposition="ANSWERED", sequence=71),
        custom("1777881700.52", "Local/201@phones-00000007;2", "201", "SIP/201-00000031", answer="",
               end="2026-05-04 10:01:45", duration=5, billsec=0, disposition="NO ANSWER", sequence=73),
        custom("1777881700.54", "Local/202@phones-00000008;2", "202", "SIP/202-00000032",
               answer="2026-05-04 10:01:45", end="2026-05-04 10:02:25", duration=45, billsec=40,
               disposition="ANSWERED", sequence=75),
    ]


class LocalChannelForkTests:
    @pytest.fixture
    def followme(self, db):
        return source_create(name="pbx-followme", format="asterisk-custom", timezone="Europe/Amsterdam",
                             columns=FORK_MAPPING)

    def test_the_answered_leg_written_last_is_kept_with_every_other_leg_of_the_call(self, followme, alice):
        first = import_file(followme, text(local_fork()))
        assert (first.status, first.imported, first.conflicts) == ("done", 4, 0)
        last = Cdr.objects.get(source=followme, leg="seq:75")
        assert (last.unique_id, last.call_id, last.disposition, last.billsec) == (
            "1777881700.54", CALLER, "answered", 40)
        keys = {(c.call_id or c.unique_id) for c in Cdr.objects.filter(source=followme)}
        assert keys == {CALLER}  # one call: the ;2 halves carry the caller's linkedid
        again = import_file(followme, text(local_fork()))
        assert (again.imported, again.duplicates, again.conflicts) == (0, 4, 0)

    def test_the_customer_sees_one_answered_call_with_its_legs(self, followme, alice):
        import_file(followme, text(local_fork()))
        (call,) = calls_of(alice)  # the ;2 halves ring extensions 201/202: no number of hers, not her rows
        assert (call.disposition, call.billsec, call.direction) == ("answered", 40, "in")
        assert [leg.disposition for leg in call.legs] == ["no_answer", "answered"]

    def test_an_outgoing_call_through_a_local_channel_is_billed_once(self, db, alice):
        Tariff.objects.create(prefix="316", zone="NL mobile", price_per_minute=Decimal("0.12"), valid_from=date(2020, 1, 1))
        source = source_create(name="pbx-out", format="asterisk-custom", timezone="Europe/Amsterdam", columns=FORK_MAPPING)
        hop = custom("1777881800.60", "SIP/alice-00000040", "0612345678", "Local/0612345678@out-00000009;1",
                     answer="2026-05-04 10:01:45", end="2026-05-04 10:02:45", duration=65, billsec=60,
                     disposition="ANSWERED", sequence=80, src="0205550101").replace(CALLER, "1777881800.60")
        trunk = custom("1777881800.62", "Local/0612345678@out-00000009;2", "0612345678", "SIP/kpn-00000041",
                       answer="2026-05-04 10:01:45", end="2026-05-04 10:02:45", duration=65, billsec=60,
                       disposition="ANSWERED", sequence=81, src="0205550101").replace(CALLER, "1777881800.60")
        assert import_file(source, text([hop, trunk])).imported == 2
        rows = {c.leg: c for c in Cdr.objects.filter(source=source)}
        assert (rows["seq:80"].rating, FLAG_LOCAL_HOP in rows["seq:80"].flags) == ("free", True)
        assert (rows["seq:81"].rating, rows["seq:81"].price) == ("rated", Decimal("0.12000"))
        (call,) = calls_of(alice)
        assert (call.price, call.billsec, len(call.legs)) == (Decimal("0.12000"), 60, 2)


class DisclosureLegTests:
    def test_the_package_rows_of_one_call_share_its_call(self, pbx, alice):
        from disclosures.selectors import Interval, Scope, _cdr_rows  # the package's own reader
        from voipxs.privacy.crypto import blind_index

        import_file(pbx, text(ring_group()))
        moment = Cdr.objects.filter(source=pbx).first().started_at
        index = blind_index("+31205550101", domain="phone")
        window = Interval(moment.replace(hour=0), moment.replace(hour=23))
        scope = Scope(request_id=1, window=window, numbers={index: (window,)}, accounts=frozenset(),
                      categories=("traffic_data",))
        rows = list(_cdr_rows(scope))
        assert len(rows) == 3 and {row.call for row in rows} == {f"{pbx.pk}:{UID}"}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("partitions_restored")
class PostgresLegTests:
    """COPY in the writer thread, the partitioned table's unique key holding the leg."""

    def test_legs_land_once_through_copy_and_the_unique_key_holds_the_leg(self):
        source = source_create(name="pbx-legs-pg", format="asterisk-csv", timezone="Europe/Amsterdam")
        data = text(ring_group() + [eighteen(line).replace(UID, "1777881600.90") for line in ring_group()])
        first = import_file(source, data)
        again = import_file(source, data)
        assert (first.imported, again.imported, again.duplicates) == (6, 0, 6)
        with connection.cursor() as cursor:
            cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'cdr_source_uid_leg_start_uniq'")
            (definition,) = cursor.fetchone()
        assert "(source_id, unique_id, leg, started_at)" in definition
        Cdr.objects.filter(source=source).delete()


class TestsuiteSampleTests:
    def test_five_records_of_one_uniqueid_without_a_destination_channel_are_one_leg(self, pbx):
        """asterisk/testsuite cdrlib/good.csv: five records, one uniqueid, no dstchannel, no sequence, other
        figures each: by the leg rule one leg written five times, so one is stored and four are conflicts
        (reported with their lines), and a re-import adds nothing."""
        from tests.traffic.test_importers_samples import sample

        data = sample("asterisk_cdr_csv_good.csv")
        first, again = import_file(pbx, data), import_file(pbx, data)
        assert (first.imported, first.conflicts, [c["line"] for c in first.report["conflicts"]]) == (1, 4, [2, 3, 4, 5])
        assert (again.imported, again.duplicates, again.conflicts) == (0, 1, 4)
