"""Erasures survive a restore: the list of erasures in the key backup, and their replay after a restore.

Why: an erasure (GDPR art. 17, accounts/dsr/erasure.py) deletes a person's data from the database, but
not from the backups taken before it. Restoring one would bring the person back, and nothing else
catches up with an erasure (the purge catches up with time-based retention only). So, as for the month
keys (keyfile.py), the truth is kept outside the database, in the same file:

- `erasure_records` lists every erasure done: the account's id and creation time, the request's number,
  when it was received and answered. Ids and times only: no name, number, address or e-mail. The file is
  taken again at every backup (after the dump: an erasure done between the two is in the file) and once
  an erasure commits (keyfile.erasure_saved);
- `erasures_replay` runs in the restore's transaction, right after the month keys are loaded and under
  the file's lock, so nothing retakes the file in between: each listed account that still has its
  personal data in the restored database is erased again by the same erasure
  (accounts.dsr.services.dsr_erasure_replay), today's keepers deciding what stays, and audited as a
  replay. An account already erased, missing, or another account under the same id (its creation time
  differs: ids handed out again after a restore) is left alone, so a replay run twice changes nothing.

The list never loses an erasure: each retake lists the erasures of the database AND keeps those the file
already listed (`erasure_records_merged`, one entry per account id and creation time). The database alone
would not do: after a restore of a backup that does not hold an erased account (made before it was), that
erasure is neither replayed nor recorded there, and a file made from that database would drop it; a later
restore of a backup that does hold the account would bring the person back.

A crash between an erasure's commit and the file's retake leaves the file without that erasure until the
next write of the file (the next erasure, month-key change or backup, `backup_create --keys-only`, or the
daily retake, retention.tasks.backup_keys_retake_task), which includes it; a restore in between would not
replay it. The DPO's retention page says when the file was last written if an erasure is newer.
"""
from __future__ import annotations

from typing import Any

from django.utils.dateparse import parse_datetime

from accounts.dsr.models import DataSubjectRequest
from accounts.dsr.services import dsr_erasure_replay


def erasure_records() -> list[dict[str, Any]]:
    """Every erasure done in this database, oldest first (also those replayed after an earlier restore)."""
    done = (DataSubjectRequest.objects.filter(kind=DataSubjectRequest.Kind.ERASURE,
                                              status=DataSubjectRequest.Status.COMPLETED)
            .order_by("completed_at", "pk")
            .values_list("pk", "user_id", "user__date_joined", "received_at", "completed_at"))
    return [{"request": pk, "account": account, "account_created": created.isoformat(),
             "received_at": received.isoformat(), "erased_at": erased.isoformat()}
            for pk, account, created, received, erased in done]


def _erasure_key(record: dict[str, Any]) -> tuple[int, Any]:
    return record["account"], parse_datetime(record["account_created"])


def erasure_records_merged(listed: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """This database's erasures and those of `listed` (the key file's) that it does not have, oldest first:
    one per account (id and creation time), this database's record where both have one."""
    records = erasure_records()
    have = {_erasure_key(r) for r in records}
    kept = [r for r in listed or [] if _erasure_key(r) not in have]
    return sorted([*records, *kept], key=lambda r: (parse_datetime(r["erased_at"]), r["request"]))


def erasures_replay(records: list[dict[str, Any]] | None, *, backup: str) -> dict[str, int | None]:
    """Erase again each account of `records` (the key file's) that the restored database still has
    unerased. Runs inside the caller's transaction. Counts: replayed, and how many the file listed
    (None: a key file of format 1, which lists none)."""
    if records is None:
        return {"replayed": 0, "listed": None}
    replayed = 0
    for record in records:
        replayed += dsr_erasure_replay(
            account_id=record["account"], account_created=parse_datetime(record["account_created"]),
            request_id=record["request"], received_at=parse_datetime(record["received_at"]),
            erased_at=parse_datetime(record["erased_at"]), backup=backup)
    return {"replayed": replayed, "listed": len(records)}
