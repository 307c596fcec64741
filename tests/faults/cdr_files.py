"""CDR files for the fault tests: Asterisk Master.csv lines of yesterday, one unique id each."""
from __future__ import annotations

from datetime import datetime, timedelta


def master_csv(count: int, *, prefix: str) -> bytes:
    """`count` answered calls from 020 555 0101 (the test customer's number), uniqueids `<prefix>.<n>`."""
    day = (datetime.now() - timedelta(days=1)).strftime("%Y-%m-%d")
    lines = [
        f'"","0205550101","0612{n:06d}","ctx","""Alice"" <0205550101>","SIP/a-{n}","SIP/b-{n}","Dial","",'
        f'"{day} 10:00:00","{day} 10:00:05","{day} 10:01:06",66,61,"ANSWERED","DOCUMENTATION","{prefix}.{n}",""'
        for n in range(count)
    ]
    return ("\n".join(lines) + "\n").encode()
