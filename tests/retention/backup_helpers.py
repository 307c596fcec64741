"""What the backup tests share (test_backup_restore.py, test_erasure_restore.py): taking a backup, reading its
key file, and fresh processes on a restored database. Their fixtures are in tests/retention/conftest.py."""
from __future__ import annotations

import os
import subprocess
import sys
from io import StringIO
from pathlib import Path
from urllib.parse import quote

from django.core.management import call_command
from django.db import connection

from retention.backup import keyfile

ROOT = Path(__file__).resolve().parents[2]
RAW_UPLOAD = "uniqueid,src,dst\nraw-1,+31205550101,+31699993678\n"  # a raw CDR file waits as the switch wrote it


def take_backup(places, *, out: Path | None = None, **options) -> Path:
    out = out or places.out
    call_command("backup_create", out=out, keys=places.keys, stdout=StringIO(), **options)
    [folder] = list(out.iterdir())
    return folder


def key_file_months(path: Path) -> dict[str, str]:
    data = keyfile.month_keys_read(path)
    return {m["month"][:7]: "live" if m["wrapped_key"] else "destroyed" for m in data["months"]}


def database_url(name: str) -> str:
    s = connection.settings_dict
    return (f"postgres://{quote(s['USER'] or '')}:{quote(s['PASSWORD'] or '')}"
            f"@{s['HOST'] or 'localhost'}:{s['PORT'] or 5432}/{name}")


def in_restored(db: str, *args: str) -> subprocess.CompletedProcess:
    """A fresh process on the restored database, as the operator's shell and the restarted app are. `db`: a
    DATABASE_URL (`restored_url`), or a database's name (`restored_db`: on SQLite a file's path)."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(DJANGO_SETTINGS_MODULE="voipxs.settings_test", DATABASE_URL=db if "://" in db else database_url(db))
    if "://" not in db and connection.vendor == "sqlite":
        env["DATABASE_URL"] = f"sqlite:///{db}"
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300, check=False)
