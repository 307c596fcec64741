"""Files with personal data at rest (a data-subject export, a customer's call export), encrypted under a
data key of their own that the master key wraps, so a stolen PRIVATE_FILES_DIR holds nothing readable
and a file is written and read in constant memory, whatever its size.

Layout: MAGIC | u16 wrapped-key length | wrapped data key | chunks. A chunk is
u32 length | nonce (12) | AES-GCM(ciphertext+tag) of up to 1 MiB of plain text, with associated data
"<aad_prefix>:<index>:<last 0/1>", so chunks cannot be reordered, swapped between files, or the file
truncated unnoticed. `key_label` binds the wrapped key to its owner (wrap_data_key's label): the
caller names both after the record the file belongs to.

`EncryptedFileWriter` encrypts while the content is being produced, so plain text never touches the
disk (a worker killed mid-write leaves ciphertext only); `encrypt_file` encrypts a finished file.
"""
from __future__ import annotations

import os
import struct
from pathlib import Path
from typing import BinaryIO, Iterator

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from . import crypto

MAGIC = b"VXEXP1"
CHUNK = 1 << 20


def _aad(prefix: str, index: int, last: bool) -> bytes:
    return f"{prefix}:{index}:{int(last)}".encode()


class EncryptedFileWriter:
    """Write plain bytes, get an encrypted file (the layout above). A chunk is sealed only once more
    bytes follow it or the writer is closed, because the last chunk is marked as last. Use as a
    context manager: leaving without an error seals the last chunk; an error leaves the file
    unfinished (unreadable: it has no last chunk), for the caller to delete."""

    def __init__(self, target: BinaryIO, *, key_label: str, aad_prefix: str) -> None:
        key = crypto.new_data_key()
        wrapped = crypto.wrap_data_key(key, label=key_label)
        self._aes, self._prefix, self._target = AESGCM(key), aad_prefix, target
        self._pending, self._index, self.plain_size = bytearray(), 0, 0
        target.write(MAGIC + struct.pack(">H", len(wrapped)) + wrapped)

    def write(self, data: bytes) -> int:
        self._pending += data
        self.plain_size += len(data)
        while len(self._pending) > CHUNK:  # more follows this chunk, so it is not the last
            self._seal(bytes(self._pending[:CHUNK]), last=False)
            del self._pending[:CHUNK]
        return len(data)

    def close(self) -> None:
        self._seal(bytes(self._pending), last=True)
        self._pending = bytearray()

    def _seal(self, chunk: bytes, *, last: bool) -> None:
        nonce = os.urandom(12)
        body = self._aes.encrypt(nonce, chunk, _aad(self._prefix, self._index, last))
        self._target.write(struct.pack(">I", len(body)) + nonce + body)
        self._index += 1

    def __enter__(self) -> EncryptedFileWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()


def encrypt_file(plain_path: str | Path, cipher_path: str | Path, *, key_label: str, aad_prefix: str) -> None:
    """Encrypt the finished file `plain_path` into `cipher_path`."""
    with open(plain_path, "rb") as src, open(cipher_path, "wb") as dst, \
            EncryptedFileWriter(dst, key_label=key_label, aad_prefix=aad_prefix) as writer:
        for block in iter(lambda: src.read(CHUNK), b""):
            writer.write(block)


def decrypt_file(path: str | Path, *, key_label: str, aad_prefix: str) -> Iterator[bytes]:
    """The plain content, chunk by chunk (1 MiB), for a streaming download. Raises
    crypto.DecryptionError for a file that is not ours, altered, truncated or under another label."""
    with open(path, "rb") as fh:
        if fh.read(len(MAGIC)) != MAGIC:
            raise crypto.DecryptionError("not an encrypted file")
        (klen,) = struct.unpack(">H", fh.read(2))
        aes = AESGCM(crypto.unwrap_data_key(fh.read(klen), label=key_label))
        index, finished = 0, False
        while not finished:
            head = fh.read(4)
            if len(head) < 4:
                raise crypto.DecryptionError("encrypted file truncated")
            (blen,) = struct.unpack(">I", head)
            nonce, body = fh.read(12), fh.read(blen)
            if len(nonce) < 12 or len(body) < blen:
                raise crypto.DecryptionError("encrypted file truncated")
            try:
                plain = aes.decrypt(nonce, body, _aad(aad_prefix, index, False))
            except InvalidTag:  # maybe the last chunk
                try:
                    plain = aes.decrypt(nonce, body, _aad(aad_prefix, index, True))
                except InvalidTag:  # altered, or another file's chunk
                    raise crypto.DecryptionError("encrypted file altered") from None
                finished = True
            index += 1
            yield plain
