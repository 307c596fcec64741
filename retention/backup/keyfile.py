"""The month-key backup: the one copy of the month data keys outside the database.

Why it exists: each month's CDR numbers are encrypted under a data key of their own (traffic.keys),
and the purge destroys that key once the month has expired (crypto-shredding): "destroying a month's
key makes that month unreadable everywhere, backups included". The keys live in the database
(traffic.MonthKey), so an ordinary dump taken before a purge would carry the key of the month that
purge destroys, and restoring it would bring the month back. Hence:

- database dumps never hold the month keys (`retention.backup.database` leaves the table's rows out);
- the keys are backed up here, in ONE file that is replaced, never added to: `month_keys_take` writes
  it at every backup, right after the database dump, and `month_key_saved` takes it again whenever a
  month key changes (the purge destroys one, an import makes one, rotate_keys re-wraps one), once the
  change has committed. So the file never holds a key that the database no longer has;
- a restore takes the month keys from this file only (`month_keys_load`), never from the dump: a
  month destroyed after the dump was taken is destroyed in the restored database too.

The file is MAGIC | the JSON below, encrypted under the master key (FIELD_ENCRYPTION_KEYS) with the
associated data "voipxs:month-key-backup"; inside it each key is still wrapped by the master key as
in the table. It names the database it belongs to (vendor and database name): a process connected to
another database (a trial restore beside production, a test run) never replaces it, and
`backup_create` replaces another database's file only when told to (`--replace-keys`, after a restore
into a database of another name).

Erasures (GDPR art. 17) have the same problem: a dump taken before an erasure holds the person's data,
and restoring it would bring them back. So the same file also lists every erasure done (account id,
when the account was created, the request's number, when it was received and answered: ids and times,
no name, number, address or e-mail; `retention.backup.erasures`), is taken again once an erasure
commits (`erasure_saved`), and a restore replays from it each erasure the restored database does not
have yet. One file rather than a sibling: both lists must be of the same moment and both are needed by
every restore; one file has one lock, one atomic replacement, one owner check and one `--keys`. The DPO's records
of recipients told of an erasure, rectification or restriction (GDPR art. 19) are lost with a restore the same way,
so the file lists them too (`retention.backup.notifications`, ids and times only), taken again once one commits
(`recipient_notified`), and a restore marks them again after replaying the erasures.

A retake after a commit that fails is logged, and caught up by the daily retake (`month_keys_retake`, beat) or
the next write; until then the DPO's retention page says since when the list of erasures has not been written
(`erasure_list_lag`: an erasure newer than the file, or a recipient told that it does not list), so a lagging
file is seen by the people who answer for the erasures, not only in a log.
"""
from __future__ import annotations

import base64
import json
import logging
import os
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.utils.dateparse import parse_datetime
from django.utils.timezone import now

from accounts.dsr.models import DataSubjectRequest, RecipientNotification
from traffic.keys import month_keys_forget
from traffic.models import MonthKey
from voipxs.privacy import crypto
from voipxs.privacy.owned_file import database_identity, locked, write_atomic

from .erasures import erasure_records_merged
from .notifications import recipient_notification_records_merged, recipient_notifications_unlisted

log = logging.getLogger(__name__)

MAGIC = b"VXMKEYS1"
# 2: with the erasures; 3: and the recipients told. An older file still restores, replaying none of what it lacks.
FORMAT = 3
_FORMATS = (1, 2, FORMAT)
_AAD = b"voipxs:month-key-backup"


class KeyFileError(Exception):
    """The month-key backup cannot be read, or belongs to another database."""


def keys_path() -> Path:
    return Path(settings.BACKUP_KEYS_FILE)


def month_keys_snapshot(*, listed: dict[str, Any] | None = None) -> dict[str, Any]:
    """The month-key table as it is now, live keys (still wrapped) and destroyed ones alike, the erasures and the
    recipients told: this database's and those of `listed` (the file it replaces) that it does not have
    (erasures.py, notifications.py)."""
    months = [{
        "month": key.month.isoformat(),
        "wrapped_key": base64.b64encode(bytes(key.wrapped_key)).decode() if key.wrapped_key is not None else None,
        "created_at": key.created_at.isoformat(),
        "destroyed_at": key.destroyed_at.isoformat() if key.destroyed_at else None,
    } for key in MonthKey.objects.order_by("month")]
    return {"format": FORMAT, "database": database_identity(), "taken_at": now().isoformat(), "months": months,
            "erasures": erasure_records_merged((listed or {}).get("erasures")),
            "recipient_notifications": recipient_notification_records_merged(
                (listed or {}).get("recipient_notifications"))}


