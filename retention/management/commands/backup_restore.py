"""`manage.py backup_restore --from DIR [--keys FILE] [--private-dir DIR]`: restore a backup made by
`backup_create` into the configured database, which must be new and empty (PostgreSQL: `createdb`;
SQLite: a DATABASE_URL naming a file that does not exist yet).

The month keys come from the current month-key backup (BACKUP_KEYS_FILE or --keys), never from the
backup directory: a month purged after the backup was taken stays unreadable. The erasures listed in
the same file are replayed: an account erased after the backup was taken is erased again; so are the DPO's
records of recipients told (GDPR art. 19) after it. It says what
became of the audit log's head witness (restarted here, or left to the database it belongs to) and how
many sealed entries the restore lost. Thin: the work is in retention/backup/run.py.
"""
from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from retention.backup.database import DatabaseBackupError
from retention.backup.keyfile import KeyFileError, database_identity
from retention.backup.run import BackupError, backup_restore
from voipxs.privacy.audit_head import head_path
from voipxs.privacy.crypto import DecryptionError


class Command(BaseCommand):
    help = "Restore a backup into a new, empty database; month keys from the current month-key backup."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--from", dest="folder", type=Path, required=True, help="the backup's directory")
        parser.add_argument("--keys", type=Path, default=None,
                            help="the CURRENT month-key backup (default: BACKUP_KEYS_FILE), not a copy as old as the backup")
        parser.add_argument("--private-dir", type=Path, default=None,
                            help="where the private files go (default: PRIVATE_FILES_DIR); must be empty")

    def handle(self, *args, **options) -> None:
        keys = options["keys"] or Path(settings.BACKUP_KEYS_FILE)
        private_dir = options["private_dir"] or Path(settings.PRIVATE_FILES_DIR)
        try:
            done = backup_restore(folder=options["folder"], keys=keys, private_dir=private_dir)
        except (BackupError, DatabaseBackupError, KeyFileError, DecryptionError, FileExistsError) as exc:
            raise CommandError(str(exc)) from exc
        mk = done["month_keys"]
        self.stdout.write(f"restored {done['backup']} into {database_identity()}")
        self.stdout.write(f"month keys from {keys} (taken {done['keys_taken_at']}): {mk['live']} live, "
                          f"{mk['destroyed']} destroyed; months purged since the backup stay unreadable")
        erasures = done["erasures"]
        if erasures["listed"] is None:
            self.stdout.write(f"erasures: none replayed; {keys} was taken before the key backup listed erasures, "
                              "so accounts erased after the backup was taken are NOT erased again here")
        else:
            self.stdout.write(f"erasures: {erasures['replayed']} replayed (of {erasures['listed']} in {keys}; the "
                              "others are erased in the backup already or not in it)")
        told = done["recipient_notifications"]
        if told["listed"] is None:
            self.stdout.write(f"recipient notifications: none marked again; {keys} was taken before the key backup "
                              "listed them, so recipients the DPO recorded as told after the backup show as not yet "
                              "told here")
        else:
            self.stdout.write(f"recipient notifications: {told['replayed']} marked again as told (of {told['listed']} "
                              f"in {keys}; the others are marked in the backup already or not in it)")
        self.stdout.write(f"private files: {done['private_files']} into {private_dir}")
        self.stdout.write(_audit_head_said(done["audit_head"]))
        self.stdout.write("Before the app serves: manage.py migrate; manage.py purge_expired (retention catches up "
                          "with what expired since the backup); then manage.py backup_create"
                          + (" --replace-keys" if done["keys_belong_to"] != database_identity() else "")
                          + " to take this database's first backup.")


def _audit_head_said(head: dict) -> str:
    """What the restore did with the audit log's head witness, for the operator and the auditor."""
    path, restored = head_path(), head["restored_seq"]
    if head["state"] == "ours":
        lost = (f"the {head['lost']} entries sealed after the backup are lost with it (recorded in the log as "
                "part of backup.restore)" if head["lost"] else "no sealed entry was lost")
        return (f"audit log: the backup's chain ends at seq {restored}; the head witness had seen seq {head['seq']} "
                f"({head['recorded_at']}): {lost}. The head witness {path} now follows this database from seq "
                f"{head['restarted_at']}.")
    if head["state"] == "missing":
        return (f"audit log: the backup's chain ends at seq {restored}; there was no head witness at {path}: one now "
                f"follows this database from seq {head['restarted_at']}.")
    if head["state"] == "other":
        whose = f"belongs to {head['database']} (seq {head['seq']}, {head['recorded_at']})"
    else:
        whose = "does not verify (altered, or written under other keys)"
    return (f"audit log: the backup's chain ends at seq {restored}; the head witness {path} {whose} and was left as "
            "it is. If this database replaces that one, run manage.py verify_audit_log --replace-witness before the "
            "app serves: until then, a removal of the newest audit entries would go unnoticed here.")
