"""Shared test world. Personas (HC-style, see tests/base.py for who may see what)."""
from __future__ import annotations

import pytest
from django.db import connection

from tests.factories import *  # noqa: F401,F403  (fixtures below use them)


def pytest_collection_modifyitems(config, items):
    """Skip what the current database or broker cannot run, with a clear reason."""
    from django.conf import settings

    engine = settings.DATABASES["default"]["ENGINE"]
    redis_url = settings.REDIS_URL
    for item in items:
        if "postgres" in item.keywords and "postgresql" not in engine:
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL=postgres://...)"))
        if "redis" in item.keywords and not redis_url:
            item.add_marker(pytest.mark.skip(reason="needs Redis and a Celery worker (set REDIS_URL=redis://...)"))


@pytest.fixture
def is_postgres() -> bool:
    return connection.vendor == "postgresql"
