"""Fixtures of the backup tests (test_backup_restore.py, test_erasure_restore.py): where a backup and its key
file go, a committed test's clean-up, a new database to restore into. Their helpers: backup_helpers.py."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.db import connection

from tests.retention.backup_helpers import RAW_UPLOAD, database_url


@pytest.fixture
def committed(audit_log_flushable, partitions_restored):
    """A transaction=True test commits DDL and audit entries: both are cleaned up after it."""
    yield


@pytest.fixture
def places(tmp_path, settings):
    settings.PRIVATE_FILES_DIR = tmp_path / "private"
    settings.BACKUP_KEYS_FILE = tmp_path / "keys" / "month-keys.enc"
    upload = tmp_path / "private" / "imports" / "upload-1"
    upload.parent.mkdir(parents=True)
    upload.write_text(RAW_UPLOAD)
    return SimpleNamespace(out=tmp_path / "backups", keys=tmp_path / "keys" / "month-keys.enc",
                           private=tmp_path / "private", restored_private=tmp_path / "restored-private")


def _restored_postgres(suffix: str = "restored"):
    name = f"{connection.settings_dict['NAME']}_{suffix}"
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    return name


def _restored_drop(name: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def restored_db(tmp_path):
    """A new, empty database to restore into, by name: on PostgreSQL a new database beside the test's, on SQLite a
    file that does not exist yet (in_restored makes either a DATABASE_URL)."""
    if connection.vendor != "postgresql":
        yield str(tmp_path / "restored.sqlite3")
        return
    name = _restored_postgres()
    yield name
    _restored_drop(name)


@pytest.fixture
def restored_url(tmp_path):
    """A new, empty database to restore into, as a DATABASE_URL: on PostgreSQL a new database beside the test's,
    on SQLite a file that does not exist yet."""
    if connection.vendor != "postgresql":
        yield f"sqlite:///{tmp_path / 'restored.sqlite3'}"
        return
    name = _restored_postgres()
    yield database_url(name)
    _restored_drop(name)


@pytest.fixture
def second_restored_url(tmp_path):
    """Another new, empty database, for a test that restores twice (one backup, then another)."""
    if connection.vendor != "postgresql":
        yield f"sqlite:///{tmp_path / 'restored-2.sqlite3'}"
        return
    name = _restored_postgres("restored_2")
    yield database_url(name)
    _restored_drop(name)
