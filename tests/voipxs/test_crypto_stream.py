"""Large values (a disclosure package's files) are encrypted and decrypted in chunks: the same token layout as
encrypt_bytes, read by either side, and the same refusals (a changed byte, another key, other associated data),
the last of them only once the end is read."""
from __future__ import annotations

import io
import os

import pytest
from django.test import override_settings

from voipxs.privacy import crypto

OTHER_KEY = "b3RoZXIta2V5LW5vdC1jb25maWd1cmVkLTMyYnl0ZXM="
SIZES = [0, 1, crypto.STREAM_CHUNK - 1, crypto.STREAM_CHUNK, 2 * crypto.STREAM_CHUNK + 5]


def _read_all(token, *, aad=b"", size=7777) -> bytes:
    reader = crypto.DecryptingReader(token, aad=aad)
    parts = []
    while chunk := reader.read(size):
        parts.append(chunk)
    return b"".join(parts)


class CryptoStreamTests:
    @pytest.mark.parametrize("size", SIZES)
    def test_a_streamed_token_decrypts_with_decrypt_bytes_and_the_reader(self, size):
        data = os.urandom(size)
        token = crypto.encrypt_stream(io.BytesIO(data), size, aad=b"file")
        assert len(token) == size + 33 and (size < 16 or data[:16] not in token)
        assert crypto.decrypt_bytes(bytes(token), aad=b"file") == data
        assert _read_all(memoryview(token), aad=b"file") == data

    @pytest.mark.parametrize("size", SIZES)
    def test_the_reader_decrypts_a_token_of_encrypt_bytes(self, size):
        data = os.urandom(size)
        reader = crypto.DecryptingReader(crypto.encrypt_bytes(data, aad=b"f"), aad=b"f")
        assert reader.size == size and _read_all(crypto.encrypt_bytes(data, aad=b"f"), aad=b"f") == data

    def test_a_view_of_characters_reads_as_the_bytes_do(self):
        """psycopg2 hands out a bytea as a memoryview of format "c" (its items are bytes, not numbers)."""
        token = crypto.encrypt_bytes(b"package file", aad=b"f")
        assert crypto.decrypt_bytes(memoryview(token).cast("c"), aad=b"f") == b"package file"
        assert _read_all(memoryview(token).cast("c"), aad=b"f") == b"package file"

    @pytest.mark.parametrize("where", [17, -17, -1])  # the first byte of ciphertext, its last, the tag's last
    def test_a_changed_byte_is_refused_at_the_end_and_on_every_read_after(self, where):
        token = bytearray(crypto.encrypt_bytes(b"x" * (3 * crypto.STREAM_CHUNK), aad=b"f"))
        token[where] ^= 1
        reader = crypto.DecryptingReader(token, aad=b"f")
        for _ in range(3):
            assert len(reader.read(crypto.STREAM_CHUNK)) == crypto.STREAM_CHUNK
        for _ in range(2):
            with pytest.raises(crypto.DecryptionError):
                reader.read(1)

    def test_other_associated_data_or_another_key_is_refused(self):
        token = crypto.encrypt_stream(io.BytesIO(b"secret"), 6, aad=b"package:1:calls.csv")
        with pytest.raises(crypto.DecryptionError):
            _read_all(token, aad=b"package:2:calls.csv")
        with override_settings(FIELD_ENCRYPTION_KEYS=[OTHER_KEY]):
            with pytest.raises(crypto.DecryptionError):
                crypto.DecryptingReader(token, aad=b"package:1:calls.csv")

    def test_what_is_not_a_token_is_refused_before_any_read(self):
        for token in (b"", b"\x01" * 32, b"\x02" + bytes(40)):
            with pytest.raises(crypto.DecryptionError):
                crypto.DecryptingReader(token)

    def test_a_source_of_another_size_is_refused(self):
        with pytest.raises(crypto.CryptoError):
            crypto.encrypt_stream(io.BytesIO(b"short"), 6)
        with pytest.raises(crypto.CryptoError):
            crypto.encrypt_stream(io.BytesIO(b"longer"), 5)

    def test_it_encrypts_from_where_the_source_stands_under_the_newest_key(self, settings):
        source = io.BytesIO(b"headbody")
        source.seek(4)
        token = crypto.encrypt_stream(source, 4)
        settings.FIELD_ENCRYPTION_KEYS = [OTHER_KEY, *settings.FIELD_ENCRYPTION_KEYS]
        newer = crypto.encrypt_stream(io.BytesIO(b"body"), 4)
        assert crypto.decrypt_bytes(token) == crypto.decrypt_bytes(newer) == b"body"
        assert not crypto.needs_rotation(newer) and crypto.needs_rotation(token)
