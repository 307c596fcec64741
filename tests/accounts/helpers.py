"""Shared bits for the sign-in tests."""
from __future__ import annotations

import pytest


def totp_code(device) -> str:
    """The code an authenticator app would show now for `device` (django-otp's own TOTP)."""
    from django_otp.oath import TOTP

    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


@pytest.fixture(autouse=True)
def _fresh_cache():
    """DRF's login throttle counts in the cache; each test starts with a clean count."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
