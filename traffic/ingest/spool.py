"""An import's file on disk, and its SHA-256: imports read a file twice (hash, then parse), so an
upload or a stream is first copied to a private temporary file."""
from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import IO


def spool_stream(stream: IO[bytes], directory: Path | None = None) -> tuple[Path, str]:
    """Copy a stream to a private temporary file (mode 0600); returns its path and SHA-256."""
    directory = directory or Path(tempfile.gettempdir())
    directory.mkdir(parents=True, exist_ok=True)
    handle = tempfile.NamedTemporaryFile(prefix="cdr-", dir=directory, delete=False)
    digest = hashlib.sha256()
    with handle:
        while chunk := stream.read(1 << 20):
            if isinstance(chunk, str):
                chunk = chunk.encode("utf-8")
            digest.update(chunk)
            handle.write(chunk)
    os.chmod(handle.name, 0o600)
    return Path(handle.name), digest.hexdigest()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()
