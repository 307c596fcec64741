"""The hand-made texts of a prepared row (rows.py) against what the standard library makes of the same
values: they are written by hand only to be faster, never to differ."""
from __future__ import annotations

import json
import random
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from traffic.ingest.rows import _iso, _json_compact


class RowTextTests:
    def test_its_iso_time_is_isoformat(self):
        rng = random.Random(20261205)
        epoch = datetime(1970, 1, 1, tzinfo=timezone.utc)
        for _ in range(20_000):
            moment = epoch + timedelta(seconds=rng.randrange(-2 * 10**9, 4 * 10**9),
                                       microseconds=rng.choice([0, 0, 0, 1, 500_000]))
            assert _iso(moment) == moment.isoformat()
            local = moment.astimezone(ZoneInfo("Europe/Amsterdam"))
            assert _iso(local) == local.isoformat()

    def test_its_technical_json_is_json_dumps_of_the_non_empty_values(self):
        rng = random.Random(20261205)
        names = ["channel", "dst_channel", "sip_call_id", "remote_ip", "user_agent", "Z", "é"]
        for _ in range(5_000):
            values = {key: rng.choice(["", "SIP/1-0001", 'é"\\\n\t\x01', 0, 7])
                      for key in rng.sample(names, rng.randrange(0, len(names)))}
            kept = {key: str(value) for key, value in values.items() if value}
            expected = json.dumps(kept, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode()
            assert _json_compact(values) == (expected if kept else None)
