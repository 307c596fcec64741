from __future__ import annotations

import hashlib
import hmac

import pytest
from django.test import override_settings

from voipxs.privacy import crypto

OTHER_KEY = "b3RoZXIta2V5LW5vdC1jb25maWd1cmVkLTMyYnl0ZXM="


class CryptoTests:
    def test_it_round_trips_text_empty_strings_and_zero(self):
        for value in ["+31205550101", "", "0", "é ü 📞"]:
            token = crypto.encrypt_str(value)
            assert len(value) < 4 or value.encode() not in token  # short values can occur by chance
            assert crypto.decrypt_str(token) == value

    def test_it_uses_a_fresh_nonce_for_every_value(self):
        assert crypto.encrypt_str("+31205550101") != crypto.encrypt_str("+31205550101")

    def test_it_refuses_ciphertext_under_an_unknown_key(self):
        token = crypto.encrypt_str("secret")
        with override_settings(FIELD_ENCRYPTION_KEYS=[OTHER_KEY]):
            with pytest.raises(crypto.DecryptionError):
                crypto.decrypt_str(token)

    def test_it_refuses_tampered_ciphertext(self):
        token = bytearray(crypto.encrypt_str("secret"))
        token[-1] ^= 1
        with pytest.raises(crypto.DecryptionError):
            crypto.decrypt_str(bytes(token))

    def test_it_refuses_to_start_without_keys(self):
        with override_settings(FIELD_ENCRYPTION_KEYS=[]):
            with pytest.raises(crypto.KeyConfigurationError):
                crypto.encrypt_str("x")

    def test_it_still_reads_old_keys_after_rotation(self, settings):
        old = crypto.encrypt_str("+31205550101")
        with override_settings(FIELD_ENCRYPTION_KEYS=[OTHER_KEY, *settings.FIELD_ENCRYPTION_KEYS]):
            assert crypto.decrypt_str(old) == "+31205550101"
            assert crypto.needs_rotation(old)
            assert not crypto.needs_rotation(crypto.encrypt_str("x"))

    def test_it_gives_equal_blind_indexes_for_equal_values_only_within_a_domain(self):
        a = crypto.blind_index("+31205550101", domain="phone")
        assert a == crypto.blind_index("+31205550101", domain="phone")
        assert a != crypto.blind_index("+31205550102", domain="phone")
        assert a != crypto.blind_index("+31205550101", domain="email")

    def test_its_blind_index_is_the_hmac_sha256_of_the_value_under_the_domains_key(self):
        # blind_indexer keys one HMAC state and copies it per value: it must agree with hmac.new.
        key = crypto._derived(b"blind-index:phone")
        indexer = crypto.blind_indexer("phone")
        for value in ["", "+31205550101", "alice", "é" * 40, "x" * 200]:
            expected = hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()
            assert indexer(value) == crypto.blind_index(value, domain="phone") == expected

    def test_it_shreds_a_month_when_its_data_key_is_gone(self):
        key = crypto.new_data_key()
        token = crypto.DataKeyCipher(key).encrypt("+31205550101")
        assert crypto.DataKeyCipher(key).decrypt(token) == "+31205550101"
        with pytest.raises(crypto.DecryptionError):
            crypto.DataKeyCipher(crypto.new_data_key()).decrypt(token)

    def test_it_binds_a_wrapped_key_to_its_label(self):
        key = crypto.new_data_key()
        wrapped = crypto.wrap_data_key(key, label="cdr:2026-05")
        assert crypto.unwrap_data_key(wrapped, label="cdr:2026-05") == key
        with pytest.raises(crypto.DecryptionError):
            crypto.unwrap_data_key(wrapped, label="cdr:2026-06")
