"""The opaque cursor of a call page: (started_at, id) of its last row, for keyset paging."""
from __future__ import annotations

import base64
import binascii
from datetime import datetime, timedelta, timezone as dt_timezone

from django.utils.translation import gettext_noop

from voipxs.exceptions import ApplicationError

# A call id is a bigint: a larger one (an edited link) is no cursor we made, and PostgreSQL refuses to compare it.
MAX_ID = 2**63  # also the bound of an invoice id a filter may name (traffic.api)
CURSOR_INVALID = gettext_noop("This page link is not valid (malformed cursor); start again from the first page.")


def cursor_encode(started_at: datetime, cdr_id: int) -> str:
    micros = int(started_at.timestamp() * 1_000_000)
    return base64.urlsafe_b64encode(f"{micros}.{cdr_id}".encode()).decode().rstrip("=")


def cursor_decode(cursor: str) -> tuple[datetime, int]:
    """Raises ApplicationError (field "cursor") for anything that is not a cursor we made."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
        micros_text, id_text = text.split(".")
        micros, cdr_id = int(micros_text), int(id_text)
        if not (0 < cdr_id < MAX_ID) or not (0 <= micros < 10**17):
            raise ValueError
        moment = datetime(1970, 1, 1, tzinfo=dt_timezone.utc) + timedelta(microseconds=micros)
    except (ValueError, UnicodeDecodeError, binascii.Error, OverflowError):
        raise ApplicationError(CURSOR_INVALID, {"field": "cursor"}) from None
    return moment, cdr_id
