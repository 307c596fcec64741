"""CDR ingest end to end: files we write in each layout go through parse → normalise → rate →
encrypt → store, on SQLite and PostgreSQL alike, and what a billing clerk would check holds."""
from __future__ import annotations

import io
import json
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection

from accounts.services.numbers import phone_number_assign
from tests.factories import make_user
from traffic.keys import decrypt_number, month_cipher
from traffic.models import Cdr, CdrImport, CdrTechnical, Tariff
from traffic.partitions import month_start
from traffic.services.imports import cdr_bulk_import
from traffic.services.sources import source_create
from voipxs.privacy.crypto import blind_index

pytest.importorskip("traffic.importers", reason="the CDR parsers (traffic/importers) are not in the tree yet")

AMS = "Europe/Amsterdam"
SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "cdr-samples"


def ast(uid: str, *, src="0205550101", dst="0612345678", clid='"Alice" <0205550101>', start="2026-05-04 10:00:00",
        answer="2026-05-04 10:00:05", end="2026-05-04 10:01:06", duration=66, billsec=61, disposition="ANSWERED",
        channel="SIP/alice-0001", dstchannel="SIP/trunk-0002") -> str:
    """One Asterisk cdr_csv Master.csv line (18 columns), quoted the way cdr_csv quotes."""
    def q(value: str) -> str:
        return '"' + value.replace('"', '""') + '"'

    return ",".join([
        q(""), q(src), q(dst), q("from-internal"), q(clid), q(channel), q(dstchannel), q("Dial"), q("SIP/x,60"),
        q(start), q(answer), q(end), str(duration), str(billsec), q(disposition), q("DOCUMENTATION"), q(uid), q(""),
    ])


def run(source, lines_or_bytes, name="Master.csv"):
    data = lines_or_bytes if isinstance(lines_or_bytes, bytes) else ("\n".join(lines_or_bytes) + "\n").encode()
    return cdr_bulk_import(source=source, stream=io.BytesIO(data), file_name=name)


@pytest.fixture
def pbx(db):
    return source_create(name="pbx-ams", format="asterisk-csv", timezone=AMS, default_country="NL")


@pytest.fixture
def tariffs(db):
    Tariff.objects.create(prefix="316", zone="NL mobile", price_per_minute=Decimal("0.60"), setup_fee=Decimal("0.05"),
                          increment_first=30, increment_next=6, valid_from=date(2020, 1, 1))
    Tariff.objects.create(prefix="31", zone="NL", price_per_minute=Decimal("0.06"), valid_from=date(2020, 1, 1))


