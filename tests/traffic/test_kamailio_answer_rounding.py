"""Kamailio acc at cdr_start_on_confirmed=0 with an answer time in cdr_extra: the seconds talked are rounded as
its duration is (half up, as Asterisk rounds its billsec), so the same call bills the same seconds whichever
way the proxy is set up: 59.5 s talked are 60 billed seconds, as duration=59.500 is with cdr_start_on_confirmed=1."""
from __future__ import annotations

import io
from zoneinfo import ZoneInfo

from traffic.importers import kamailio_acc

START = 1777881600  # 2026-05-04 08:00:00 UTC
HEAD = "May  4 10:01:25 sip1 kamailio[812]: NOTICE: acc [acc_cdr.c:255]: "


def _billsec(line: str, columns: str = "") -> int:
    (record,) = kamailio_acc.parse(io.BytesIO(line.encode()), tz=ZoneInfo("UTC"), columns=columns)
    return record.billsec


def test_the_seconds_from_the_answer_are_rounded_as_the_duration_is():
    from_answer = (f"{HEAD}start_time={START}.000; end_time={START + 80}.000; duration=80.000; callid=r1@pc33; "
                   f"src_user=0205550101; dst_user=0699990001; answer_time={START + 20}.500\n")
    confirmed = (f"{HEAD}start_time={START + 20}.500; end_time={START + 80}.000; duration=59.500; callid=r2@pc33; "
                 "src_user=0205550101; dst_user=0699990001\n")
    assert _billsec(confirmed, 'modparam("acc", "cdr_start_on_confirmed", 1)') == 60
    assert _billsec(from_answer) == 60
