"""A whole backup and a whole restore, and the manifest that ties a backup's files together.

`backup_create` writes, in this order: the database (without month keys), the private files, the
month-key backup, and last the manifest. The month-key backup comes AFTER the dump, so it holds a key
for every month the dump has calls of (a key made after the dump is an extra, harmless), every
key destroyed after the dump as destroyed, and every erasure done after the dump. A directory
without a manifest is an unfinished backup: `backup_restore` refuses it.

The manifest lists each file's SHA-256 and size, the migrations the database had, and where the
month keys went (never the keys). It carries a seal: its own SHA-256 encrypted under the master key
(AES-GCM authenticates it), so a restore knows the manifest, and through its sums the files, were
written by whoever holds the master key.

`backup_restore` checks the seal and the sums, restores the database into an empty one, loads the
month keys from the CURRENT month-key backup (not from anything of the same age as the dump: a month
purged since is destroyed there), unpacks the private files, replays from the key file the erasures
done since the dump (erasures.py: they delete the person's files among those too) and the DPO's records
of recipients told since (notifications.py), and records the restore in the audit log. The keys, the
replays and the restore's audit entry are one transaction, under the key file's lock: nothing retakes
the file before the replayed erasures are in the database, and a restore that fails there leaves no
month keys in the restored database (it cannot serve; restore again into a new one).

The restored audit chain ends where the backup's did, legitimately before the head witness
(voipxs/privacy/audit_head.py) of the database it replaces: the entries sealed after the backup are lost
with it. The restore records that span (the witness's seq and time, the restored chain's end) in its own
audit entry and, when it restores into the database the witness follows (the same name; or there is no
witness yet), seals and restarts the witness at the restored head, so it raises no false alarm. A witness
of another database (a trial restore beside production) or one that does not verify is left as it is;
`verify_audit_log --replace-witness` takes it over once the restored database replaces the other.
"""
from __future__ import annotations

import hashlib
import json
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from django.conf import settings
from django.db import connection, transaction
from django.db.migrations.recorder import MigrationRecorder
from django.utils.timezone import now

from voipxs.privacy import crypto
from voipxs.privacy.audit import audit_record, audit_seal_all
from voipxs.privacy.audit_head import HeadWitnessError, HeadWitnessMissing, audit_head_read, audit_head_restart
from voipxs.privacy.audit_head import chain_head, head_path
from voipxs.privacy.owned_file import locked
from voipxs.privacy.purposes import Purpose

from .archive import private_files_pack, private_files_unpack
from .database import database_dump, database_is_empty, database_restore, dump_file_name
from .erasures import erasures_replay
from .keyfile import database_identity, month_keys_load, month_keys_read, month_keys_take
from .notifications import recipient_notifications_replay

MANIFEST = "manifest.json"
PRIVATE_FILES = "private-files.tar.gz.enc"
FORMAT = 1
_SEAL_AAD = b"voipxs:backup-manifest"


class BackupError(Exception):
    """A backup or a restore refused or failed; the message says why."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _canonical(manifest: dict[str, Any]) -> bytes:
    return json.dumps({k: v for k, v in manifest.items() if k != "seal"}, sort_keys=True).encode()


def _inside(path: Path, folder: Path) -> bool:
    return path.resolve().is_relative_to(folder.resolve())


def _check_places(*, folder: Path, keys: Path) -> None:
    """Keys never next to the dump, never inside the private files the backup packs."""
    private = Path(settings.PRIVATE_FILES_DIR)
    if _inside(keys, folder.parent) or _inside(folder, private) or _inside(keys, private):
        raise BackupError(f"keep them apart: the month-key backup ({keys}) may not be inside the backup directory "
                          f"({folder.parent}), and neither may be inside PRIVATE_FILES_DIR ({private})")


def _migrations() -> dict[str, str]:
    latest: dict[str, str] = {}
    for app, name in MigrationRecorder.Migration.objects.order_by("app", "name").values_list("app", "name"):
        latest[app] = name
    return latest


def backup_create(*, out: Path, keys: Path, replace_keys: bool = False) -> tuple[Path, dict[str, Any]]:
    """One backup under `out`/voipxs-<UTC time>/, month keys into `keys`. Returns the folder and manifest."""
    started = now()
    name = f"voipxs-{started:%Y%m%dT%H%M%SZ}"
    folder = out / name
    _check_places(folder=folder, keys=keys)
    if connection.in_atomic_block:
        # pg_dump (another session) would wait for the locks this transaction holds, and SQLite's copy
        # cannot run inside one: a backup is taken from committed data only.
        raise BackupError("a backup runs outside any transaction (it copies what is committed)")
    folder.mkdir(parents=True, mode=0o700)
    database = dump_file_name()
    database_dump(target=folder / database)
    label = f"backup:{name}:private-files"
    private = private_files_pack(root=Path(settings.PRIVATE_FILES_DIR), target=folder / PRIVATE_FILES, label=label)
    key_counts = month_keys_take(path=keys, replace_other=replace_keys)  # after the dump: see the docstring
    manifest: dict[str, Any] = {
        "format": FORMAT, "name": name, "created_at": started.isoformat(), "finished_at": now().isoformat(),
        "database": {"vendor": connection.vendor, "file": database, "without_rows_of": ["traffic_monthkey"]},
        "private_files": {"file": PRIVATE_FILES, "files": private, "key_label": label},
        "month_keys": {"kept_in": str(keys.resolve()), **key_counts,
                       "note": "not in this directory; a restore loads the current month-key backup"},
        "migrations": _migrations(),
        "files": {f: {"sha256": _sha256(folder / f), "bytes": (folder / f).stat().st_size} for f in (database, PRIVATE_FILES)},
    }
    manifest["seal"] = crypto.encrypt_bytes(hashlib.sha256(_canonical(manifest)).digest(), aad=_SEAL_AAD).hex()
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2))
    (folder / MANIFEST).chmod(0o600)
    return folder, manifest


def manifest_verify(folder: Path) -> dict[str, Any]:
    """The manifest of a finished, intact backup made under our master key; BackupError otherwise."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except FileNotFoundError as exc:
        raise BackupError(f"{folder} has no {MANIFEST}: not a backup, or an unfinished one") from exc
    try:
        sealed = crypto.decrypt_bytes(bytes.fromhex(manifest.get("seal", "")), aad=_SEAL_AAD)
    except (ValueError, crypto.DecryptionError) as exc:
        raise BackupError("the manifest's seal does not verify with the configured FIELD_ENCRYPTION_KEYS") from exc
    if sealed != hashlib.sha256(_canonical(manifest)).digest():
        raise BackupError("the manifest was altered after the backup was made")
    for name, expected in manifest["files"].items():
        path = folder / name
        if not path.exists() or path.stat().st_size != expected["bytes"] or _sha256(path) != expected["sha256"]:
            raise BackupError(f"{name} is missing or does not match its SHA-256 in the manifest")
    return manifest


