"""Fixtures shared by the accounts tests."""
from __future__ import annotations

import pytest
from django.core.cache import cache


@pytest.fixture
def ciot_dir(settings, tmp_path):
    """The CIOT file goes to a fresh directory through the default CSV adapter."""
    settings.CIOT_EXPORT_DIR = tmp_path
    settings.CIOT_ADAPTER = "accounts.ciot.adapters.CsvFileAdapter"
    return tmp_path


@pytest.fixture
def fresh_limits():
    """The rate limits' counters (in the cache) empty before and after: a test's wrong tries are its own."""
    cache.clear()
    yield
    cache.clear()