class AsteriskCsvIngestTests:
    def test_it_stores_a_call_normalised_rated_and_encrypted(self, pbx, tariffs, alice):
        result = run(pbx, [ast("1746345600.1")])

        assert (result.status, result.imported, result.duplicates, result.conflicts) == ("done", 1, 0, 0)
        cdr = Cdr.objects.get(source=pbx)
        assert cdr.started_at == datetime(2026, 5, 4, 8, 0, tzinfo=timezone.utc)  # 10:00 CEST
        assert cdr.answered_at == datetime(2026, 5, 4, 8, 0, 5, tzinfo=timezone.utc)
        assert (cdr.direction, cdr.disposition, cdr.duration, cdr.billsec) == ("out", "answered", 66, 61)
        assert (cdr.account_id, cdr.contractor_id) == (alice.pk, None)
        # 61 s at 30/6 → 66 s × 0.60/min = 0.66, + 0.05 setup
        assert (cdr.rating, cdr.zone, cdr.price) == ("rated", "NL mobile", Decimal("0.71000"))
        assert decrypt_number(cdr.src_enc, started_at=cdr.started_at) == "+31205550101"
        assert decrypt_number(cdr.dst_enc, started_at=cdr.started_at) == "+31612345678"
        assert cdr.dst_index == blind_index("+31612345678", domain="phone")
        assert decrypt_number(cdr.caller_name_enc, started_at=cdr.started_at) == "Alice"
        assert cdr.import_batch_id == result.pk
        assert len(result.file_sha256) == 64 and result.file_name == "Master.csv"

    def test_a_call_to_a_dutch_freephone_number_is_free_though_the_table_prices_national_calls(self, pbx, tariffs,
                                                                                                alice):
        run(pbx, [ast("f.1", dst="08007654"), ast("f.2", dst="0205550199")])

        free, national = Cdr.objects.get(unique_id="f.1"), Cdr.objects.get(unique_id="f.2")
        assert (free.rating, free.zone, free.price) == ("rated", "NL freephone (0800)", Decimal("0.00000"))
        assert (national.rating, national.zone, national.price) == ("rated", "NL", Decimal("0.12000"))  # 61 s at 60/60

    def test_it_keeps_technical_identifiers_apart_in_one_encrypted_blob(self, pbx, alice):
        run(pbx, [ast("t.1", channel="SIP/alice-00aa", dstchannel="SIP/trunk-00bb")])

        cdr = Cdr.objects.get(source=pbx)
        tech = CdrTechnical.objects.get(cdr_id=cdr.id)
        payload = json.loads(month_cipher(month_start(cdr.started_at)).decrypt(bytes(tech.payload_enc)))
        assert payload["channel"] == "SIP/alice-00aa"
        assert tech.started_at == cdr.started_at
        assert not any("SIP/" in str(getattr(cdr, f.attname)) for f in Cdr._meta.fields)

    def test_it_reads_quoted_commas_doubled_quotes_crlf_bom_and_empty_answer_times(self, pbx, alice):
        lines = [
            ast("q.1", clid='"Smith, J "Jr"" <0205550101>'),  # on disk: """Smith, J ""Jr"""" <0205550101>"
            ast("q.2", answer="", billsec=0, disposition="NO ANSWER"),
        ]
        data = b"\xef\xbb\xbf" + ("\r\n".join(lines) + "\r\n").encode()
        result = run(pbx, data)

        assert (result.imported, result.report["rejected"]) == (2, [])
        first = Cdr.objects.get(unique_id="q.1")
        assert decrypt_number(first.caller_name_enc, started_at=first.started_at) == 'Smith, J "Jr"'
        unanswered = Cdr.objects.get(unique_id="q.2")
        assert (unanswered.disposition, unanswered.answered_at, unanswered.rating, unanswered.price) == (
            "no_answer", None, "free", Decimal("0"))

    def test_it_rejects_a_truncated_last_line_with_its_number_and_keeps_the_good_rows(self, pbx, alice):
        data = ("\n".join([ast("r.1"), ast("r.2"), ast("r.3")]) + "\n").encode() + ast("r.4").encode()[:-30]
        result = run(pbx, data)

        assert result.imported == 3
        assert [r["line"] for r in result.report["rejected"]] == [4]
        assert result.report["rejected"][0]["reason"]
        assert set(Cdr.objects.values_list("unique_id", flat=True)) == {"r.1", "r.2", "r.3"}

    def test_it_counts_duplicates_and_reports_conflicts_without_inserting_them(self, pbx, alice):
        result = run(pbx, [ast("d.1"), ast("d.2"), ast("d.1"), ast("d.2", billsec=7)])

        assert (result.imported, result.duplicates, result.conflicts) == (2, 1, 1)
        assert result.report["conflicts"] == [{"line": 4, "unique_id": "d.2"}]
        assert Cdr.objects.get(unique_id="d.2").billsec == 61

    def test_it_adds_nothing_when_the_same_file_is_imported_again(self, pbx, alice):
        lines = [ast(f"again.{i}") for i in range(5)]
        first = run(pbx, lines)
        second = run(pbx, lines)

        assert (first.imported, second.imported, second.duplicates, second.conflicts) == (5, 0, 5, 0)
        assert Cdr.objects.count() == 5
        assert first.file_sha256 == second.file_sha256

    def test_it_reports_a_conflict_with_a_row_of_an_earlier_import(self, pbx, alice):
        run(pbx, [ast("c.1")])
        result = run(pbx, [ast("c.1", billsec=30)])

        assert (result.imported, result.conflicts) == (0, 1)
        assert result.report["conflicts"] == [{"line": 1, "unique_id": "c.1"}]

    def test_it_keeps_odd_but_real_rows_and_flags_them(self, pbx, alice):
        result = run(pbx, [
            ast("o.1", duration=5, billsec=7),  # billable seconds above the duration
            ast("o.2", disposition="FAILED", billsec=0),  # an answer time on a failed call
            ast("o.3", src="100", dst="200", clid='"Desk" <100>'),  # internal extensions
        ])

        assert result.imported == 3 and result.flagged == 3
        extension = Cdr.objects.get(unique_id="o.3")
        assert extension.direction == "internal" and "internal_extension" in extension.flags.split(",")
        assert decrypt_number(extension.src_enc, started_at=extension.started_at) == "100"
        assert Cdr.objects.get(unique_id="o.1").flags
        assert Cdr.objects.get(unique_id="o.2").flags

    def test_it_flags_calls_without_a_tariff_as_unrated_and_never_drops_them(self, pbx, alice):
        result = run(pbx, [ast("u.1", dst="004930123456")])

        cdr = Cdr.objects.get(unique_id="u.1")
        assert result.imported == 1
        assert (cdr.rating, cdr.price) == ("unrated", None) and "unrated" in cdr.flags
        assert decrypt_number(cdr.dst_enc, started_at=cdr.started_at) == "+4930123456"

    def test_it_stores_no_number_in_plain_text(self, pbx, alice):
        run(pbx, [ast("p.1"), ast("p.2", src="0612345678", dst="0205550101")])

        with connection.cursor() as cursor:
            cursor.execute("SELECT * FROM traffic_cdr")
            rows = cursor.fetchall()
            cursor.execute("SELECT * FROM traffic_cdrtechnical")
            rows += cursor.fetchall()
        text = repr(rows)
        for needle in ("31205550101", "205550101", "31612345678", "612345678", "Alice"):
            assert needle not in text
        assert len(rows) == 4

    def test_it_refuses_a_cel_event_log_and_inserts_nothing(self, pbx):
        cel = SAMPLES / "asterisk_cel_custom_Master.csv"
        if not cel.exists():
            pytest.skip("shared/cdr-samples is not next to the project")
        result = cdr_bulk_import(source=pbx, path=cel)

        assert result.status == "failed"
        assert "event log" in result.error and "not CDRs" in result.error
        assert Cdr.objects.count() == 0


