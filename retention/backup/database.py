"""The database part of a backup: everything except the rows of the month-key table.

PostgreSQL: `pg_dump --format=custom --exclude-table-data=traffic_monthkey` (the table itself is
dumped, empty), restored with `pg_restore` into an empty database. The client binaries are the
machine's: those of the server's major version under /usr/lib/postgresql/<major>/bin when present,
otherwise the first on PATH; a pg_dump older than the server is refused. The password travels in the
environment (PGPASSWORD), never on a command line.

SQLite (the development setup): no dump tool; the file is copied with SQLite's online backup API, the
month-key rows are deleted from the copy with secure_delete on and the copy is VACUUMed, so no freed
page keeps a key's bytes. Restoring copies the file back to an unused DATABASE_URL path.

Why the month keys stay out: see retention/backup/keyfile.py.
"""
from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess  # nosec B404: runs pg_dump/pg_restore with argument lists, never a shell
from pathlib import Path

from django.db import connection

from traffic.models import MonthKey

KEY_TABLE = MonthKey._meta.db_table


class DatabaseBackupError(Exception):
    """The dump or the restore could not be made; the message says why."""


def dump_file_name() -> str:
    return "database.dump" if connection.vendor == "postgresql" else "database.sqlite3"


def _pg_env() -> dict[str, str]:
    s = connection.settings_dict
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    for var, value in (("PGHOST", s.get("HOST")), ("PGPORT", s.get("PORT")), ("PGUSER", s.get("USER")),
                       ("PGPASSWORD", s.get("PASSWORD")), ("PGDATABASE", s.get("NAME"))):
        if value:
            env[var] = str(value)
    return env


def _server_major() -> int:
    connection.ensure_connection()
    return connection.pg_version // 10000


def pg_binary(name: str) -> str:
    """The client tool `name` of the server's major version (or newer, from PATH)."""
    major = _server_major()
    candidate = Path(f"/usr/lib/postgresql/{major}/bin/{name}")
    found = str(candidate) if candidate.exists() else shutil.which(name)
    if found is None:
        raise DatabaseBackupError(f"{name} not found: install the PostgreSQL {major} client (postgresql-client-{major})")
    version = subprocess.run([found, "--version"], capture_output=True, text=True, check=True).stdout  # nosec B603
    client_major = int(version.split()[-1].split(".")[0])
    if client_major < major:
        raise DatabaseBackupError(f"{found} is version {client_major}, older than the server ({major})")
    return found


def _run(args: list[str]) -> None:
    result = subprocess.run(args, env=_pg_env(), capture_output=True, text=True, check=False)  # nosec B603
    if result.returncode != 0:
        raise DatabaseBackupError(f"{Path(args[0]).name} failed (exit {result.returncode}): {result.stderr.strip()[-2000:]}")


def database_dump(*, target: Path) -> None:
    """Write the database, without the month keys' rows, to `target` (see `dump_file_name`)."""
    if connection.vendor == "postgresql":
        _run([pg_binary("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
              f"--exclude-table-data={KEY_TABLE}", f"--file={target}", connection.settings_dict["NAME"]])
    elif connection.vendor == "sqlite":
        _sqlite_copy(target)
    else:
        raise DatabaseBackupError(f"no backup for the {connection.vendor} backend")
    os.chmod(target, 0o600)


def _sqlite_copy(target: Path) -> None:
    connection.ensure_connection()
    copy = sqlite3.connect(target)
    try:
        connection.connection.backup(copy)
        copy.execute("PRAGMA secure_delete = ON")
        copy.execute(f'DELETE FROM "{KEY_TABLE}"')  # nosec B608: our own table name
        copy.commit()
        copy.execute("VACUUM")
    finally:
        copy.close()


def database_is_empty() -> bool:
    """True when the configured database has no table yet (a restore goes only into such a one)."""
    if connection.vendor == "sqlite":
        name = str(connection.settings_dict["NAME"])
        return not Path(name).exists() or Path(name).stat().st_size == 0
    return connection.introspection.table_names() == []


def database_restore(*, source: Path) -> None:
    """Load a dump made by `database_dump` into the configured database, which must be empty."""
    if connection.vendor == "postgresql":
        _run([pg_binary("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
              f"--dbname={connection.settings_dict['NAME']}", str(source)])
    elif connection.vendor == "sqlite":
        name = str(connection.settings_dict["NAME"])
        if name.startswith("file:") or name == ":memory:":
            raise DatabaseBackupError("restore into an SQLite file: set DATABASE_URL=sqlite:////path/to/new.sqlite3")
        connection.close()
        shutil.copyfile(source, name)
        os.chmod(name, 0o600)
    else:
        raise DatabaseBackupError(f"no restore for the {connection.vendor} backend")
