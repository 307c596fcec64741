"""The DPO's records of recipients told (GDPR art. 19) survive a restore: listed in the key backup, marked again after.

Why: once a rectification, erasure or restriction is carried out, the DPO tells each recipient of the person's data
and records the day and the way (accounts/dsr/recipients.py, RecipientNotification). A restore of a backup taken
before that record loses it: the restored database lists the recipient as not yet told (an erasure replayed after
the restore lists its recipients again, erasures.py), so the DPO would be asked to tell a body already told, with
no trace of the first notice. So, as for the erasures, the record is kept outside the database, in the same file:

- `recipient_notification_records` lists every recipient recorded as told: the request's number and when it was
  received, the disclosure's key ("disclosure:12"), the day, the way, and the staff member's id and when that
  account was made. Ids, times and a choice only: no name of the person, the recipient or the staff member. The
  file is taken again once such a record commits (keyfile.recipient_notified) and at every backup, and keeps the
  records it listed that the database lacks (`recipient_notification_records_merged`, as for the erasures);
- `recipient_notifications_replay` runs in the restore's transaction after the erasures are replayed (so an
  erasure's recipients are listed again first): each listed record whose row is in the restored database and not
  marked is marked as recorded, audited as a replay (accounts.dsr.recipients.recipient_notification_replay). A row
  already marked stays as it was, so a replay run twice changes nothing.

A request is matched by its number AND when it was received: numbers may be handed out again after a restore. An
erasure replayed under a new number (its own was taken, erasures.py) keeps the time it was received and its person,
so each record also names the person's account by id and creation time (as the erasure list does; no other data),
and the request is found as that person's received at that moment, whatever its number. A record written before
it named the account (an older file) is matched by number only: its recipients stay listed as not yet told, the
safe side (told twice, never forgotten). The file keeps one record per notification: a record it listed under
the old number is dropped once this database has the same one under the new number.
"""
from __future__ import annotations

from typing import Any

from django.utils.dateparse import parse_date, parse_datetime

from accounts.dsr.recipients import recipient_notification_replay, recipient_notifications_told


def recipient_notification_records() -> list[dict[str, Any]]:
    """Every recipient recorded as told in this database (also those marked again after a restore)."""
    return [{"request": n.request_id, "request_received": n.request.received_at.isoformat(),
             "account": n.request.user_id, "account_created": n.request.user.date_joined.isoformat(),
             "recipient_key": n.recipient_key, "notified_on": n.notified_on.isoformat(), "how": n.how,
             "recorded_by": n.recorded_by_id,
             "recorded_by_joined": n.recorded_by.date_joined.isoformat() if n.recorded_by_id else None}
            for n in recipient_notifications_told()]


def _account(record: dict[str, Any]) -> tuple[int, Any] | None:
    """The person's account (id, creation time) the record names; None in a record of an older file."""
    if record.get("account") is None:
        return None
    return record["account"], parse_datetime(record["account_created"])


def _keys(record: dict[str, Any]) -> set[tuple]:
    """What identifies the record's notification: its request's number, and (where named) its person, each with
    when the request was received and the recipient."""
    received, recipient = parse_datetime(record["request_received"]), record["recipient_key"]
    account = _account(record)
    return {("number", record["request"], received, recipient),
            *([("account", *account, received, recipient)] if account else [])}


def recipient_notification_records_merged(listed: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """This database's records and those of `listed` (the key file's) it does not have, by day told: one per
    notification (request by number, or by person, with the time received, and recipient), this database's where
    both have one."""
    records = recipient_notification_records()
    have = set().union(*(_keys(r) for r in records))
    kept = [r for r in listed or [] if not _keys(r) & have]
    return sorted([*records, *kept], key=lambda r: (r["notified_on"], r["request"], r["recipient_key"]))


def recipient_notifications_unlisted(listed: list[dict[str, Any]] | None) -> int:
    """How many recipients recorded as told in this database `listed` (the key file's list; None: a file taken
    before it kept one) lacks: each would be listed as not yet told again by a restore of a backup now."""
    have = set().union(*(_keys(r) for r in listed or []))
    return sum(1 for r in recipient_notification_records() if not _keys(r) & have)


def recipient_notifications_replay(records: list[dict[str, Any]] | None, *, backup: str) -> dict[str, int | None]:
    """Mark again each row of `records` (the key file's) that the restored database has unmarked. Runs inside the
    caller's transaction. Counts: marked again, and how many the file listed (None: a file that lists none)."""
    if records is None:
        return {"replayed": 0, "listed": None}
    replayed = 0
    for record in records:
        joined = record.get("recorded_by_joined")
        replayed += recipient_notification_replay(
            request_id=record["request"], request_received=parse_datetime(record["request_received"]),
            recipient_key=record["recipient_key"], notified_on=parse_date(record["notified_on"]), how=record["how"],
            recorded_by=record.get("recorded_by"), recorded_by_joined=parse_datetime(joined) if joined else None,
            backup=backup, account=_account(record))
    return {"replayed": replayed, "listed": len(records)}