class AttributionTests:
    def test_it_follows_a_number_that_moved_from_alice_to_bob_mid_month(self, pbx, acme):
        alice = make_user("alice2")
        bob = make_user("bob2", contractor=acme)
        moved = datetime(2026, 5, 15, tzinfo=timezone.utc)
        phone_number_assign(user=alice, number="+31205550777", valid_from=datetime(2026, 1, 1, tzinfo=timezone.utc),
                            valid_to=moved)
        phone_number_assign(user=bob, number="+31205550777", valid_from=moved)

        run(pbx, [
            ast("m.1", src="0205550777", start="2026-05-10 10:00:00", answer="", end="2026-05-10 10:00:30",
                billsec=0, disposition="NO ANSWER"),
            ast("m.2", src="0612345678", dst="0205550777", start="2026-05-20 10:00:00", answer="2026-05-20 10:00:01",
                end="2026-05-20 10:01:00"),
            ast("m.3", src="0205550777", dst="0205550101", start="2026-05-21 10:00:00", answer="2026-05-21 10:00:01",
                end="2026-05-21 10:01:00"),
        ])

        first, second, third = (Cdr.objects.get(unique_id=u) for u in ("m.1", "m.2", "m.3"))
        assert (first.direction, first.account_id, first.contractor_id) == ("out", alice.pk, None)
        assert (second.direction, second.account_id, second.contractor_id) == ("in", bob.pk, acme.pk)
        assert second.rating == "free"
        assert third.account_id == bob.pk and third.direction == "out"

    def test_it_sees_both_ends_ours_as_internal(self, pbx, alice, bob):
        run(pbx, [ast("i.1", src="0205550101", dst="0205550201")])

        cdr = Cdr.objects.get(unique_id="i.1")
        assert (cdr.direction, cdr.account_id, cdr.rating) == ("internal", alice.pk, "free")


