"""Fixtures shared by the accounts tests."""
from __future__ import annotations

import pytest


@pytest.fixture
def ciot_dir(settings, tmp_path):
    """The CIOT file goes to a fresh directory through the default CSV adapter."""
    settings.CIOT_EXPORT_DIR = tmp_path
    settings.CIOT_ADAPTER = "accounts.ciot.adapters.CsvFileAdapter"
    return tmp_path
