"""Redis down, for real: the Celery app and the cache pointed at a port where nothing listens.

No mock of Celery or Redis: tasks are really published (task_always_eager off) and the publish really
fails with the broker's own error, as in production with REDIS_URL set while Redis is down. Needs no
Redis at all, so it runs on SQLite without one too. The `broker_down` fixture (tests/conftest.py)
wraps `broker_outage()`; a test that brings the broker back inside itself uses the context manager.
"""
from __future__ import annotations

import socket
from contextlib import contextmanager
from typing import Iterator

from django.test import override_settings

from voipxs.celery import app


def closed_port() -> int:
    """A port nobody listens on: bind one, read its number, close it."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pools_forget() -> None:
    # The app keeps its broker connections in kombu's pools, one per URL (kombu.pools, shared by the
    # process): forget them so the next publish takes the pool of the URL now configured. A dead URL's
    # pools are left open, never closed: kombu's registry keeps them under their URL, and a later outage
    # that draws the same free port is handed the same pool, which must still work ("Acquire on closed
    # pool" otherwise). They hold no connection: none ever succeeded.
    app._pool = None  # noqa: SLF001
    app.amqp._producer_pool = None  # noqa: SLF001


@contextmanager
def broker_outage() -> Iterator[str]:
    """Inside: the broker and the cache are a dead Redis URL and tasks go to the broker. Yields the URL."""
    url = f"redis://127.0.0.1:{closed_port()}/0"
    saved = (app.conf.broker_url, app.conf.task_always_eager)
    caches = {"default": {"BACKEND": "voipxs.cache.DegradingRedisCache", "LOCATION": url,
                          "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}}}
    _pools_forget()
    app.conf.broker_url, app.conf.task_always_eager = url, False
    try:
        with override_settings(REDIS_URL=url, CELERY_BROKER_URL=url, CACHES=caches):
            yield url
    finally:
        _pools_forget()
        app.conf.broker_url, app.conf.task_always_eager = saved