@contextmanager
def _private_files_at(path: Path) -> Iterator[None]:
    """PRIVATE_FILES_DIR is the restored one (`--private-dir`) while the restore's erasures are replayed."""
    configured = settings.PRIVATE_FILES_DIR
    settings.PRIVATE_FILES_DIR = path
    try:
        yield
    finally:
        settings.PRIVATE_FILES_DIR = configured


def _audit_head_before() -> dict[str, Any]:
    """The head witness against the restored chain: whose it is, how far it had seen the chain, and how many
    sealed entries the restore loses (seqs, times and database names only)."""
    restored = chain_head()[0]
    try:
        witness = audit_head_read(head_path())
    except HeadWitnessMissing:
        return {"state": "missing", "restored_seq": restored}
    except HeadWitnessError:
        return {"state": "unverified", "restored_seq": restored}
    ours = witness.database == database_identity()
    return {"state": "ours" if ours else "other", "database": witness.database, "seq": witness.seq,
            "recorded_at": witness.recorded_at, "restored_seq": restored,
            "lost": max(witness.seq - restored, 0) if ours else None}


def _audit_head_after(head: dict[str, Any], *, backup: str) -> dict[str, Any]:
    """Restart the witness here if it follows this database (or there is none); leave any other alone."""
    audit_seal_all()  # the restore's own entry is in the chain the witness starts from
    if head["state"] not in {"ours", "missing"}:
        return {**head, "restarted_at": None}
    _, new = audit_head_restart(started_by=f"backup_restore {backup}")
    return {**head, "restarted_at": new.seq}


def backup_restore(*, folder: Path, keys: Path, private_dir: Path) -> dict[str, Any]:
    """Restore the backup in `folder` into the configured (empty) database and `private_dir` (empty),
    with the month keys of the key file `keys`. Returns what was restored (counts)."""
    manifest = manifest_verify(folder)
    if manifest["database"]["vendor"] != connection.vendor:
        raise BackupError(f"a {manifest['database']['vendor']} backup cannot go into {connection.vendor}")
    key_data = month_keys_read(keys)  # before anything is written: no restore without the key backup
    if not database_is_empty():
        raise BackupError("the database is not empty: restore into a new, empty database (createdb NAME)")
    if private_dir.exists() and any(private_dir.iterdir()):
        raise BackupError(f"{private_dir} is not empty: restore the private files into an empty directory")
    database_restore(source=folder / manifest["database"]["file"])
    # The private files before the erasures are replayed: an erasure deletes the person's export files, so they
    # must be there to be deleted, where the erasure looks for them (PRIVATE_FILES_DIR).
    files = private_files_unpack(source=folder / manifest["private_files"]["file"], root=private_dir,
                                 label=manifest["private_files"]["key_label"])
    head = _audit_head_before()
    with _private_files_at(private_dir), locked(keys), transaction.atomic():
        key_counts = month_keys_load(key_data)
        erasures = erasures_replay(key_data.get("erasures"), backup=manifest["name"])
        # After the erasures: a replayed erasure's recipients are listed again first, then marked as told.
        told = recipient_notifications_replay(key_data.get("recipient_notifications"), backup=manifest["name"])
        audit_record(actor=None, action="backup.restore", purpose=Purpose.SECURITY, target_type="backup",
                     target_id=manifest["name"],
                     extra={"month_keys_live": key_counts["live"], "month_keys_destroyed": key_counts["destroyed"],
                            "erasures_replayed": erasures["replayed"],
                            "recipient_notifications_replayed": told["replayed"], "audit_head": head})
    head = _audit_head_after(head, backup=manifest["name"])
    return {"backup": manifest["name"], "month_keys": key_counts, "erasures": erasures,
            "recipient_notifications": told, "private_files": files,
            "keys_belong_to": key_data["database"], "keys_taken_at": key_data["taken_at"], "audit_head": head}
