"""`manage.py backup_create --out DIR [--keys FILE] [--replace-keys] [--keys-only]` (`make backup`).

Thin: the work is in retention/backup/ (run.py). The database and the private files go to a new
directory under DIR; the month keys go to the month-key backup FILE (BACKUP_KEYS_FILE), kept apart;
the master keys go nowhere (see retention/backup/__init__.py).
"""
from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from retention.backup.database import DatabaseBackupError
from retention.backup.keyfile import KeyFileError, month_keys_take
from retention.backup.run import BackupError, backup_create


class Command(BaseCommand):
    help = "Back up the database and the private files (encrypted); the month keys go to their own file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--out", type=Path, default=Path(settings.BASE_DIR) / "var" / "backups",
                            help="the backup goes into a new directory under this one")
        parser.add_argument("--keys", type=Path, default=None,
                            help="the month-key backup file (default: BACKUP_KEYS_FILE); replaced, never added to")
        parser.add_argument("--replace-keys", action="store_true",
                            help="replace a month-key backup of another database (after a restore into a new name)")
        parser.add_argument("--keys-only", action="store_true", help="take the month-key backup again, nothing else")

    def handle(self, *args, **options) -> None:
        keys = options["keys"] or Path(settings.BACKUP_KEYS_FILE)
        try:
            if options["keys_only"]:
                counts = month_keys_take(path=keys, replace_other=options["replace_keys"])
                self.stdout.write(f"month keys: {counts['live']} live, {counts['destroyed']} destroyed; "
                                  f"{counts['erasures']} erasures -> {keys}")
                return
            if connection.vendor == "sqlite":
                self.stdout.write("SQLite: the database file is copied (online backup API), without the month keys.")
            folder, manifest = backup_create(out=options["out"], keys=keys, replace_keys=options["replace_keys"])
        except (BackupError, DatabaseBackupError, KeyFileError, FileExistsError) as exc:
            raise CommandError(str(exc)) from exc
        mk = manifest["month_keys"]
        self.stdout.write(f"backup {folder}")
        for name, info in manifest["files"].items():
            self.stdout.write(f"  {name:<28} {info['bytes']:>12} bytes  sha256 {info['sha256']}")
        self.stdout.write(f"  private files: {manifest['private_files']['files']}")
        self.stdout.write(f"month keys ({mk['live']} live, {mk['destroyed']} destroyed) and {mk['erasures']} "
                          f"erasures -> {keys}  (keep it apart from the backup directory; it is replaced after "
                          "every purge and every erasure)")
        self.stdout.write("master keys: in no backup; keep SECRET_KEY, FIELD_ENCRYPTION_KEYS and BLIND_INDEX_KEY "
                          "in your secret store")
