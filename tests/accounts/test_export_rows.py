"""The export's rows, written fast (issue 15), say exactly what they said before: one JSON encoder call
and one csv_cell per cell would give the same bytes; PostgreSQL formats a call as Python does; and the
export streams: its memory does not follow the number of calls."""
from __future__ import annotations

import csv
import gc
import io
import json
import tracemalloc
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from django.db import DataError
from django.db.models.expressions import RawSQL
from django.utils.timezone import now

from accounts.dsr import export_stream
from accounts.dsr.export import dsr_export_build
from accounts.dsr.models import DataSubjectRequest, ExportFile
from tests.accounts.dsr_helpers import export_json, export_zip, section
from tests.factories import make_cdr, make_cdrs
from traffic import keys
from traffic.models import Cdr
from traffic.sections import calls_export
from traffic.selectors import cdr_reader
from voipxs import fetch_ahead
from voipxs.privacy import files


def _cell(value):
    """A CSV cell as the export has always written it (the rule, spelled out slowly)."""
    if type(value) is str:
        # A formula character first, or after leading apostrophes ("'=x" would read back as "=x"), gets one more.
        return "'" + value if value.lstrip("'")[:1] in tuple("=+-@\t\r") else value
    if value is None:
        return ""
    if type(value) is bool:
        return "true" if value else "false"
    if type(value) in (list, dict):
        return _cell(json.dumps(value, ensure_ascii=False, default=str))
    return value


def _reference(rows: list[dict]) -> tuple[str, str]:
    encoder = json.JSONEncoder(ensure_ascii=False, default=str)
    text = io.StringIO()
    writer = csv.writer(text)
    columns = list(rows[0])
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(c)) for c in columns])
    return ",".join(encoder.encode(row) for row in rows), text.getvalue()


def _written(rows: list[dict]) -> tuple[str, str]:
    json_blocks: list[bytes] = []
    csv_blocks: list[bytes] = []
    out = export_stream.TextOut(json_blocks.append)
    n = export_stream.section_write(iter(rows), json_out=out, csv_out=csv_blocks.append)
    out.flush()
    assert n == len(rows)
    return b"".join(json_blocks).decode(), b"".join(csv_blocks).decode()