@pytest.mark.postgres
class PartitionTests:
    def test_it_creates_the_partition_of_a_month_on_demand(self, pbx, alice):
        from traffic.partitions import cdr_partitions_list_names

        assert "traffic_cdr_y2031m07" not in cdr_partitions_list_names()
        run(pbx, [ast("far.1", start="2031-07-02 10:00:00", answer="2031-07-02 10:00:05", end="2031-07-02 10:01:06")])

        assert {"traffic_cdr_y2031m07", "traffic_cdrtechnical_y2031m07"} <= set(cdr_partitions_list_names())
        assert Cdr.objects.filter(unique_id="far.1").exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
class ThreadedCopyTests:
    """Outside a transaction the COPY runs in a writer thread on its own connection."""

    def test_it_imports_many_batches_exactly_once_with_a_writer_thread(self, alice, partitions_restored):
        source = source_create(name="pbx-threads", format="asterisk-csv", timezone=AMS)
        lines = [ast(f"b.{i}", start=f"2026-05-04 10:{i // 60:02d}:{i % 60:02d}") for i in range(250)]
        lines.insert(120, lines[3])  # a repeat of an earlier batch's row
        data = ("\n".join(lines) + "\n").encode()

        first = cdr_bulk_import(source=source, stream=io.BytesIO(data), batch_size=50)
        again = cdr_bulk_import(source=source, stream=io.BytesIO(data), batch_size=50)

        assert (first.imported, first.duplicates, first.conflicts) == (250, 1, 0)
        assert (again.imported, again.duplicates) == (0, 251)
        assert Cdr.objects.filter(source=source).count() == 250
        assert CdrTechnical.objects.count() == 250
        assert CdrImport.objects.filter(status="done").count() == 2


class StoredFormTests:
    def test_imported_rows_filter_and_order_like_orm_written_rows(self, pbx, alice):
        from tests.factories import make_cdr

        run(pbx, [ast("s.1", start="2026-05-04 10:00:00"), ast("s.2", start="2026-05-04 12:00:00")])  # 08:00, 10:00 UTC
        orm = make_cdr(account=alice, started_at=datetime(2026, 5, 4, 9, 0, tzinfo=timezone.utc))

        after_nine = Cdr.objects.filter(started_at__gte=datetime(2026, 5, 4, 9, 0, tzinfo=timezone.utc))
        assert set(after_nine.values_list("unique_id", flat=True)) == {"s.2", orm.unique_id}
        ordered = list(Cdr.objects.order_by("started_at").values_list("unique_id", flat=True))
        assert ordered == ["s.1", orm.unique_id, "s.2"]

    def test_a_row_without_a_unique_id_is_keyed_by_its_content(self, pbx, alice):
        first = run(pbx, [ast("")])
        again = run(pbx, [ast("")])

        assert (first.imported, again.imported, again.duplicates) == (1, 0, 1)
        assert Cdr.objects.get().unique_id  # a stable id made from the call leg

    def test_an_overlong_unique_id_is_rejected_with_its_line(self, pbx, alice):
        result = run(pbx, [ast("ok.1"), ast("x" * 200)])
        assert result.imported == 1
        assert result.report["rejected"] == [{"line": 2, "reason": "unique id longer than 150 characters"}]


class MonthKeyTests:
    def test_it_never_encrypts_under_a_cached_key_whose_row_was_rolled_back(self, pbx, alice):
        from django.db import transaction

        from traffic.models import MonthKey

        class Rollback(Exception):
            pass

        with pytest.raises(Rollback), transaction.atomic():
            month_cipher(date(2026, 5, 1), create=True)  # cached in this process ...
            raise Rollback  # ... but its row is gone

        run(pbx, [ast("k.1")])

        cdr = Cdr.objects.get(unique_id="k.1")
        assert MonthKey.objects.filter(month=date(2026, 5, 1)).exists()
        assert decrypt_number(cdr.dst_enc, started_at=cdr.started_at) == "+31612345678"
