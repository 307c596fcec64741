"""PRIVATE_FILES_DIR in a backup: one gzip'd tar, encrypted while it is written.

Most of what waits there is encrypted already (data-subject exports, call exports), but uploaded CDR
files wait as the switch wrote them, numbers in clear, until their import reads them (and at most 30
days). So the whole tar goes through `voipxs.privacy.files.EncryptedFileWriter`: a data key of its
own, wrapped by the master key, chunks authenticated in order; plain text never touches the backup
disk. Restoring needs the master key, which no backup holds.
"""
from __future__ import annotations

import tarfile
from pathlib import Path
from typing import Iterator

from voipxs.privacy.files import EncryptedFileWriter, decrypt_file


class _ChunkReader:
    """A read()-able view of decrypted chunks, for tarfile's stream mode."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks, self._buffer = chunks, b""

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self._buffer) < size:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            self._buffer += chunk
        if size < 0:
            out, self._buffer = self._buffer, b""
        else:
            out, self._buffer = self._buffer[:size], self._buffer[size:]
        return out


def private_files_pack(*, root: Path, target: Path, label: str) -> int:
    """Write every file under `root` into the encrypted tar `target`; the number of files."""
    files = 0
    with open(target, "wb") as out, EncryptedFileWriter(out, key_label=label, aad_prefix=label) as writer:
        with tarfile.open(fileobj=writer, mode="w|gz") as tar:
            if root.exists():
                for path in sorted(root.rglob("*")):
                    if path.is_file() and not path.is_symlink():
                        tar.add(path, arcname=str(path.relative_to(root)), recursive=False)
                        files += 1
    target.chmod(0o600)
    return files


def private_files_unpack(*, source: Path, root: Path, label: str) -> int:
    """Extract the encrypted tar `source` into `root` (missing or empty). Raises
    voipxs.privacy.crypto.DecryptionError if the file was altered or is not this backup's."""
    if root.exists() and any(root.iterdir()):
        raise FileExistsError(f"{root} is not empty: restore the private files into an empty directory")
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    files = 0
    with tarfile.open(fileobj=_ChunkReader(decrypt_file(source, key_label=label, aad_prefix=label)), mode="r|gz") as tar:
        for member in tar:
            tar.extract(member, path=root, filter="data")  # no absolute paths, no "..", no devices
            files += member.isfile()
    return files
