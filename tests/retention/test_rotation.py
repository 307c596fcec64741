from __future__ import annotations

from datetime import datetime, timezone

import pytest
from django.test import override_settings

from retention.models import HeldCdr
from retention.rotation import held_cdr_rotate
from retention.selectors import held_cdr_decrypt
from voipxs.privacy import crypto
from voipxs.privacy.registry import rotators


@pytest.mark.django_db
class HeldCdrRotationTests:
    def test_it_re_encrypts_held_numbers_under_the_newest_key_and_they_still_read(self, settings):
        keys = list(settings.FIELD_ENCRYPTION_KEYS)
        with override_settings(FIELD_ENCRYPTION_KEYS=keys[::-1]):  # an "old" key first
            token = crypto.encrypt_bytes(b"+31205550101", aad=b"heldcdr:7")
        row = HeldCdr.objects.create(cdr_id=7, started_at=datetime(2026, 1, 1, tzinfo=timezone.utc), source_id=1,
                                     unique_id="u", fingerprint="f", direction="out", disposition="answered",
                                     src_enc=token, dst_enc=crypto.encrypt_bytes(b"+31699993678", aad=b"heldcdr:7"),
                                     src_index="a", dst_index="b", rating="rated")
        assert crypto.needs_rotation(token)
        assert held_cdr_rotate() == {"scanned": 1, "rotated": 1, "undecryptable": 0}
        row.refresh_from_db()
        assert not crypto.needs_rotation(bytes(row.src_enc))
        assert held_cdr_decrypt(row, "src_enc") == "+31205550101"
        assert "retention.HeldCdr" in rotators()
