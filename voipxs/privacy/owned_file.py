"""A file kept outside the database on behalf of one database: the month-key backup
(retention/backup/keyfile.py) and the audit log's head witness (audit_head.py).

Such a file names the database it belongs to (`database_identity`: vendor and database name), so that a
process connected to another database (a trial restore beside production, a test run) can tell it is
not its own and leave it alone. It has one writer at a time (`locked`), and is replaced in one step
(`write_atomic`), so a crash leaves the old file or the new one, never half of either.
"""
from __future__ import annotations

import fcntl
import os
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from django.db import connection


def database_identity() -> str:
    """Which database a file belongs to: the vendor and the database name (not the host, which
    differs between the web host, the worker and a backup job reaching the same database)."""
    return f"{connection.vendor}:{connection.settings_dict['NAME']}"


_held = threading.local()  # the files whose lock this thread holds already (`locked`)


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """One writer at a time (flock on `<path>.lock`): each writer reads what it needs only once it holds
    the lock, so the file written last is made from the newest state. Re-entrant in the thread that holds
    it: a restore holds the key file's lock over its whole load-and-replay transaction
    (retention/backup/run.py), and the file taken again when that commits is written inside it."""
    if not hasattr(_held, "paths"):
        _held.paths = set()
    held, name = _held.paths, path.resolve()
    if name in held:
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with open(path.with_name(path.name + ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        held.add(name)
        try:
            yield
        finally:
            held.discard(name)
            fcntl.flock(lock, fcntl.LOCK_UN)


def write_atomic(path: Path, content: bytes) -> None:
    """Replace the file in one step (rename), so a crash leaves the old file or the new one, never half."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(content)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
