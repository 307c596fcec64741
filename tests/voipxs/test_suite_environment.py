"""The tests after the browser tests run as production does. Playwright's sync API keeps an event loop
running in the main thread while it is started; tests/e2e stops it when its tests are done, so the tests
after them meet no event loop, Django's async-safety check is on again, and Django keeps the thread's
connections where it can close them (a connection it lost kept the test database from being dropped)."""
from __future__ import annotations

import asyncio
import os

import pytest


def test_no_event_loop_is_left_running_in_the_main_thread():
    with pytest.raises(RuntimeError):
        asyncio.get_running_loop()


def test_djangos_async_safety_check_is_on():
    assert "DJANGO_ALLOW_ASYNC_UNSAFE" not in os.environ
