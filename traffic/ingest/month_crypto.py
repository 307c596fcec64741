"""Per-month encryption for the CDR write path: one month's data key, with nonces drawn in blocks.

A row carries up to four encrypted values (numbers, caller name, technical payload) and AES-GCM needs
a fresh nonce for each; drawing them from os.urandom one by one was a syscall per value. MonthCrypto
draws 4096 at a time and calls the AESGCM object directly. The bytes are laid out exactly as
voipxs.privacy.crypto.DataKeyCipher lays them out (VERSION | key id | nonce | ciphertext), so the
month's cipher (traffic.keys.month_cipher) decrypts them like any other.
"""
from __future__ import annotations

import os
from datetime import date

from .. import keys
from ..models import MonthKey


class MonthCrypto:
    """AES-GCM under one month's data key (RowBuilder keeps one per month for the whole write)."""

    __slots__ = ("_encrypt", "_prefix", "_pool", "_pos")

    def __init__(self, month: date) -> None:
        cipher = keys.month_cipher(month, create=True)
        if not MonthKey.objects.filter(month=month, wrapped_key__isnull=False).exists():
            # keys.month_cipher caches per process; a key made inside a transaction that was rolled
            # back would still be cached, and rows encrypted under it could never be read again.
            keys.month_key_forget(month=month)
            cipher = keys.month_cipher(month, create=True)
        self._encrypt, self._prefix = cipher.bulk_parts()  # VERSION | kid, then nonce | ciphertext
        self._pool = b""
        self._pos = 0

    @classmethod
    def of_cipher(cls, cipher: "keys.crypto.DataKeyCipher") -> "MonthCrypto":
        """One over a cipher already at hand (a preparing process, traffic.ingest.parallel): no query."""
        self = cls.__new__(cls)
        self._encrypt, self._prefix = cipher.bulk_parts()
        self._pool, self._pos = b"", 0
        return self

    def nonces_forget(self) -> None:
        """Drop the nonces drawn so far: a forked process must never use the ones its parent drew
        (AES-GCM under one key with one nonce twice leaks both plaintexts)."""
        self._pool, self._pos = b"", 0

    def encrypt_row(self, src: bytes, dst: bytes, name: bytes | None, tech: bytes | None) -> tuple:
        """The four values of one CDR, each under its own fresh nonce (one pool check per row)."""
        pos, pool = self._pos, self._pool
        if pos + 48 > len(pool):
            pool = self._pool = os.urandom(12 * 4096)
            pos = 0
        self._pos = pos + 48
        enc, prefix = self._encrypt, self._prefix
        n1, n2 = pool[pos:pos + 12], pool[pos + 12:pos + 24]
        n3, n4 = pool[pos + 24:pos + 36], pool[pos + 36:pos + 48]
        return (
            prefix + n1 + enc(n1, src, None),
            prefix + n2 + enc(n2, dst, None),
            None if name is None else prefix + n3 + enc(n3, name, None),
            None if tech is None else prefix + n4 + enc(n4, tech, None),
        )
