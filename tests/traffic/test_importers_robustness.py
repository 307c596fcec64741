"""Whatever bytes arrive, a parser yields CallRecord or RowError items (or refuses the whole file
with ImportFormatError); it never raises anything else, and what it yields keeps its invariants."""
from __future__ import annotations

import io
from pathlib import Path
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from traffic.importers import FORMATS, get_parser
from traffic.importers.base import DISPOSITIONS, CallRecord, ImportFormatError, RowError

FIXTURES = Path(__file__).parent / "fixtures"
SEEDS = [path.read_bytes() for path in sorted(FIXTURES.glob("*_mixed.*"))]
# Bytes that matter to CSV and JSON readers, plus some that are not UTF-8.
NOISE = st.binary(min_size=1, max_size=4) | st.sampled_from(
    [b'"', b",", b"\r\n", b"\n", b"\x00", b"\xff", b"{", b"}", b"[", b"]", b"%", b"%2", b"-", b" ", b"99", b"T"])


@st.composite
def damaged(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 8))):
        pos = draw(st.integers(0, len(data)))
        if draw(st.booleans()):
            data[pos:pos] = draw(NOISE)
        else:
            del data[pos:pos + draw(st.integers(1, 6))]
    return bytes(data)


def check(data: bytes, fmt: str, tz: ZoneInfo) -> None:
    try:
        items = list(get_parser(fmt)(io.BytesIO(data), tz=tz))
    except ImportFormatError:
        return
    for item in items:
        assert isinstance(item, (CallRecord, RowError))
        assert item.line >= 1
        if isinstance(item, CallRecord):
            assert item.unique_id and item.disposition in DISPOSITIONS
            assert item.duration >= 0 and item.billsec >= 0
            assert item.started_at.utcoffset() is not None and item.started_at.utcoffset().total_seconds() == 0
            assert len(item.fingerprint) == 16


class ParserRobustnessTests:
    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(data=damaged(), fmt=st.sampled_from(sorted(FORMATS)),
           tz=st.sampled_from([ZoneInfo("UTC"), ZoneInfo("Europe/Amsterdam"), ZoneInfo("Australia/Lord_Howe")]))
    def test_it_never_raises_on_damaged_files(self, data: bytes, fmt: str, tz: ZoneInfo):
        check(data, fmt, tz)

    @settings(max_examples=100, deadline=None)
    @given(data=st.binary(max_size=300), fmt=st.sampled_from(sorted(FORMATS)))
    def test_it_never_raises_on_random_bytes(self, data: bytes, fmt: str):
        check(data, fmt, ZoneInfo("Europe/Amsterdam"))