def _odd_rows(n: int) -> list[dict]:
    texts = ["=SUM(A1)", "+31699993678", "-5", "@home", "\tx", "\rx", "", "plain", "Zoë ☎", 'say "hi", then\nleave',
             "€\u2028\x01", "'quoted", "'=quoted formula", "''+31"]
    values = [None, True, False, 0, -7, 2 ** 70, 1.5, float("inf"), Decimal("-0.05000"),
              datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=timezone.utc), date(2026, 1, 2), ["a", 1, None],
              {"k": "=v", "n": [1, {"x": True}]}, []]
    rows = []
    for i in range(n):
        rows.append({"id": i, "text": texts[i % len(texts)], "value": values[i % len(values)],
                     "flag": i % 3 == 0, "note": None if i % 5 else texts[(i // 5) % len(texts)]})
    rows[3] = {"text": "keys in another order", "id": 3, "value": 1, "flag": True, "note": ""}
    rows[4] = {"id": 4, "text": "a key missing and one more", "flag": False, "extra": "=dropped in the CSV"}
    return rows


class ExportRowsTests:
    def test_the_rows_are_the_bytes_of_one_encoder_call_and_one_csv_cell_each(self, monkeypatch):
        monkeypatch.setattr(export_stream, "FLUSH", 500)  # many blocks, each cut anywhere
        rows = _odd_rows(2 * export_stream.BATCH + 37)
        assert _written(rows) == _reference(rows)

    def test_a_single_row_section_and_an_empty_one(self):
        assert _written([{"only": None}]) == ('{"only": null}', 'only\r\n""\r\n')
        assert _written([]) == ("", "")

    def test_the_collector_gets_its_thresholds_back_even_after_an_error(self):
        before = gc.get_threshold()
        with pytest.raises(ValueError), export_stream.few_collections():
            assert gc.get_threshold() == export_stream._EXPORT_GC_THRESHOLDS != before
            raise ValueError
        assert gc.get_threshold() == before

    def test_a_failing_sink_stops_the_background_writer_and_raises(self):
        class Broken:
            def write(self, data):
                raise OSError("disk full")

        with pytest.raises(OSError, match="disk full"):
            with export_stream.Background(Broken()) as background:
                for _ in range(20):  # more than the queue holds: the writer must not block forever
                    background.write(b"x" * 10)


def _calls_of_every_shape(user):
    at = datetime(2026, 2, 10, 9, 30, tzinfo=timezone.utc)
    make_cdr(account=user, started_at=at, caller_name="=cmd|' /C calc'!A0", price=Decimal("-0.05"))
    make_cdr(account=user, started_at=at + timedelta(microseconds=123), caller_name="Zoë ☎ \"q\", x")
    make_cdr(account=user, started_at=at + timedelta(seconds=1, microseconds=999_999), disposition="no_answer",
             billsec=0)
    make_cdr(account=user, started_at=at + timedelta(days=1), rating="free")
    make_cdr(account=user, started_at=at + timedelta(days=2), price=Decimal("1234567.12345"))
    restricted = make_cdr(account=user, started_at=datetime(2026, 3, 31, 23, 59, 59, 500, tzinfo=timezone.utc))
    Cdr.objects.filter(pk=restricted.pk).update(restricted_at=now())
    make_cdr(account=user, started_at=datetime(2026, 4, 1, 0, 0, tzinfo=timezone.utc), dst="+31699991111")


@pytest.mark.django_db
@pytest.mark.postgres
class CallsOnPostgresTests:
    @pytest.mark.audit_guard_exempt("it compares the export's two row writers below the audited export build")
    def test_postgres_writes_a_call_as_python_does(self, alice):
        _calls_of_every_shape(alice)
        keys.month_key_destroy(month=date(2026, 4, 1))  # its numbers read as None, both ways
        served = list(calls_export(alice, server_text=True))
        assert served == list(calls_export(alice, server_text=False))
        assert [c["started_at"][11:] for c in served[:3]] == ["09:30:00+00:00", "09:30:00.000123+00:00",
                                                               "09:30:01.999999+00:00"]
        assert served[0]["price"] == "-0.05000" and served[2]["answered_at"] is None and served[3]["price"] is None
        assert [c["restricted"] for c in served[-2:]] == [True, False] and served[-1]["to"] is None

    def test_the_fetch_ahead_gives_the_rows_of_the_iterator_and_stops_cleanly(self, alice):
        make_cdrs(account=alice, n=50)
        qs = Cdr.objects.order_by("started_at", "id").values_list("id", "started_at", "src_enc", "price")
        assert list(fetch_ahead.rows_fetched_ahead(qs, 7)) == list(qs.iterator(chunk_size=7))
        for _ in fetch_ahead.rows_fetched_ahead(qs, 7):
            break  # the thread ends and the cursor closes: the connection serves the next query
        assert Cdr.objects.count() == 50
        with pytest.raises(TypeError):
            next(fetch_ahead.rows_fetched_ahead(Cdr.objects.all(), 7))

    def test_an_error_while_fetching_ahead_is_raised_as_django_raises_it(self, alice):
        make_cdrs(account=alice, n=5)
        failing = Cdr.objects.annotate(boom=RawSQL("1 / (id - id)", [])).values_list("id", "boom")
        with pytest.raises(DataError):
            list(fetch_ahead.rows_fetched_ahead(failing, 2))


def _build_peak(user) -> tuple[int, int]:
    """Build an export of `user`'s calls; (calls exported, peak traced bytes while building)."""
    received = now()
    req = DataSubjectRequest.objects.create(user=user, kind="access", status="in_progress", received_at=received,
                                            deadline=DataSubjectRequest.first_deadline(received))
    export = ExportFile.objects.create(request=req, user=user)
    tracemalloc.start()
    try:
        dsr_export_build(export_id=export.pk)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    export.refresh_from_db()
    return section(export_json(export), "calls")["count"], peak


@pytest.mark.django_db
@pytest.mark.postgres
class ExportStreamsTests:
    def test_memory_does_not_follow_the_number_of_calls(self, alice, bob, settings, tmp_path, monkeypatch):
        # Small batches and blocks, so that 5,000 calls are many of each: if any stage kept the rows
        # (a list of the calls, a fetchall, the JSON in one string) the peak would grow with them,
        # by about 1.5 kB a call; streamed, it stays where 1,000 calls put it.
        settings.PRIVATE_FILES_DIR = tmp_path
        monkeypatch.setattr(export_stream, "BATCH", 100)
        monkeypatch.setattr(export_stream, "FLUSH", 16_384)
        monkeypatch.setattr(cdr_reader, "_AHEAD", 100)
        monkeypatch.setattr(files, "CHUNK", 16_384)
        make_cdrs(account=alice, n=1_000, caller_name="Opa Jansen")
        make_cdrs(account=bob, n=5_000, caller_name="Opa Jansen")
        small, small_peak = _build_peak(alice)
        large, large_peak = _build_peak(bob)
        assert (small, large) == (1_000, 5_000)
        assert large_peak < small_peak + 1_500_000, (small_peak, large_peak)
        assert export_zip(ExportFile.objects.get(user=bob)).read("calls.csv").count(b"\r\n") == 5_001