def counts(data: dict[str, Any]) -> dict[str, int | None]:
    """How many live and destroyed month keys the file holds, how many erasures and recipients told (None: a file
    taken before they were kept in it)."""
    live = sum(1 for m in data["months"] if m["wrapped_key"] is not None)
    erasures, told = data.get("erasures"), data.get("recipient_notifications")
    return {"live": live, "destroyed": len(data["months"]) - live,
            "erasures": None if erasures is None else len(erasures),
            "recipient_notifications": None if told is None else len(told)}


def month_keys_read(path: Path) -> dict[str, Any]:
    """The decrypted content of a key file. KeyFileError if it is not one or does not decrypt."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError as exc:
        raise KeyFileError(f"no month-key backup at {path}") from exc
    if not raw.startswith(MAGIC):
        raise KeyFileError(f"{path} is not a month-key backup")
    try:
        data = json.loads(crypto.decrypt_bytes(raw[len(MAGIC):], aad=_AAD))
    except crypto.DecryptionError as exc:
        raise KeyFileError(f"{path} does not decrypt with the configured FIELD_ENCRYPTION_KEYS") from exc
    if data.get("format") not in _FORMATS:
        raise KeyFileError(f"{path}: unknown format {data.get('format')!r}")
    return data


def _existing(path: Path, *, set_aside: bool) -> dict[str, Any] | None:
    """The content of the key file there now; None when there is no readable file there. A file that does not
    read (a master key dropped from FIELD_ENCRYPTION_KEYS too early, a damaged disk) may hold the only list of
    some erasures: with `set_aside` it is renamed, never overwritten, so that it can still be read with the old
    key (`set_aside_path`)."""
    if not path.exists():
        return None
    try:
        return month_keys_read(path)
    except KeyFileError:
        if set_aside:
            aside = set_aside_path(path)
            os.replace(path, aside)
            log.error("The month-key backup %s does not read with the configured keys. It was set aside as %s (not "
                      "deleted): it may list erasures no other file has. Read it with the old master key "
                      "(`month_keys_read`) and keep it until a restore can no longer need it.", path, aside)
        return None


def set_aside_path(path: Path) -> Path:
    """Where an unreadable key file goes: beside it, named for the moment it was set aside (UTC)."""
    return path.with_name(f"{path.name}.unreadable-{now():%Y%m%dT%H%M%S%fZ}")


@dataclass(frozen=True)
class SetAside:
    """A key file set aside because it did not read (the DPO's retention page lists them)."""

    name: str
    at: datetime


def set_aside_list() -> list[SetAside]:
    """The key files set aside beside the configured one, newest first."""
    path = keys_path()
    found = [SetAside(p.name, datetime.fromtimestamp(p.stat().st_mtime, tz=timezone.utc))
             for p in path.parent.glob(path.name + ".unreadable-*")] if path.parent.is_dir() else []
    return sorted(found, key=lambda item: item.at, reverse=True)


def month_keys_take(*, path: Path, replace_other: bool = False, only_if_ours: bool = False) -> dict[str, int] | None:
    """Write the key file from the table as it is now, keeping the erasures the file listed (erasures.py).
    Refuses (KeyFileError) to replace another database's file unless `replace_other`; with `only_if_ours`
    (the receiver below) it writes only over a file of this database and otherwise does nothing (None). A file
    that does not read is set aside, never overwritten (`_existing`)."""
    with locked(path):
        existing = _existing(path, set_aside=not only_if_ours)
        owner = existing and existing["database"]
        if only_if_ours and owner != database_identity():
            return None
        if owner is not None and owner != database_identity() and not replace_other:
            raise KeyFileError(
                f"{path} is the month-key backup of {owner}, not of {database_identity()}. Pass another "
                "--keys file, or --replace-keys if that database was restored into this one.")
        # The erasures (and recipients told) it listed stay listed, also when it was another database's (replaced
        # after a restore under a new name: that database's erasures are this one's history).
        data = month_keys_snapshot(listed=existing)
        write_atomic(path, MAGIC + crypto.encrypt_bytes(json.dumps(data).encode(), aad=_AAD))
    return counts(data)


@transaction.atomic
def month_keys_load(data: dict[str, Any]) -> dict[str, int]:
    """Make the month-key table of a restored database exactly the key file's: its live keys, and its
    destroyed months as destroyed. A key the file does not hold is not kept: the file is the truth."""
    MonthKey.objects.all().delete()
    MonthKey.objects.bulk_create([MonthKey(
        month=date.fromisoformat(m["month"]),
        wrapped_key=base64.b64decode(m["wrapped_key"]) if m["wrapped_key"] is not None else None,
        created_at=parse_datetime(m["created_at"]),
        destroyed_at=parse_datetime(m["destroyed_at"]) if m["destroyed_at"] else None,
    ) for m in data["months"]])
    transaction.on_commit(month_keys_forget)  # this process's cached keys came from another database
    return counts(data)


def month_keys_retake() -> dict[str, Any]:
    """The daily retake (retention.tasks.backup_keys_retake_task), what `backup_create --keys-only` does: so a
    retake that failed after a commit (`_retake`, logged) is caught up within a day. Another database's file is
    left alone (an error in the log: that is `--replace-keys`, for an operator to decide). Counts only."""
    path = keys_path()
    try:
        return {"written": True, **month_keys_take(path=path)}
    except KeyFileError as exc:
        log.error("The daily retake of the key backup was refused: %s", exc)
        return {"written": False}


@dataclass(frozen=True)
class ErasureListLag:
    """The key file's lists are behind the database (the DPO's retention page says so): it was taken before the
    newest erasure, or it lacks recipients recorded as told (GDPR art. 19) since."""

    written_at: datetime | None  # when the key file was taken; None: there is none, or it does not read
    last_erasure_at: datetime | None  # the newest erasure, when the file was taken before it; else None
    recipients_unlisted: int = 0  # recipients recorded as told that the file does not list


def erasure_list_lag() -> ErasureListLag | None:
    """None while the key file lists every erasure and every recipient told; else when it was taken, when the
    newest erasure it misses was done, and how many recipients told it misses. A recipient's record carries only
    the day told (which the DPO may date back), so it is matched by content, not by time."""
    last = DataSubjectRequest.objects.filter(
        kind=DataSubjectRequest.Kind.ERASURE, status=DataSubjectRequest.Status.COMPLETED,
    ).aggregate(last=Max("completed_at"))["last"]
    try:
        data = month_keys_read(keys_path())
    except KeyFileError:
        data = None
    written = parse_datetime(data["taken_at"]) if data else None
    late = last if last is not None and (written is None or written < last) else None
    unlisted = recipient_notifications_unlisted(data and data.get("recipient_notifications"))
    return ErasureListLag(written, late, unlisted) if late or unlisted else None


def _retake() -> None:
    path = keys_path()
    if not path.exists():  # no key backup taken yet: nothing can be stale
        return
    try:
        month_keys_take(path=path, only_if_ours=True)
    except Exception:  # after the commit: the change stands; the stale file must be loud, not silent
        log.exception("The key backup %s was NOT re-taken after a month key or an erasure changed: it may still "
                      "hold a destroyed key or miss an erasure. Run `manage.py backup_create --keys-only` now (the "
                      "daily retake at 04:15 would catch up).", path)


@receiver(post_save, sender=MonthKey, dispatch_uid="retention.backup.month_key_saved")
def month_key_saved(sender: Any, instance: MonthKey, **kwargs: Any) -> None:
    """A month key was made, destroyed or re-wrapped: take the key backup again once that commits."""
    transaction.on_commit(_retake)


@receiver(post_save, sender=DataSubjectRequest, dispatch_uid="retention.backup.erasure_saved")
def erasure_saved(sender: Any, instance: DataSubjectRequest, **kwargs: Any) -> None:
    """An erasure was done (or replayed after a restore): take the key backup again once that commits, so
    a restore of a backup older than the erasure erases the account again (retention/backup/erasures.py)."""
    if instance.kind == DataSubjectRequest.Kind.ERASURE and instance.status == DataSubjectRequest.Status.COMPLETED:
        transaction.on_commit(_retake)


@receiver(post_save, sender=RecipientNotification, dispatch_uid="retention.backup.recipient_notified")
def recipient_notified(sender: Any, instance: RecipientNotification, **kwargs: Any) -> None:
    """The DPO recorded a recipient as told (or a restore marked one again): take the key backup again once that
    commits, so a restore of a backup older than the record marks it again (retention/backup/notifications.py)."""
    if instance.notified_on is not None:
        transaction.on_commit(_retake)
