from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from django.db import transaction

from traffic import keys
from traffic.models import MonthKey


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("audit_log_flushable")
class MonthKeyCacheTests:
    def test_a_key_from_a_rolled_back_transaction_is_never_used_again(self):
        month = date(2026, 2, 1)

        class Boom(Exception):
            pass

        with pytest.raises(Boom), transaction.atomic():
            lost = keys.month_cipher(month, create=True)
            raise Boom
        assert not MonthKey.objects.filter(month=month).exists()
        kept = keys.month_cipher(month, create=True)
        token = kept.encrypt("+31205550101")
        with pytest.raises(keys.crypto.DecryptionError):
            lost.decrypt(token)
        assert keys.month_cipher(month).decrypt(token) == "+31205550101"

    def test_a_committed_key_is_cached(self):
        month = date(2026, 3, 1)
        with transaction.atomic():
            keys.month_cipher(month, create=True)
        keys.month_cipher(month)
        assert month in keys._cache

    def test_a_destroyed_month_refuses_to_decrypt(self):
        month = date(2026, 4, 1)
        token = keys.month_cipher(month, create=True).encrypt("+31205550101")
        keys.month_key_destroy(month=month)
        with pytest.raises(keys.MonthKeyDestroyed):
            keys.decrypt_number(token, started_at=datetime(2026, 4, 2, tzinfo=timezone.utc))
